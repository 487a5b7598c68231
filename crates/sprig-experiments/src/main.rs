//! `sprig-experiments`: runs an evaluation suite and writes its table, JSON and plots.
//! Normally started by `cargo xtask eval DOMAIN`, which builds it with the right backends.
//! Exporting and running a ticket are the `sprig` command's (`sprig-cli`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use sprig_backend::BackendChoice;
use sprig_experiments::{Mode, edge, machine, suite};
use sprig_report::{
    Provenance, Rows, RunResult, markdown_report, plot_accuracy_vs_budget,
    plot_accuracy_vs_sparsity, write_json,
};
use sprig_run::runner::Hooks;
use sprig_run::{Domain, Experiment, Runner, checkpoint};

sprig_backend::global_allocator!();

#[derive(Debug, Parser)]
#[command(about = "Runs Sprig's evaluation tables")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Runs one domain's suite and writes docs/results/DOMAIN.{md,json} and plots.
    Eval(EvalArgs),
}

/// Arguments of `eval`.
#[derive(Debug, clap::Args)]
struct EvalArgs {
    /// Which table.
    domain: Domain,
    /// How much of it.
    #[arg(long, value_enum, default_value = "standard")]
    mode: Mode,
    /// Backend for every run: `auto` (default: each run trains on the fastest compiled
    /// backend for its model, timed when it starts), `flex`, `ndarray` or `tch-cpu`.
    #[arg(long)]
    backend: Option<String>,
    /// Where the data sets are (default: $SPRIG_DATA, then ./data).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Where run folders go; a finished run found there is not redone.
    #[arg(long, default_value = "target/sprig-runs")]
    runs: PathBuf,
    /// Where the table, JSON and plots go.
    #[arg(long, default_value = "docs/results")]
    results: PathBuf,
    /// The command line to record as the table's provenance.
    #[arg(long, default_value = "cargo xtask eval")]
    command_line: String,
    /// The commit to record (xtask passes `git rev-parse --short HEAD`).
    #[arg(long, default_value = "unknown")]
    commit: String,
    /// Run only the experiments whose run folder or label (method and variant, as
    /// `--list` prints them) contains this text, or one of the texts of `A|B`; repeated,
    /// each must match (for exploring a few rows; point `--results` elsewhere, as the table
    /// then has only those rows).
    #[arg(long)]
    only: Vec<String>,
    /// Print the experiments, one per line, and run nothing: index, label, run folder, and
    /// the run folder of the budgeted ticket a random control reuses (`-` for the others).
    #[arg(long)]
    list: bool,
    /// Run only the experiment numbered N by `--list` (after `--only`) and write no table:
    /// one task of a cluster job array (`cargo xtask eval --slurm`), whose table a later
    /// `--finished-only` writes. A folder holding a result is reused; a run saves a
    /// checkpoint after every training, and a budgeted, one-shot or truncated IMP run
    /// resumes from it when started again.
    #[arg(long, conflicts_with_all = ["list", "finished_only"])]
    index: Option<usize>,
    /// Write the table from the runs already finished in `--runs` and run nothing; the
    /// page says how many rows of the grid are still missing (a table completed across
    /// sittings, shown before it is whole).
    #[arg(long)]
    finished_only: bool,
}

fn main() -> Result<()> {
    // Before any tensor work: rayon's pool takes the setting only when it is built.
    let flushed = sprig_backend::flush_denormals_to_zero();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(sprig_run::logging::colour_logs())
        .init();
    if !flushed {
        tracing::warn!(
            "subnormal floats are not flushed to zero on every thread (not x86-64, or rayon's \
             pool was already running): late iterations of a training may be slower"
        );
    }
    match Cli::parse().command {
        Command::Eval(args) => eval(args),
    }
}

/// How `--list` names an experiment: its method, then its variant (round policy, split…).
fn label(e: &Experiment) -> String {
    match e.variant() {
        Some(v) => format!("{} ({v})", e.method),
        None => e.method.to_string(),
    }
}

