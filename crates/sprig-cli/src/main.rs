//! `sprig`: finds a sparse, trainable sub-network (a lottery ticket) of a network within
//! a wall-clock budget, exports it for a small device, and runs the exported model.

mod data;
mod options;
mod out_dir;
mod plan_page;
mod progress;
mod values;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sprig_prune::engine::{Divergence, Faults, Slowdown, StopReason};
use sprig_run::runner::Hooks;
use sprig_run::ticket::files;
use sprig_run::{Runner, checkpoint, export, ticket};

use crate::options::PruneOptions;
use crate::out_dir::Found;
use crate::progress::{LogWriter, Progress, SharedBar, StopFlag};

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
    /// For scripts: progress events and the result as JSON lines on stdout, logs as JSON
    /// lines on stderr, no progress bar.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Prune a zoo model on a data set to a target sparsity within a wall-clock budget and
    /// write the ticket (mask, θ0, trained weights, rounds, result) to a folder.
    Prune(PruneArgs),
    /// Print the plan a budget would give (rounds, iterations per training, per-round
    /// rate) after profiling the first iterations, without running it. Takes the options
    /// of `prune`.
    Plan {
        /// A TOML file with any of the options (kebab-case keys); flags override it.
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(flatten)]
        options: PruneOptions,
    },
    /// Evaluate a finished ticket folder on a split of its data set.
    Eval {
        /// The ticket folder (written by `sprig prune`).
        ticket: PathBuf,
        /// Which split.
        #[arg(long, value_enum, default_value = "test")]
        split: sprig_run::probe::Split,
        /// Where the data sets are (default: the run's, then $SPRIG_DATA, then ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Export a ticket folder to a `.sprig` file for the sparse runtime, or to ONNX.
    Export {
        /// The ticket folder.
        ticket: PathBuf,
        /// `dense_f32`, `sparse_f32` or `sparse_int8` (a `.sprig` file), or `onnx` (a
        /// standard ONNX model, opset 13, pruned weights stored as zeros; input `input`
        /// of shape [1, channels, height, width], raw pixel values for image models;
        /// output `logits`).
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
    /// Download the data sets (MNIST, CIFAR-10, TREC, MR, FSDD) or check which are there.
    #[command(subcommand)]
    Data(data::DataCommand),
}

#[derive(Debug, clap::Args)]
struct PruneArgs {
    /// Continue the run in this folder after its last finished training (a killed or
    /// interrupted run), with the options saved there and the budget it had left.
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "force", "dry_run"])]
    resume: Option<PathBuf>,
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
    /// Debug hook: TRAINING:ITERATION makes that iteration's loss NaN, to check that a
    /// diverging training stops its round and keeps the last good ticket.
    #[arg(long, hide = true)]
    debug_diverge: Option<Divergence>,
    #[command(flatten)]
    options: PruneOptions,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any tensor work: rayon's pool takes the setting only when it is built.
    sprig_backend::flush_denormals_to_zero();
    let default_filter = if cli.quiet { "error" } else { "info" };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    let bar = SharedBar::default();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(sprig_run::logging::colour_logs())
        .with_writer(LogWriter(bar.clone()));
    if cli.json {
        builder.json().init();
    } else {
        builder.init();
    }
    let display = progress::Mode::choose(cli.json, cli.quiet);
    match run(cli.command, display, bar) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command, display: progress::Mode, bar: SharedBar) -> Result<()> {
    match command {
        Command::Prune(args) => prune(args, display, bar),
        Command::Data(command) => data::run(command, display, bar),
        Command::Plan { config, options } => plan(config, options, display),
        Command::Eval {
            ticket,
            split,
            data_dir,
        } => eval_ticket(&ticket, split, data_dir, display),
        Command::Export {
            ticket,
            format,
            out,
            data_dir,
        } => {
            let mut runner = Runner::new(sprig_data::data_dir(data_dir), "sprig-runs".into());
            let context = || format!("exporting {}", ticket.display());
            if format == "onnx" {
                let bytes =
                    export::export_ticket_onnx(&mut runner, &ticket, &out).with_context(context)?;
                println!(
                    "wrote {} (ONNX, opset {}, {bytes} bytes)",
                    out.display(),
                    sprig_export::ONNX_OPSET
                );
                return Ok(());
            }
            let format: sprig_export::ExportFormat = format.parse()?;
            let report =
                export::export_ticket(&mut runner, &ticket, format, &out).with_context(context)?;
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
            let dataset: sprig_run::Dataset = dataset.parse().map_err(anyhow::Error::msg)?;
            let execution = if dense {
                sprig_runtime::Execution::Dense
            } else {
                sprig_runtime::Execution::Sparse
            };
            let mut runner = Runner::new(sprig_data::data_dir(data_dir), "sprig-runs".into());
            let (accuracy, n) = export::infer(&mut runner, &model, dataset, execution)?;
            println!(
                "{}: test accuracy {:.2}% on {n} {dataset} test examples ({execution:?} kernels)",
                model.display(),
                100.0 * accuracy
            );
            Ok(())
        }
    }
}

