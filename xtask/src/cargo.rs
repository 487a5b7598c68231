//! Runs cargo for the test and lint commands with one feature set and one compiler for the
//! workspace's crates (clippy's), so that a CI run compiles Burn once, for lint and test
//! alike, never more.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use anyhow::{Context, Result, bail};

use crate::libtorch;

/// The targets the tests build: libraries, binaries and test suites. Not the examples,
/// which `cargo xtask lint` type-checks (`--all-targets`) and nothing runs: linking each
/// of them against Burn would be a large share of a CI run's test build.
const TEST_TARGETS: [&str; 3] = ["--lib", "--bins", "--tests"];

/// `cargo test` over the workspace on every backend this machine can build: the test
/// targets, then the documentation examples (cargo runs those in a second invocation);
/// with `slow`, the slow tier instead: the ignored tests, each ignored with the reason
/// "slow tier".
pub fn test(slow: bool, rest: &[String]) -> Result<()> {
    let mut failed = Vec::new();
    let tiers: &[&[&str]] = if slow {
        &[&TEST_TARGETS]
    } else {
        &[&TEST_TARGETS, &["--doc"]]
    };
    for targets in tiers {
        let mut cmd = cargo_with_backends("test")?;
        cmd.args(["--workspace", "--no-fail-fast"]).args(*targets);
        cmd.arg("--").args(slow.then_some("--ignored")).args(rest);
        if let Err(error) = run(cmd) {
            failed.push(error.to_string());
        }
    }
    if !failed.is_empty() {
        bail!("{}", failed.join("\n"));
    }
    Ok(())
}

/// `cargo test --workspace --no-run` with the test features and targets: builds the
/// experiment runner exactly as the tests do, so Burn is not compiled a second time.
pub fn build() -> Result<()> {
    build_with(false)
}

/// [`build`], with cargo's `--timings` report if `timings`.
pub fn build_with(timings: bool) -> Result<()> {
    let mut cmd = cargo_with_backends("test")?;
    cmd.args(["--workspace", "--no-run"]).args(TEST_TARGETS);
    cmd.args(timings.then_some("--timings"));
    run(cmd)
}

/// Installs the `sprig` command: the binary the tests build (`cargo test --no-run` with
/// the test features, which compiles nothing once the tests have been built), copied to
/// `root/bin` (default: cargo's, `$CARGO_HOME` or `~/.cargo`). Not `cargo install`: it
/// resolves the dependencies' features for the command alone, so Burn would be compiled
/// a second time with other features.
pub fn install(root: Option<&Path>) -> Result<()> {
    build()?;
    let built = test_build_binary("sprig");
    let name = built
        .file_name()
        .context("the binary's path has no file name")?;
    let root = match root {
        Some(root) => root.to_path_buf(),
        None => cargo_home()?,
    };
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("creating {}", bin.display()))?;
    let installed = bin.join(name);
    std::fs::copy(&built, &installed).with_context(|| {
        format!(
            "copying {} (built by the tests) to {}",
            built.display(),
            installed.display()
        )
    })?;
    eprintln!("xtask: installed {}", installed.display());
    Ok(())
}

/// The binary `name` as [`build`] makes it: in the debug folder of `$CARGO_TARGET_DIR`,
/// else of the workspace's `target`.
pub fn test_build_binary(name: &str) -> PathBuf {
    let root = libtorch::workspace_root();
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), |d| root.join(d));
    target
        .join("debug")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

/// Cargo's home: `$CARGO_HOME`, else `~/.cargo`.
fn cargo_home() -> Result<PathBuf> {
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        return Ok(PathBuf::from(home));
    }
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".cargo"))
        .context("neither CARGO_HOME nor HOME is set: pass --root")
}

/// Clippy over every target of the workspace, warnings denied: the test build (examples
/// and benches too) with clippy as the compiler of the workspace's crates. `cargo clippy`
/// would type-check every dependency a second time in check mode (Burn, LibTorch's
/// bindings, tract: most of a cold CI run), while this build is the one `test` reuses.
pub fn lint() -> Result<()> {
    let mut cmd = cargo_with_backends("test")?;
    cmd.args(["--workspace", "--no-run", "--all-targets"]);
    run(cmd)?;
    no_std()
}

