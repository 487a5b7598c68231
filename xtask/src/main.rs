//! `cargo xtask …`: every piece of Sprig's automation, so CI and a user run the same thing.

mod bench;
mod cargo;
mod eval;
mod fuzz;
mod layers;
mod libtorch;
mod plan;
mod slurm;

use anyhow::Result;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "cargo xtask", about = "Sprig's automation")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run every test of the workspace on every backend this machine can build
    /// (flex and ndarray always; LibTorch too when `setup-libtorch` has run or LIBTORCH is set).
    Test {
        /// The slow tier instead: the tests marked `#[ignore = "slow tier…"]` (real-clock
        /// `sprig` runs, property tests at their full case counts).
        #[arg(long)]
        slow: bool,
        /// Extra arguments passed to `cargo test` after `--` (e.g. a test-name filter).
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// Build every test and binary with the features of `test` (what `eval` runs), without
    /// running anything: the quick way to rebuild the experiment runner.
    Build {
        /// Also write cargo's timings of the build (`target/cargo-timings/cargo-timing.html`):
        /// which crates a cold build, the larger part of a CI run, spends its time on.
        #[arg(long)]
        timings: bool,
    },
    /// Clippy (`-D warnings`) over every target, compiled with the features of `test` and
    /// by the same build (clippy's driver compiles the workspace's crates), and the layer
    /// rule of ARCHITECTURE.md.
    Lint,
    /// Run an evaluation suite and write `docs/results/DOMAIN.{md,json}` and its plots
    /// (`--quick` for the CI smoke run), here or as a Slurm job array (`--slurm`).
    Eval(eval::EvalArgs),
    /// Time a training iteration of every zoo model on every compiled backend (with and
    /// without masks, and in PyTorch with `--vs-pytorch`) and write
    /// `docs/results/backends.{md,json}`.
    Bench(bench::BenchArgs),
    /// Print the plan a budget gives (rounds, iterations per training, per-round rate)
    /// for a given time per iteration, without training anything.
    Plan(plan::PlanArgs),
    /// Install the `sprig` command with every backend this machine can build: the debug
    /// binary the tests build (dependencies are optimised there), copied, so nothing the
    /// tests built is compiled again.
    Install {
        /// Where `bin/sprig` goes (default: cargo's, `~/.cargo`).
        #[arg(long)]
        root: Option<std::path::PathBuf>,
    },
    /// Fuzz the `.sprig` loader with cargo-fuzz (needs nightly and `cargo install
    /// cargo-fuzz`): every input becomes a body with a matching header and checksum, so
    /// it reaches the parser; a panic or abort is a failure, saved under the fuzz folder.
    Fuzz {
        /// How long to fuzz.
        #[arg(long, default_value_t = 60)]
        seconds: u64,
    },
    /// Build a CPU-only LibTorch folder from PyPI wheels under `target/libtorch`
    /// (reused when present) and print the environment to export.
    SetupLibtorch {
        /// Download and unpack again even if the folder is already there.
        #[arg(long)]
        force: bool,
        /// Meanwhile, start the lint step's build: the crates that do not need LibTorch
        /// (most of a cold build) compile while it downloads (CI's first build).
        #[arg(long)]
        build_meanwhile: bool,
    },
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Test { slow, rest } => cargo::test(slow, &rest),
        Command::Build { timings } => cargo::build_with(timings),
        Command::Lint => {
            layers::check(&libtorch::workspace_root())?;
            cargo::lint()
        }
        Command::Eval(args) => eval::run(&args),
        Command::Bench(args) => bench::run(&args),
        Command::Plan(args) => plan::print(&args),
        Command::Install { root } => cargo::install(root.as_deref()),
        Command::Fuzz { seconds } => fuzz::run(&libtorch::workspace_root(), seconds),
        Command::SetupLibtorch {
            force,
            build_meanwhile,
        } => {
            let dir = libtorch::setup(force, build_meanwhile)?;
            println!("{}", libtorch::exports(&dir));
            Ok(())
        }
    }
}