fn prune(args: PruneArgs, display: progress::Mode, bar: SharedBar) -> Result<()> {
    let resuming = args.resume.is_some();
    let options = match &args.resume {
        Some(dir) => saved_options(dir, &args.options)?,
        None => {
            let file = match &args.config {
                Some(path) => PruneOptions::from_file(path)?,
                None => PruneOptions::default(),
            };
            args.options.over(file)
        }
    };
    let resolved = options.resolve_with(&mut fit_size)?;
    let effective = toml::to_string(&resolved.effective)?;
    if args.dry_run {
        println!("{effective}");
        println!("# run: {}", resolved.experiment.canonical());
        return Ok(());
    }
    let out = &resolved.out;
    let slowed = args.debug_slowdown.is_some() || (resuming && out.join(out_dir::SLOWED).exists());
    let found = out_dir::prepare(out, &resolved.experiment, slowed, args.force)?;
    let interrupted = |r: &sprig_report::RunResult| r.stop_reason == Some(StopReason::Interrupted);
    let stopped = match found {
        Found::Finished(result) if !interrupted(&result) => {
            println!("{} already holds this run, finished:", out.display());
            print_summary(&result, out, display);
            return Ok(());
        }
        Found::Finished(_) | Found::Unfinished => true,
        Found::Empty => false,
    };
    if resuming && !stopped {
        bail!(
            "{} holds no stopped run to resume: start one with `sprig prune --out {}`",
            out.display(),
            out.display()
        );
    }
    if stopped && !resuming {
        if checkpoint::exists(out) && !args.force {
            bail!(
                "{} holds this run, stopped before it finished, with a checkpoint: continue \
                 it with `sprig prune --resume {}`, or pass --force to start it over",
                out.display(),
                out.display()
            );
        }
        tracing::warn!(out = %out.display(), "the previous attempt did not finish: starting it again");
    }
    let out = ticket::create_dir(out)?;
    let _claim = out_dir::claim(&out)?;
    // An interrupted run wrote its ticket and result; the run now replaces them (resumed or
    // started over), and a result left in the folder would be taken as this run's.
    let stale = out.join(files::RESULT);
    if stale.exists() {
        std::fs::remove_file(&stale).with_context(|| format!("removing {}", stale.display()))?;
    }
    if !resuming {
        ticket::write_json(&out, files::CONFIG, &resolved.experiment)?;
        ticket::write_atomic(&out.join(files::OPTIONS), effective.as_bytes())?;
    }
    if let Some(slowdown) = args.debug_slowdown {
        let note = format!(
            "iterations after the first {} training(s) were slowed {}x (--debug-slowdown)\n",
            slowdown.after_trainings, slowdown.factor
        );
        ticket::write_atomic(&out.join(out_dir::SLOWED), note.as_bytes())?;
    }
    let mut progress = Progress::new(display, bar, StopFlag::on_ctrl_c()?);
    // Feature caches (audio) go beside the ticket folder, shared by later runs.
    let mut runner = Runner::new(resolved.data_dir.clone(), out.clone()).with_faults(Faults {
        slowdown: args.debug_slowdown,
        divergence: args.debug_diverge,
    });
    let hooks = Hooks {
        observer: Some(&mut progress),
        checkpoints: true,
        resume: resuming,
    };
    let result = runner.run_with(&resolved.experiment, &out, hooks);
    progress.finish();
    let result = result?;
    write_report(&out, &result)?;
    print_summary(&result, &out, display);
    if let Some(size) = resolved.size {
        export_within(&mut runner, &out, size)?;
    }
    let resumable = matches!(
        resolved.experiment.method,
        sprig_run::Method::Budgeted | sprig_run::Method::OneShot | sprig_run::Method::TruncatedImp
    );
    match result.stop_reason {
        Some(StopReason::Interrupted) if resumable => bail!(
            "interrupted: the best ticket so far ({} prune(s), sparsity {:.4}) is in {}; \
             continue the run with `sprig prune --resume {}`",
            result.rounds,
            result.sparsity,
            out.display(),
            out.display()
        ),
        Some(StopReason::Interrupted) => bail!(
            "interrupted: the best weights so far are in {} (a {} run cannot be resumed)",
            out.display(),
            result.method
        ),
        Some(StopReason::Diverged) => bail!(
            "the training diverged (its loss became NaN or infinite): the round stopped and \
             the last good ticket (sparsity {:.4}) is in {}; try a smaller learning rate or \
             another seed",
            result.sparsity,
            out.display()
        ),
        _ => Ok(()),
    }
}

