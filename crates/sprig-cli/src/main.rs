//! `sprig`: finds a sparse, trainable sub-network (a lottery ticket) of a network within
//! a wall-clock budget, exports it for a small device, and runs the exported model.

mod options;
mod out_dir;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use sprig_experiments::ticket::files;
use sprig_experiments::{Runner, edge, ticket};
use sprig_prune::engine::Slowdown;

use crate::options::PruneOptions;
use crate::out_dir::Found;

sprig_backend::global_allocator!();

#[derive(Debug, Parser)]
#[command(
    name = "sprig",
    version,
    about = "Lottery tickets within a time budget: prune, export, run",
    after_help = "Example: sprig prune --model lenet-300-100 --dataset mnist --budget 90s --sparsity 0.9"
)]
struct Cli {
    /// Only errors on stderr (the summary still goes to stdout).
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prune a zoo model on a data set to a target sparsity within a wall-clock budget and
    /// write the ticket (mask, θ0, trained weights, rounds, result) to a folder.
    Prune(PruneArgs),
    /// Export a ticket folder to a `.sprig` file for the sparse runtime.
    Export {
        /// The ticket folder.
        ticket: PathBuf,
        /// `dense_f32`, `sparse_f32` or `sparse_int8`.
        #[arg(long, default_value = "sparse_f32")]
        format: String,
        /// The file to write.
        #[arg(long, short)]
        out: PathBuf,
        /// Where the data sets are (only for tickets without normalization.json).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Run an exported model on a data set's test split and print its accuracy.
    Infer {
        /// The `.sprig` file.
        model: PathBuf,
        /// `mnist` or `cifar10`.
        #[arg(long)]
        dataset: String,
        /// Run the dense kernels instead of the sparse ones.
        #[arg(long)]
        dense: bool,
        /// Where the data sets are (default: $SPRIG_DATA, then ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// A TOML file with any of the options below (kebab-case keys); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Replace a different run found in the output folder.
    #[arg(long)]
    force: bool,
    /// Print the effective options (TOML) and the run they describe, then stop.
    #[arg(long)]
    dry_run: bool,
    /// Debug hook: AFTER:FACTOR makes every iteration after the first AFTER trainings take
    /// FACTOR times as long (sleeping), to check that the deadline holds on a slowing machine.
    #[arg(long, hide = true)]
    debug_slowdown: Option<Slowdown>,
    #[command(flatten)]
    options: PruneOptions,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any tensor work: rayon's pool takes the setting only when it is built.
    sprig_backend::flush_denormals_to_zero();
    let default_filter = if cli.quiet { "error" } else { "info" };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| default_filter.into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Prune(args) => prune(args),
        Command::Export {
            ticket,
            format,
            out,
            data_dir,
        } => {
            let format: sprig_export::ExportFormat = format.parse()?;
            let mut runner = Runner::new(sprig_data::data_dir(data_dir), "sprig-runs".into());
            let report = edge::export_ticket(&mut runner, &ticket, format, &out)
                .with_context(|| format!("exporting {}", ticket.display()))?;
            println!("{report}");
            println!("wrote {} ({format})", out.display());
            Ok(())
        }
        Command::Infer {
            model,
            dataset,
            dense,
            data_dir,
        } => {
            let dataset: sprig_experiments::Dataset =
                dataset.parse().map_err(anyhow::Error::msg)?;
            let execution = if dense {
                sprig_runtime::Execution::Dense
            } else {
                sprig_runtime::Execution::Sparse
            };
            let mut runner = Runner::new(sprig_data::data_dir(data_dir), "sprig-runs".into());
            let (accuracy, n) = edge::infer(&mut runner, &model, dataset, execution)?;
            println!(
                "{}: test accuracy {:.2}% on {n} {dataset} test examples ({execution:?} kernels)",
                model.display(),
                100.0 * accuracy
            );
            Ok(())
        }
    }
}

fn prune(args: PruneArgs) -> Result<()> {
    let file = match &args.config {
        Some(path) => PruneOptions::from_file(path)?,
        None => PruneOptions::default(),
    };
    let resolved = args.options.over(file).resolve()?;
    let effective = toml::to_string(&resolved.effective)?;
    if args.dry_run {
        println!("{effective}");
        println!("# run: {}", resolved.experiment.canonical());
        return Ok(());
    }
    let out = &resolved.out;
    let slowed = args.debug_slowdown.is_some();
    match out_dir::prepare(out, &resolved.experiment, slowed, args.force)? {
        Found::Finished(result) => {
            println!("{} already holds this run, finished:", out.display());
            print_summary(&result, out);
            return Ok(());
        }
        Found::Unfinished => {
            tracing::warn!(out = %out.display(), "the previous attempt did not finish: starting it again");
        }
        Found::Empty => {}
    }
    let out = ticket::create_dir(out)?;
    let _claim = out_dir::claim(&out)?;
    ticket::write_json(&out, files::CONFIG, &resolved.experiment)?;
    ticket::write_atomic(&out.join(files::OPTIONS), effective.as_bytes())?;
    if let Some(slowdown) = args.debug_slowdown {
        let note = format!(
            "iterations after the first {} training(s) were slowed {}x (--debug-slowdown)\n",
            slowdown.after_trainings, slowdown.factor
        );
        ticket::write_atomic(&out.join(out_dir::SLOWED), note.as_bytes())?;
    }
    // Feature caches (audio) go beside the ticket folder, shared by later runs.
    let mut runner =
        Runner::new(resolved.data_dir.clone(), out.clone()).with_slowdown(args.debug_slowdown);
    let result = runner.run_at(&resolved.experiment, &out)?;
    print_summary(&result, &out);
    Ok(())
}

fn print_summary(result: &sprig_report::RunResult, out: &std::path::Path) {
    println!(
        "ticket {}: test accuracy {:.2}%, sparsity {:.4} (target {}), {} prune(s), {:.1} s of {} s",
        out.display(),
        100.0 * result.test_accuracy,
        result.sparsity,
        result.target_sparsity,
        result.rounds,
        result.time_used_s,
        result
            .budget_s
            .map_or("no limit".into(), |b| format!("{b}")),
    );
}