/// Starts the build of the lint step's targets (see [`lint`]) before LibTorch is there,
/// with `libtorch` the folder `setup-libtorch` is about to fill: with `--keep-going`, every
/// unit that does not depend on torch-sys (burn-flex, burn-ndarray, tract: most of a cold
/// build) compiles meanwhile, with the features and settings the lint step then finds
/// already built; torch-sys's build script fails for want of the headers if it runs before
/// the folder is renamed into place, and succeeds if after. Its output goes to `log`.
pub fn start_build_before_libtorch(libtorch: &Path, log: &Path) -> Result<Child> {
    // `cargo build` of the same targets: `cargo test` has no `--keep-going`, and the
    // dependencies are the same units under either command.
    let mut cmd = cargo_with_backends_at("build", Some(libtorch));
    cmd.args(["--workspace", "--all-targets", "--keep-going"]);
    let file = std::fs::File::create(log).with_context(|| format!("creating {}", log.display()))?;
    cmd.stdout(file.try_clone()?).stderr(file);
    cmd.spawn()
        .with_context(|| format!("could not start {cmd:?}"))
}

/// A target without `std`: building the sparse runtime for it proves the crate (and its
/// dependencies) need only `core` and `alloc`.
const NO_STD_TARGET: &str = "thumbv7em-none-eabihf";

/// Builds `sprig-runtime` for a microcontroller target when that target is installed
/// (`rustup target add thumbv7em-none-eabihf`; CI installs it).
fn no_std() -> Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .any(|l| l.trim() == NO_STD_TARGET)
        })
        .unwrap_or(false);
    if !installed {
        eprintln!(
            "xtask: target {NO_STD_TARGET} not installed: skipping the no_std build of sprig-runtime"
        );
        return Ok(());
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(libtorch::workspace_root()).args([
        "build",
        "-p",
        "sprig-runtime",
        "--no-default-features",
        "--target",
        NO_STD_TARGET,
    ]);
    run(cmd)
}

/// A cargo command with the backend features of `sprig-backend` this machine supports:
/// flex (default) and ndarray always, tch when a LibTorch folder is available; and tract,
/// which the ONNX export's tests run its files with.
pub fn cargo_with_backends(subcommand: &str) -> Result<Command> {
    Ok(cargo_with_backends_at(
        subcommand,
        libtorch::find()?.as_deref(),
    ))
}

/// [`cargo_with_backends`] with tch built against the LibTorch folder `libtorch`, if any.
fn cargo_with_backends_at(subcommand: &str, libtorch: Option<&Path>) -> Command {
    let mut features = vec!["sprig-backend/ndarray", "sprig-export/tract"];
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.arg(subcommand).current_dir(libtorch::workspace_root());
    with_clippy(&mut cmd);
    if let Some(dir) = libtorch {
        features.push("sprig-backend/tch");
        for (key, value) in libtorch::env(dir) {
            cmd.env(key, value);
        }
        eprintln!("xtask: LibTorch at {}: testing tch-cpu too", dir.display());
    } else {
        eprintln!(
            "xtask: no LibTorch (run `cargo xtask setup-libtorch` or set LIBTORCH): skipping tch"
        );
    }
    cmd.args(["--features", &features.join(",")]);
    cmd
}

/// Clippy's lints (warnings denied) in every compilation of the workspace's own crates, as
/// `cargo clippy` runs them (its driver as `RUSTC_WORKSPACE_WRAPPER`, its arguments in
/// `CLIPPY_ARGS`) but in the build that tests and runs them: dependencies are compiled once,
/// and a lint fails the test build as it fails `lint`. The same settings in every command, so
/// that cargo never recompiles the workspace for a different compiler.
fn with_clippy(cmd: &mut Command) {
    cmd.env("RUSTC_WORKSPACE_WRAPPER", "clippy-driver").env(
        "CLIPPY_ARGS",
        "-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__",
    );
}

pub fn run(mut cmd: Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("could not start {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

/// The short hash of the checked-out commit, or `unknown`.
pub fn commit(root: &std::path::Path) -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".into(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_string(),
        )
}

/// The environment every runner binary gets: LibTorch's libraries when present, and
/// criterion's folder (the edge and backends tables read its estimates there).
pub fn runner_env(cmd: &mut Command, root: &std::path::Path) -> Result<()> {
    cmd.envs(runner_env_vars(root)?);
    Ok(())
}

/// The variables of [`runner_env`], for a batch script to export.
pub fn runner_env_vars(root: &std::path::Path) -> Result<Vec<(String, String)>> {
    let mut vars = Vec::new();
    if let Some(dir) = libtorch::find()? {
        vars.extend(
            libtorch::env(&dir)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v)),
        );
    }
    vars.push((
        "CRITERION_HOME".into(),
        root.join("target/criterion").display().to_string(),
    ));
    Ok(vars)
}