/// `sprig plan`: profiles and prints the first plan.
fn plan(config: Option<PathBuf>, options: PruneOptions, display: progress::Mode) -> Result<()> {
    let file = match &config {
        Some(path) => PruneOptions::from_file(path)?,
        None => PruneOptions::default(),
    };
    let resolved = options.over(file).resolve_with(&mut fit_size)?;
    let e = &resolved.experiment;
    let mut runner = Runner::new(resolved.data_dir.clone(), resolved.out.clone());
    let planned = runner.plan(e)?;
    let (record, masks) = (&planned.record, &planned.masks);
    let budget_s = e.budget_s.unwrap_or_default();
    let advice = sprig_run::advice::advise(e.dataset, e.model, budget_s, e.target_sparsity);
    if display == progress::Mode::Json {
        let tensors: Vec<_> = masks
            .iter()
            .map(|(path, entry)| serde_json::json!({ "path": path, "kind": entry.kind(), "weights": entry.mask().len() }))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "event": "plan",
                "plan": record,
                "backend": planned.backend.to_string(),
                "backend_race": planned.race,
                "tensors": tensors,
                "advice": {
                    "method": advice.choice.method.name(),
                    "option": advice.choice.option.map(|o| o.flag()),
                    "text": advice.to_string(),
                },
            })
        );
        return Ok(());
    }
    print!("{}", plan_page::plan_page(e, &planned, &advice));
    Ok(())
}

/// `sprig eval`: a finished ticket on a split.
fn eval_ticket(
    dir: &std::path::Path,
    split: sprig_run::probe::Split,
    data_dir: Option<PathBuf>,
    display: progress::Mode,
) -> Result<()> {
    let config_path = dir.join(files::CONFIG);
    let text = std::fs::read(&config_path).with_context(|| {
        format!(
            "{} is not a ticket folder (reading {})",
            dir.display(),
            config_path.display()
        )
    })?;
    let experiment: sprig_run::Experiment = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Sprig run description", config_path.display()))?;
    let saved = PruneOptions::from_file(&dir.join(files::OPTIONS))
        .ok()
        .and_then(|o| o.data_dir);
    let data_dir = sprig_data::data_dir(data_dir.or(saved));
    let mut runner = Runner::new(data_dir, dir.to_path_buf());
    let evaluation = runner.evaluate_ticket(&experiment, dir, split)?;
    if display == progress::Mode::Json {
        println!(
            "{}",
            serde_json::json!({ "event": "evaluation", "ticket": dir, "split": format!("{split:?}").to_lowercase(), "evaluation": evaluation })
        );
    } else {
        println!(
            "{}: {:?} accuracy {:.2}%, loss {:.4} ({} on {})",
            dir.display(),
            split,
            100.0 * evaluation.accuracy,
            evaluation.loss,
            experiment.model,
            experiment.dataset
        );
    }
    Ok(())
}

