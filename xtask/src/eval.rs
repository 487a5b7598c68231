//! `cargo xtask eval DOMAIN`: builds the experiment runner with the same features as the
//! tests (so Burn is not compiled again) and runs a suite, writing `docs/results/`.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, libtorch};

/// Arguments of `cargo xtask eval`.
#[derive(Debug, clap::Args)]
pub struct EvalArgs {
    /// `vision`, `text`, `audio`, or `edge` (exported tickets: bytes, latency,
    /// accuracy).
    domain: String,
    /// One seed, small budgets: the CI smoke run (writes `DOMAIN-quick.*`).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// Every architecture and more budgets (hours on a CPU; writes `DOMAIN-full.*`).
    #[arg(long)]
    full: bool,
    /// Backend for every run (`flex`, `ndarray`, `tch-cpu`); default: the domain's
    /// (`tch-cpu` for audio, whose convolutions it runs 2.4× faster, else `flex`).
    #[arg(long)]
    backend: Option<String>,
    /// Data folder (default: $SPRIG_DATA, then ./data).
    #[arg(long)]
    data_dir: Option<String>,
    /// Where run folders go (default: $SPRIG_RUNS, then target/sprig-runs). A finished
    /// run found there is reused, so a folder outside the work tree lets a long table be
    /// completed across several sittings, even after `cargo clean`.
    #[arg(long, env = "SPRIG_RUNS")]
    runs: Option<String>,
}

/// Builds and runs `sprig-experiments eval`.
pub fn run(args: &EvalArgs) -> Result<()> {
    // The test build (which builds the runner binary for its integration tests) has the
    // feature set of `cargo xtask test`: after a test run nothing is compiled again, where
    // `cargo build --bins` would resolve Burn's features differently and rebuild it.
    cargo::build()?;

    let root = libtorch::workspace_root();
    let mode = if args.quick {
        "quick"
    } else if args.full {
        "full"
    } else {
        "standard"
    };
    let mut command_line = format!("cargo xtask eval {}", args.domain);
    if mode != "standard" {
        command_line.push_str(&format!(" --{mode}"));
    }
    if let Some(backend) = &args.backend {
        command_line.push_str(&format!(" --backend {backend}"));
    }
    let commit = cargo::commit(&root);

    let binary = root.join("target/debug/sprig-experiments");
    let mut cmd = Command::new(&binary);
    cmd.current_dir(&root).args([
        "eval",
        &args.domain,
        "--mode",
        mode,
        "--command-line",
        &command_line,
        "--commit",
        &commit,
    ]);
    if let Some(backend) = &args.backend {
        cmd.args(["--backend", backend]);
    }
    if let Some(dir) = &args.data_dir {
        cmd.args(["--data-dir", dir]);
    }
    if let Some(dir) = &args.runs {
        cmd.args(["--runs", dir]);
    }
    cargo::runner_env(&mut cmd, &root)?;
    let status = cmd
        .status()
        .with_context(|| format!("could not start {}", binary.display()))?;
    if !status.success() {
        bail!("the {} suite failed ({status})", args.domain);
    }
    Ok(())
}