/// Runs a suite and writes its table.
fn eval(args: EvalArgs) -> Result<()> {
    let EvalArgs {
        domain,
        mode,
        backend,
        data_dir,
        runs,
        results,
        command_line,
        commit,
        only,
        list,
        index,
        finished_only,
    } = args;
    // A bad backend name fails every run the same way: say so once, up front.
    let chosen: BackendChoice = match &backend {
        Some(name) => name.parse().with_context(|| format!("--backend {name}"))?,
        None => BackendChoice::Auto,
    };
    let backend = chosen.to_string();
    if let Some(named) = chosen.named() {
        named
            .train_device()
            .with_context(|| format!("--backend {backend}"))?;
    }
    let data_dir = sprig_data::data_dir(data_dir);
    let experiments = match domain {
        Domain::Vision => suite::vision(mode, chosen),
        Domain::Text => suite::text(mode, chosen),
        Domain::Audio => suite::audio(mode, chosen),
        Domain::Edge => edge::suite(mode, chosen),
    };
    let experiments: Vec<_> = experiments
        .into_iter()
        .filter(|e| {
            let (dir, label) = (e.run_dir().to_string_lossy().into_owned(), label(e));
            only.iter().all(|texts| {
                texts
                    .split('|')
                    .any(|text| dir.contains(text) || label.contains(text))
            })
        })
        .collect();
    if list {
        for (i, e) in experiments.iter().enumerate() {
            let ticket = if e.method.needs_ticket() {
                e.ticket_source().run_dir().display().to_string()
            } else {
                "-".into()
            };
            println!("{i}\t{}\t{}\t{ticket}", label(e), e.run_dir().display());
        }
        return Ok(());
    }
    let mut runner = Runner::new(data_dir, runs).with_commit(&commit);
    if let Some(index) = index {
        let experiment = experiments.get(index).with_context(|| {
            format!(
                "--index {index}: the grid has {} experiments (`--list` numbers them)",
                experiments.len()
            )
        })?;
        eprintln!("running {}", runner.run_dir_of(experiment).display());
        let result = run_resuming(&mut runner, experiment)?;
        eprintln!("{}", outcome(&result));
        return Ok(());
    }
    let mut done = Vec::new();
    let mut finished = Vec::new();
    let mut failures = Vec::new();
    let mut missing = Vec::new();
    let started = Instant::now();
    for (i, experiment) in experiments.iter().enumerate() {
        if finished_only {
            match runner.finished(experiment)? {
                Some(result) => {
                    done.push(result);
                    finished.push(experiment);
                }
                None => missing.push(experiment.run_dir().display().to_string()),
            }
            continue;
        }
        let label = experiment.run_dir().display().to_string();
        eprintln!("[{}/{}] {label}", i + 1, experiments.len());
        match run_resuming(&mut runner, experiment) {
            Ok(result) => {
                eprintln!("{}", outcome(&result));
                done.push(result);
                finished.push(experiment);
            }
            Err(e) => {
                eprintln!("        FAILED: {e:#}");
                failures.push(format!("{label}: {e:#}"));
            }
        }
    }
    eprintln!("suite finished in {:.0} s", started.elapsed().as_secs_f64());
    if domain == Domain::Edge {
        let bench = edge::EdgeBench::new(runner.runs_root().join("edge-exports"), mode);
        let mut rows = Vec::new();
        for (e, r) in finished.iter().zip(&done) {
            eprintln!("exporting and measuring {}", e.run_dir().display());
            match bench.measure(&mut runner, e, r) {
                Ok(mut more) => rows.append(&mut more),
                Err(err) => failures.push(format!("{}: {err:#}", e.run_dir().display())),
            }
        }
        write_edge(
            &results,
            &mode.stem(Domain::Edge.name()),
            &rows,
            &backend,
            &command_line,
            &commit,
            &missing,
        )?;
        if !failures.is_empty() {
            bail!("{} run(s) failed:\n{}", failures.len(), failures.join("\n"));
        }
        return Ok(());
    }
    if !missing.is_empty() {
        eprintln!(
            "{} of the {} experiments have not run yet (the table leaves them out)",
            missing.len(),
            experiments.len()
        );
    }
    let provenance = Provenance {
        command: command_line,
        commit,
        backend,
        machine: machine::describe(),
        generated_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        notes: notes(domain, mode, &done, missing.len()),
    };
    write_table(
        &results,
        &mode.stem(domain.name()),
        domain,
        &done,
        &provenance,
    )?;
    if !failures.is_empty() {
        bail!("{} run(s) failed:\n{}", failures.len(), failures.join("\n"));
    }
    Ok(())
}

