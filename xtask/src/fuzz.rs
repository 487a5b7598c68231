//! `cargo xtask fuzz`: the `.sprig` loader under libFuzzer (cargo-fuzz, nightly), seeded
//! with the bodies of valid files so the fuzzer starts inside the format.

use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The runtime crate (its `fuzz/` folder is cargo-fuzz's) and the target.
const RUNTIME: &str = "crates/sprig-runtime";
const TARGET: &str = "load_body";

/// Seeds the corpus under `target/fuzz-corpus`, then fuzzes for `seconds`.
pub fn run(root: &Path, seconds: u64) -> Result<()> {
    let probe = Command::new("cargo")
        .args(["+nightly", "fuzz", "--version"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        bail!(
            "cargo-fuzz on a nightly toolchain is needed: `rustup toolchain install nightly` \
             and `cargo install cargo-fuzz`"
        );
    }
    let corpus = root.join("target/fuzz-corpus").join(TARGET);
    let status = Command::new("cargo")
        .current_dir(root)
        .args([
            "run",
            "-p",
            "sprig-runtime",
            "--example",
            "fuzz_seeds",
            "--",
        ])
        .arg(&corpus)
        .status()
        .context("running cargo")?;
    if !status.success() {
        bail!("writing the seed corpus failed");
    }
    let status = Command::new("cargo")
        .current_dir(root.join(RUNTIME))
        .args(["+nightly", "fuzz", "run", TARGET])
        .arg(&corpus)
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .status()
        .context("running cargo fuzz")?;
    if !status.success() {
        bail!(
            "the fuzzer found an input the loader fails on: see {RUNTIME}/fuzz/artifacts/{TARGET}/"
        );
    }
    Ok(())
}