/// The options a run folder was started with (`sprig.toml`), for `--resume`; only
/// `--data-dir` may be given again (the data may have moved).
fn saved_options(dir: &std::path::Path, flags: &PruneOptions) -> Result<PruneOptions> {
    let data_dir = flags.data_dir.clone();
    let others = PruneOptions {
        data_dir: None,
        ..flags.clone()
    };
    if others != PruneOptions::default() {
        bail!(
            "--resume continues the run in {} with the options saved in its {}: drop the other \
             options (only --data-dir may be given)",
            dir.display(),
            files::OPTIONS
        );
    }
    let path = dir.join(files::OPTIONS);
    if !path.is_file() {
        bail!(
            "{} holds no run to resume ({} is missing)",
            dir.display(),
            path.display()
        );
    }
    let saved = PruneOptions::from_file(&path)?;
    Ok(PruneOptions {
        out: Some(dir.to_path_buf()),
        data_dir: data_dir.or(saved.data_dir.clone()),
        ..saved
    })
}

/// Turns a size budget into a target sparsity (see `export::sparsity_for_size`).
fn fit_size(
    experiment: &sprig_run::Experiment,
    data_dir: &std::path::Path,
    size: options::SizeBudget,
) -> Result<f64> {
    let mut runner = Runner::new(data_dir.to_path_buf(), "sprig-runs".into());
    let fit = export::sparsity_for_size(&mut runner, experiment, size.format, size.bytes)?;
    tracing::info!(
        "size budget {} bytes in {}: target sparsity {:.4} (a file of {} bytes with every \
         tensor pruned alike; {} dense)",
        size.bytes,
        size.format,
        fit.sparsity,
        fit.estimated_bytes,
        fit.dense_bytes
    );
    Ok(fit.sparsity)
}

/// Exports the ticket in the size budget's format beside it and says how it fits.
fn export_within(
    runner: &mut Runner,
    out: &std::path::Path,
    size: options::SizeBudget,
) -> Result<()> {
    let file = out.join(format!("ticket.{}.sprig", size.format));
    let report = export::export_ticket(runner, out, size.format, &file)
        .with_context(|| format!("exporting {}", out.display()))?;
    let verdict = if report.total_bytes <= size.bytes {
        "within"
    } else {
        "OVER"
    };
    println!(
        "exported {}: {} bytes, {verdict} the size budget of {} bytes",
        file.display(),
        report.total_bytes,
        size.bytes
    );
    if report.total_bytes > size.bytes {
        bail!(
            "the ticket's file is {} bytes, over the size budget of {} (its tensors ended at \
             different sparsities than the estimate assumed): prune again with --scope \
             layerwise, or ask for a smaller size",
            report.total_bytes,
            size.bytes
        );
    }
    Ok(())
}

/// Writes the run report (`report.md`, `report.json`, `report.svg`) beside the ticket.
fn write_report(out: &std::path::Path, result: &sprig_report::RunResult) -> Result<()> {
    let path = out.join(files::ROUNDS);
    let text = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    let rounds: Vec<sprig_prune::engine::RoundRecord> = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Sprig rounds file", path.display()))?;
    let report = sprig_report::RunReport {
        result: result.clone(),
        trainings: rounds
            .iter()
            .map(|r| sprig_report::TrainingPoint {
                round: r.round,
                sparsity: r.sparsity,
                iterations: r.iterations,
                validation_accuracy: r.validation.accuracy,
                ended_at_s: r.ended_at.as_secs_f64(),
            })
            .collect(),
        tensors: ticket::read_mask(out)?
            .iter()
            .map(|(path, entry)| sprig_report::TensorPoint {
                path: path.to_owned(),
                kind: entry.kind().to_owned(),
                weights: entry.mask().len(),
                sparsity: entry.mask().sparsity(),
            })
            .collect(),
    };
    report
        .write(out)
        .with_context(|| format!("writing the run report into {}", out.display()))
}

fn print_summary(result: &sprig_report::RunResult, out: &std::path::Path, display: progress::Mode) {
    if display == progress::Mode::Json {
        let line = serde_json::json!({ "event": "result", "ticket": out, "result": result });
        println!("{line}");
        return;
    }
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
