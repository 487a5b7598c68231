//! `cargo xtask eval DOMAIN`: builds the experiment runner with the same features as the
//! tests (so Burn is not compiled again) and runs a suite, writing `docs/results/`, or
//! submits its grid to Slurm (`--slurm`, `slurm/`).

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, libtorch, slurm};

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
    /// Backend for every run (`flex`, `ndarray`, `tch-cpu`); default `auto`: each run
    /// trains on the fastest compiled backend for its model, timed when it starts.
    #[arg(long)]
    backend: Option<String>,
    /// Data folder (default: $SPRIG_DATA, then ./data).
    #[arg(long)]
    data_dir: Option<String>,
    /// Where run folders go (default: $SPRIG_RUNS, then `docs/results/runs` for the
    /// standard and full tables and `target/sprig-runs` for `--quick`). A finished run
    /// found there is reused: the committed folders (no weights) let a long table be
    /// completed across sittings and trace every row to its run; an empty folder
    /// re-measures everything.
    #[arg(long, env = "SPRIG_RUNS")]
    runs: Option<String>,
    /// Print the grid (index, label, run folder, and the run folder of the ticket a random
    /// control reuses or `-`) and run nothing.
    #[arg(long)]
    list: bool,
    /// Run only the experiments whose run folder or label contains this text, or one of
    /// the texts of `A|B` (repeated: each must match); the table then has only those rows,
    /// so point `--results` elsewhere.
    #[arg(long)]
    only: Vec<String>,
    /// Where the table, JSON and plots go (default: docs/results).
    #[arg(long)]
    results: Option<String>,
    /// Write the table from the finished runs only, running nothing (the page says how
    /// many rows are missing).
    #[arg(long)]
    finished_only: bool,
    #[command(flatten)]
    slurm: slurm::SlurmArgs,
    /// The experiment runner to use instead of building `target/debug/sprig-experiments`
    /// (a stand-in that trains nothing, `.ci/fake-experiments`, to try `--slurm` without
    /// Burn).
    #[arg(long, hide = true)]
    runner: Option<PathBuf>,
}

/// The committed run folders of the standard and full tables.
const COMMITTED_RUNS: &str = "docs/results/runs";

/// Builds and runs `sprig-experiments eval`, or submits it to Slurm.
pub fn run(args: &EvalArgs) -> Result<()> {
    if args.slurm.slurm {
        // Before anything is built or written.
        slurm::require()?;
    }
    let root = libtorch::workspace_root();
    let binary = match &args.runner {
        Some(binary) => {
            std::path::absolute(binary).with_context(|| format!("--runner {}", binary.display()))?
        }
        None => {
            // The test build (which builds the runner binary for its integration tests)
            // has the feature set of `cargo xtask test`: after a test run nothing is
            // compiled again, where `cargo build --bins` would resolve Burn's features
            // differently and rebuild it.
            cargo::build()?;
            cargo::test_build_binary("sprig-experiments")
        }
    };

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
    if let Some(dir) = &args.runs {
        command_line.push_str(&format!(" --runs {dir}"));
    }
    for text in &args.only {
        // Quoted where a shell would split it, so the recorded command can be pasted.
        if text.contains(|c: char| c == '|' || c.is_whitespace()) {
            command_line.push_str(&format!(" --only '{text}'"));
        } else {
            command_line.push_str(&format!(" --only {text}"));
        }
    }
    if args.finished_only {
        command_line.push_str(" --finished-only");
    }
    if let Some(dir) = &args.results {
        command_line.push_str(&format!(" --results {dir}"));
    }
    let commit = cargo::commit(&root);

    // The arguments that select the grid: the same for a local run and every Slurm job.
    let mut selection: Vec<String> = ["eval", &args.domain, "--mode", mode]
        .map(String::from)
        .to_vec();
    if let Some(backend) = &args.backend {
        selection.extend(["--backend".into(), backend.clone()]);
    }
    if let Some(dir) = &args.data_dir {
        selection.extend(["--data-dir".into(), dir.clone()]);
    }
    let runs = args.runs.clone().unwrap_or_else(|| {
        if args.quick {
            "target/sprig-runs".into()
        } else {
            COMMITTED_RUNS.into()
        }
    });
    selection.extend(["--runs".into(), runs.clone()]);
    for text in &args.only {
        selection.extend(["--only".into(), text.clone()]);
    }

    if args.slurm.slurm {
        let stem = match mode {
            "standard" => args.domain.clone(),
            _ => format!("{}-{mode}", args.domain),
        };
        let command = std::iter::once(binary.display().to_string())
            .chain(selection)
            .collect();
        return slurm::submit(&slurm::Submission {
            args: &args.slurm,
            root: &root,
            command,
            env: slurm_env(&root)?,
            commit,
            runs,
            stem,
            command_line: format!("{command_line} --slurm"),
            results: args.results.clone(),
        });
    }

    let mut cmd = Command::new(&binary);
    cmd.current_dir(&root).args(&selection).args([
        "--command-line",
        &command_line,
        "--commit",
        &commit,
    ]);
    if args.list {
        cmd.arg("--list");
    }
    if args.finished_only {
        cmd.arg("--finished-only");
    }
    if let Some(dir) = &args.results {
        cmd.args(["--results", dir]);
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

/// The environment every Slurm job exports: the runner's, and the data folder when it
/// comes from `$SPRIG_DATA` (a cluster may start jobs without the submitter's environment).
fn slurm_env(root: &std::path::Path) -> Result<Vec<(String, String)>> {
    let mut env = cargo::runner_env_vars(root)?;
    if let Ok(data) = std::env::var("SPRIG_DATA") {
        env.push(("SPRIG_DATA".into(), data));
    }
    Ok(env)
}