/// Runs one experiment in its run folder with checkpoints, resuming from the folder's
/// checkpoint when an earlier attempt was killed, so a long table can be completed
/// across sittings without losing the runs it was in the middle of.
fn run_resuming(runner: &mut Runner, experiment: &Experiment) -> Result<RunResult> {
    let dir = runner.run_dir_of(experiment);
    let resume = experiment.method.resumable() && checkpoint::exists(&dir);
    if resume {
        eprintln!("        resuming from the checkpoint in {}", dir.display());
    }
    let hooks = Hooks {
        observer: None,
        checkpoints: true,
        resume,
    };
    runner.run_with(experiment, &dir, hooks)
}

/// A finished run's line in the log: accuracy, sparsity, time used of the budget.
fn outcome(result: &RunResult) -> String {
    format!(
        "        test accuracy {:.2}%, sparsity {:.4}, {:.1} s{}",
        100.0 * result.test_accuracy,
        result.sparsity,
        result.time_used_s,
        result
            .budget_s
            .map(|b| format!(" of {b} s"))
            .unwrap_or_default()
    )
}

fn write_table(
    dir: &Path,
    stem: &str,
    domain: Domain,
    runs: &[RunResult],
    provenance: &Provenance,
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_json(&dir.join(format!("{stem}.json")), runs)?;
    let mut plots = Vec::new();
    for (rows, suffix, what) in [
        (Rows::Comparison, "", ""),
        (
            Rows::Ablations,
            "-ablations",
            ": the budgeted method's ablations",
        ),
    ] {
        if !rows.present_in(runs) {
            continue;
        }
        let sparsity_plot = format!("{stem}{suffix}-accuracy-vs-sparsity.svg");
        let budget_plot = format!("{stem}{suffix}-accuracy-vs-budget.svg");
        let titles = [
            format!("Test accuracy against sparsity{what}"),
            format!("Test accuracy against budget{what}"),
        ];
        plot_accuracy_vs_sparsity(&dir.join(&sparsity_plot), &titles[0], runs, rows)?;
        plot_accuracy_vs_budget(&dir.join(&budget_plot), &titles[1], runs, rows)?;
        let [sparsity_title, budget_title] = titles;
        plots.push((sparsity_title, sparsity_plot));
        plots.push((budget_title, budget_plot));
    }
    let title = match domain {
        Domain::Text => "Text: time-budgeted lottery tickets on TREC and MR",
        Domain::Audio => "Audio: time-budgeted lottery tickets on spoken digits",
        _ => "Vision: time-budgeted lottery tickets on MNIST and CIFAR-10",
    };
    let page = markdown_report(title, provenance, runs, &plots);
    let path = dir.join(format!("{stem}.md"));
    std::fs::write(&path, page).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

/// `docs/results/{stem}.{json,md}` for the edge table.
fn write_edge(
    dir: &Path,
    stem: &str,
    rows: &[edge::EdgeRow],
    backend: &str,
    command_line: &str,
    commit: &str,
    missing: &[String],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let json = dir.join(format!("{stem}.json"));
    let text = serde_json::to_string_pretty(rows)?;
    std::fs::write(&json, text + "\n").with_context(|| format!("writing {}", json.display()))?;
    let mut header = format!(
        "Generated by `{command_line}` at commit `{commit}` on {}, {}; backend `{backend}`.\n",
        machine::describe(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
    );
    if !missing.is_empty() {
        let note = incomplete(missing.len(), "ticket", &missing.join(", "));
        header.push_str(&format!("\n{note}\n"));
    }
    let path = dir.join(format!("{stem}.md"));
    std::fs::write(&path, edge::markdown(rows, &header))
        .with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {}", path.display());
    Ok(())
}

fn notes(domain: Domain, mode: Mode, runs: &[RunResult], missing: usize) -> Vec<String> {
    let held_out = match domain {
        Domain::Audio => {
            "10% of the training recordings held out; test: the official split's recordings \
             0–4 of every speaker and digit, or every recording of the held-out speaker"
        }
        Domain::Text => {
            "10% of the training file held out (TREC: the official 500 test questions; MR: a \
             fixed seeded 10% of the snippets is the test split, the same for every seed)"
        }
        _ => "5,000 images held out of the training set",
    };
    let mut notes = vec![
        "`budgeted`: Sprig's time-budgeted IMP (magnitude pruning, global unless a note says \
         otherwise; rewind to θ0, or with `rewound to iteration k` to the dense training's \
         weights at iteration k, \
         rounds and training lengths planned from the measured time per iteration and the \
         dense training's convergence, re-planned at every validation); `one_shot`: one prune to the \
         target in the same budget; `random_prune`: a random mask with the budgeted \
         ticket's per-tensor sparsity, trained from θ0 for the same budget; \
         `random_reinit`: the budgeted ticket's mask with fresh initial weights, same \
         budget; `dense`: no pruning, same budget; `imp`: unconstrained IMP (fixed rounds \
         and iterations per training, no deadline; in the high-sparsity sections the LTH \
         paper's schedule: 50,000 iterations per training, constant Adam, each tensor ranked \
         on its own, at most 20% per round and half that for the output layer and \
         convolutions); `gmp`: gradual magnitude pruning (Zhu & Gupta 2017) in one training \
         that fills the budget, the mask tightened every 100 iterations on the cubic \
         schedule up to three quarters of the planned iterations, then trained on at the \
         final mask (its trained weights, not a ticket: nothing is rewound); \
         `truncated_imp`: the LTH paper's IMP (the same scheme as `imp`'s, rewound to θ0 \
         every round) with every training cut to the same length so that all rounds fit \
         the budget (the number after it: its rounds)."
            .to_string(),
        "The last column compares each budgeted row with the same-budget baseline \
         (`one_shot`, `gmp`, `random_prune`, `random_reinit`, `truncated_imp`) of the highest \
         mean test accuracy: the difference of means, and whether it exceeds the pooled \
         sample standard deviation of the two groups' seeds (`beats`, `within noise of`, \
         `loses to`). Rows marked **default** (`default: true` in the JSON) are the budgeted \
         method as Sprig runs it by default; rows marked **default --final-resumes** \
         (`option: \"final_resumes\"`) are that method with its final training resumed \
         from the last ranking (`--final-resumes`), \
         which `--method auto` runs where the table shows it beating the default by more \
         than the pooled std; other budgeted rows are ablations."
            .to_string(),
        format!(
            "Time used runs from model construction to the ticket folder written (data is \
             loaded before the clock starts); test accuracy is measured afterwards, on the \
             test split, of the weights selected by validation accuracy ({held_out}). \
             Iterations are the training steps of every training of a run together, the \
             fewest and the most over its seeds: a budget buys as many as the host's speed \
             allows, and the rows of a table ran on hosts of different speeds."
        ),
        if domain == Domain::Vision {
            "Learning-rate schedules: `linear_decay` decays to zero at the end of every \
             training (Li, Yumer & Ramanan, ICLR 2020), `constant` keeps Adam's base rate \
             (LTH). Both appear at the largest budget."
        } else {
            "Learning-rate schedule: `linear_decay`, which decays to zero at the end of every \
             training (Li, Yumer & Ramanan, ICLR 2020); the constant-rate comparison is in the \
             vision table."
        }
        .to_string(),
        format!(
            "Round policies (in parentheses after the method). The budgeted runs' policy, \
             `{}`: the dense training stops at its validation plateau (j*); every later \
             training but the last only has to rank the weights for the next prune, so it \
             resumes from the trained weights (pruned, with a fresh learning-rate schedule) \
             instead of θ0, is planned at a quarter of j* (longer, up to j*, when the time \
             allows), and stops as soon as the mask it would prune to keeps 90% of the \
             previous check's survivors (Early-Bird tickets, You et al., ICLR 2020); rounds \
             are added while they fit, up to a 10% per-round rate, and the final ticket's \
             training, from θ0 under the final mask, gets at least half of the time left but \
             at most the time 2 j* dense iterations took (the run may end early). Ablations: `equal trainings` (every \
             training after the dense one from θ0, all of the same length); without \
             `resumed ranking`, ranking trainings rewind to θ0; without `rounds up to 0.1 per \
             round`, rounds stop at 20% per round; `early-bird 0.95` stops the rankings \
             later; without `final at most 2 j*`, the final training gets all the time left; \
             with `in the plans, then all the time left`, the cap shapes the plans while \
             rounds remain and the final training, once it starts, takes all the time left; \
             `early-bird 0.9 of the removals` stops a ranking once 90% of the weights its \
             prune would remove are ones the previous check's would remove too (at 10% per \
             round two prunes always share 8/9 of their survivors, so the survivors' test \
             stops every ranking at its second check); `dense cool-down 0.5 j*` trains the \
             dense training on for half of j* after its plateau, its learning rate decaying \
             to zero; `rewound to iteration k` rewinds to the dense training's weights at \
             iteration k instead of θ0 (late rewinding, Frankle et al., ICML 2020, at about a \
             tenth of the dense training's plateau; Sprig's default for image models, k = \
             500; text and audio models and every budgeted row without it rewind to θ0, as \
             the LTH paper); \
             `final training resumes the last ranking` starts the final training from the \
             weights the last prune ranked, with a fresh learning-rate schedule, instead of \
             θ0 (learning-rate rewinding, Renda, Frankle & Carbin, ICLR 2020: not a θ0 \
             ticket); `distilled from the dense training (T t, weight w)` trains the final \
             training on `1 - w` of the labels' cross-entropy and `w` of the cross-entropy \
             against the dense training's selected weights' outputs softened by the \
             temperature t (knowledge distillation, Hinton et al., 2015); `dense products` \
             (LeNet-300-100) computes every masked layer densely, where `sprig prune` \
             computes a sparse round's products with the surviving weights alone, its step \
             costing what they cost (the high-sparsity sections' baselines ran so). The \
             random controls use the mask of the default policy's θ0 ticket (for image \
             models a sibling of the default ticket, whose rounds run as its own do: only \
             the final training's start differs).",
            sprig_run::config::policy_label(&sprig_run::defaults::budgeted_policy())
        ),
    ];
    if domain == Domain::Text {
        notes.push(
            "Text models: Kim (2014)'s TextCNN (embedding 64, widths 3/4/5 × 100 filters, \
             max over time, dropout 0.5) and a bag of embeddings (mean embedding 128 → 128 → \
             output), random embeddings with the spread of Kim's U[-0.25, 0.25] (no pre-trained vectors); vocabulary from \
             the training split, lower-cased, every token kept; TREC padded/cut to 24 \
             tokens, MR to 44 (99% of the examples whole). The embedding table is prunable like every weight; its \
             own sparsity is the `embedding sparsity` column. Text runs rank weights per tensor \
             (layerwise: every tensor loses the same share of its survivors each round), not in \
             one global pool: the table's U[-0.25, 0.25] entries dwarf the Glorot-drawn \
             convolutions, and a global ranking pruned the convolutions to 95–99.9% while the \
             table kept 22% (TREC 90 s: 84.4 ± 1.1% global vs 85.8% layerwise on seed 0)."
                .into(),
        );
    }
    if domain == Domain::Audio {
        notes.push(
            "Audio: the Free Spoken Digit Dataset (3,000 recordings at 8 kHz, 6 speakers) as \
             log-mel spectrograms (1 s, 32 ms windows every 16 ms, 40 bands from 20 Hz to \
             4 kHz: 61 × 40), normalised per band on the training split. `ds-cnn` is the \
             Hello-Edge DS-CNN-S (batch norm after every convolution) with 2×2 max pooling after the stem (21,888 weights, Kaiming-initialised); `audio-cnn` three \
             convolutions (32/64/128) and fc 128. The variant column names the split: \
             `official` (recordings 0–4 test) or `speaker theo held out`. The audio table \
             runs on `tch-cpu` unless `--backend` says otherwise (its run folders were \
             measured there; a DS-CNN step's cost on each backend is in \
             `docs/results/backends.md`). The held-out speaker section compares the budgeted ticket with \
             dense only (one-shot and random pruning there are in `--full`), to keep the \
             table near an hour."
                .into(),
        );
    }
    if missing > 0 {
        notes.push(incomplete(missing, "experiment", "`--list` names the grid"));
    }
    if mode == Mode::Quick {
        let budget = runs
            .iter()
            .filter_map(|r| r.budget_s)
            .fold(0.0_f64, f64::max);
        notes.push(format!(
            "Quick mode: one seed and a {budget:.0} s budget on one small configuration, to \
             check the pipeline end to end; not the evaluation."
        ));
    }
    notes
}

/// The note of a table written with `--finished-only` while `missing` runs of its grid
/// (`what`s, named by `which`) had not run.
fn incomplete(missing: usize, what: &str, which: &str) -> String {
    format!(
        "Incomplete: {missing} {what}(s) of this grid have not run yet and are not in the \
         table ({which}; the same command without `--finished-only` runs them)."
    )
}
