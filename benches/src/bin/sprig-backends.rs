//! Writes `docs/results/backends.{md,json}`: per model and compiled backend, the median
//! time of one training iteration (on the `train_step` fixtures of this crate),
//! with masks and without (the masking overhead), the share of it spent assembling the
//! batch (data loading), PyTorch's time for the same iteration when the yardstick ran
//! (`--pytorch FILE`, written by `benches/pytorch/train_step.py`), and, for LeNet-300-100
//! on MNIST, the plan each backend gets in the same budget (profiled on the real data).
//! For the models whose layers can compute with the surviving weights alone, it also
//! times a late round's step at several sparsities with the sparse products on, against
//! the dense step in the same process.
//!
//! Run by `cargo xtask bench [--vs-pytorch]`, in rounds: the same machine runs slower
//! or faster from one process to the next (with the same binary), so each round is a
//! fresh process, after a fresh PyTorch process, and `--merge` takes the medians over the
//! rounds.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::Parser;
use serde::{Deserialize, Serialize};
use sprig_backend::{Backend, StepThreads, compiled_backends};
use sprig_benches::{
    Masking, SPARSE_STEP_SPARSITIES, STEP_MODELS, StepFixture, fixture_sparsity,
    sparse_step_fixture, step_fixture, step_fixture_on,
};
use sprig_experiments::machine;
use sprig_experiments::timing::Interleaved;
use sprig_models::Architecture;
use sprig_report::median;
use sprig_run::{Dataset, Method, Runner, defaults};

sprig_backend::global_allocator!();

/// Command-line arguments.
#[derive(Debug, Parser)]
struct Args {
    /// Where `backends.md` and `backends.json` go.
    #[arg(long, default_value = "docs/results")]
    results: PathBuf,
    /// The PyTorch yardstick's JSON output (`benches/pytorch/train_step.py`); repeat it
    /// for several runs (their median is the figure).
    #[arg(long)]
    pytorch: Vec<PathBuf>,
    /// Measure nothing: merge the `backends.json` of earlier rounds (one folder each)
    /// into their medians.
    #[arg(long, num_args = 1..)]
    merge: Vec<PathBuf>,
    /// Where the data sets are (for the planned rounds on MNIST).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The budget the planned rounds are for, seconds.
    #[arg(long, default_value_t = 60.0)]
    budget: f64,
    /// Only the rows whose `MODEL-BACKEND` label contains this text.
    #[arg(long)]
    only: Option<String>,
    /// Short measurements (a smoke run).
    #[arg(long)]
    quick: bool,
    /// Criterion runs per figure (the figure is their median).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// The command that produced the table, for its provenance line.
    #[arg(long, default_value = "sprig-backends")]
    command_line: String,
    /// The commit it was produced at.
    #[arg(long, default_value = "unknown")]
    commit: String,
}

/// One model on one backend.
#[derive(Debug, Serialize, Deserialize)]
struct Row {
    model: String,
    backend: String,
    batch_size: usize,
    /// One training iteration with masks (gradients masked, masks re-applied), ms.
    median_iter_ms: f64,
    /// The same iteration without masks, ms (`None`: not timed).
    unmasked_median_iter_ms: Option<f64>,
    /// `(masked − unmasked) / masked`.
    mask_overhead_fraction: Option<f64>,
    /// Assembling one batch on the device, ms (part of every iteration).
    batch_ms: f64,
    /// `1 − batch / masked iteration`: the share of an iteration in the model's forward,
    /// backward and optimizer step.
    backend_fraction: f64,
    /// PyTorch's median for the same iteration, ms (`None`: not measured).
    pytorch_median_iter_ms: Option<f64>,
    /// `median_iter_ms / pytorch_median_iter_ms`.
    ratio_to_pytorch: Option<f64>,
    /// LeNet-300-100 on MNIST: prunes the first plan of the budget holds.
    planned_prunes: Option<u32>,
    /// LeNet-300-100 on MNIST: iterations over all the trainings of that plan.
    planned_iterations: Option<u64>,
    /// The threads the masked step's kernels ran on, as the trainee chose them
    /// (`StepThreads::Auto`): `one` or `all`, one entry per round.
    #[serde(default)]
    step_threads: Vec<String>,
    /// Rounds (fresh processes) the figures are the medians of.
    #[serde(default = "one")]
    rounds: usize,
    /// The sparsity of the masks the masked step trains under.
    #[serde(default)]
    train_sparsity: Option<f64>,
    /// Whether the masked step ran with the sparse products (`TrainConfig::sparse_products`);
    /// `unmasked_median_iter_ms` is then the dense step it is compared with.
    #[serde(default)]
    sparse_products: bool,
    /// Sparse-product rows: the masked step's time over the dense step's, the median over
    /// rounds of each round's interleaved ratio.
    #[serde(default)]
    ratio_to_dense: Option<f64>,
}

fn one() -> usize {
    1
}

impl Row {
    /// A row from its measured times (`[masked, batch]` ms, the unmasked step's and
    /// PyTorch's when there are), with the shares and ratios that follow from them.
    fn timed(
        model: &str,
        backend: &str,
        batch_size: usize,
        [masked, batch]: [f64; 2],
        unmasked: Option<f64>,
        pytorch_ms: Option<f64>,
    ) -> Self {
        Row {
            model: model.into(),
            backend: backend.into(),
            batch_size,
            median_iter_ms: masked,
            unmasked_median_iter_ms: unmasked,
            mask_overhead_fraction: unmasked.map(|u| (masked - u) / masked),
            batch_ms: batch,
            backend_fraction: 1.0 - batch / masked,
            pytorch_median_iter_ms: pytorch_ms,
            ratio_to_pytorch: pytorch_ms.map(|p| masked / p),
            planned_prunes: None,
            planned_iterations: None,
            step_threads: Vec::new(),
            rounds: 1,
            train_sparsity: None,
            sparse_products: false,
            ratio_to_dense: None,
        }
    }

    /// Whether `other` measures the same step (model, backend, masks and products).
    fn same_step(&self, other: &Row) -> bool {
        self.model == other.model
            && self.backend == other.backend
            && self.train_sparsity == other.train_sparsity
            && self.sparse_products == other.sparse_products
    }
}

/// What the PyTorch script prints (or, merged, each model's fastest allocator's medians).
#[derive(Debug, Deserialize)]
struct PyTorch {
    torch: String,
    threads: usize,
    #[serde(default)]
    allocator: Option<String>,
    models: std::collections::BTreeMap<String, PyTorchModel>,
}

/// The allocator of a PyTorch run that does not name one (the script's default: the
/// process was started without `LD_PRELOAD`).
const UNNAMED_ALLOCATOR: &str = "glibc malloc";

#[derive(Debug, Deserialize)]
struct PyTorchModel {
    median_iter_ms: f64,
    /// Each run's median, when merged.
    #[serde(default)]
    runs: Vec<f64>,
    /// The allocator of those runs, when merged.
    #[serde(default)]
    allocator: Option<String>,
    /// The median under every other allocator measured, when merged.
    #[serde(default)]
    slower: Vec<(String, f64)>,
}

fn main() -> Result<()> {
    sprig_backend::flush_denormals_to_zero();
    let args = Args::parse();
    let pytorch = pytorch_medians(&args.pytorch)?;
    if !args.merge.is_empty() {
        let rows = merge(&args.merge, pytorch.as_ref())?;
        return write(&args, &rows, pytorch.as_ref());
    }
    let mut rows = Vec::new();
    for &backend in compiled_backends() {
        for model in STEP_MODELS {
            // burn-ndarray's convolution backward pass takes seconds per step: its text
            // and audio convolutions are not timed.
            let ndarray_conv = backend == Backend::NdArray && model != Architecture::Lenet300100;
            if ndarray_conv && model != Architecture::Conv2 {
                continue;
            }
            let label = format!("{}-{backend}", model.name());
            if args
                .only
                .as_ref()
                .is_some_and(|only| !label.contains(only.as_str()))
            {
                continue;
            }
            eprintln!("timing {model} on {backend}");
            // Tens of seconds per step: a few timed steps, with masks only.
            let slow = ndarray_conv;
            let runs = if slow { 1 } else { args.runs.max(1) };
            let mut masked = Vec::new();
            let mut unmasked = Vec::new();
            let mut batch = Vec::new();
            let mut batch_size = 0;
            let mut one_thread = false;
            for _ in 0..runs {
                let mut with_masks = step_fixture(model, backend, Masking::Masked)?;
                batch_size = with_masks.batch_size;
                one_thread = with_masks.one_thread;
                if slow {
                    masked.push(time_few(&mut || with_masks.trainee.step().map(|_| ()), 2)?);
                } else {
                    // Masked and unmasked steps alternate in blocks within one process,
                    // so the machine's drift from minute to minute hits both
                    // alike and their difference is the masks' cost.
                    // On the threads the masked fixture chose: the masks' cost alone.
                    let threads = chosen_threads(one_thread);
                    let mut without = step_fixture_on(model, backend, Masking::None, threads)?;
                    let (m, u) = time_interleaved(&mut with_masks, &mut without, args.quick)?;
                    masked.push(m);
                    unmasked.push(u);
                }
                batch.push(time_alone(&mut with_masks.next_batch, args.quick)?);
            }
            let (masked, batch) = (median(&masked), median(&batch));
            let unmasked = (!unmasked.is_empty()).then(|| median(&unmasked));
            let pytorch_ms = pytorch
                .as_ref()
                .and_then(|p| p.models.get(model.name()))
                .map(|m| m.median_iter_ms);
            rows.push(Row {
                step_threads: vec![chosen_threads(one_thread).name().into()],
                train_sparsity: Some(fixture_sparsity(model)),
                ..Row::timed(
                    model.name(),
                    &backend.to_string(),
                    batch_size,
                    [masked, batch],
                    unmasked,
                    pytorch_ms,
                )
            });
            if model == Architecture::Lenet300100 {
                for sparsity in SPARSE_STEP_SPARSITIES {
                    rows.push(sparse_row(&args, model, backend, sparsity, batch)?);
                }
            }
        }
    }
    plan_rounds(&args, &mut rows)?;
    write(&args, &rows, pytorch.as_ref())
}

/// The threads a fixture's `StepThreads::Auto` settled on.
fn chosen_threads(one_thread: bool) -> StepThreads {
    if one_thread {
        StepThreads::One
    } else {
        StepThreads::All
    }
}

/// A late round's step: masks at `sparsity`, the sparse products on, interleaved with the
/// dense (unmasked) step on the same threads, `args.runs` times. `batch_ms`: the model's
/// batch assembly, as timed for its usual row (the same batches).
fn sparse_row(
    args: &Args,
    model: Architecture,
    backend: Backend,
    sparsity: f64,
    batch_ms: f64,
) -> Result<Row> {
    eprintln!("timing {model} on {backend} at sparsity {sparsity}, sparse products on");
    let (mut sparse_ms, mut dense_ms, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut batch_size, mut threads) = (0, Vec::new());
    for _ in 0..args.runs.max(1) {
        let mut sparse = sparse_step_fixture(model, backend, sparsity, true)?;
        batch_size = sparse.batch_size;
        let on = chosen_threads(sparse.one_thread);
        threads.push(on.name().to_string());
        let mut dense = step_fixture_on(model, backend, Masking::None, on)?;
        let (s, d) = time_interleaved(&mut sparse, &mut dense, args.quick)?;
        sparse_ms.push(s);
        dense_ms.push(d);
        ratios.push(s / d);
    }
    Ok(Row {
        step_threads: threads,
        rounds: 1,
        train_sparsity: Some(sparsity),
        sparse_products: true,
        ratio_to_dense: Some(median(&ratios)),
        ..Row::timed(
            model.name(),
            &backend.to_string(),
            batch_size,
            [median(&sparse_ms), batch_ms],
            Some(median(&dense_ms)),
            None,
        )
    })
}

/// The first plan of a budgeted LeNet-300-100 run on MNIST (90 %) on every backend:
/// profiled on the real data, as `sprig plan` does.
fn plan_rounds(args: &Args, rows: &mut [Row]) -> Result<()> {
    let data_dir = sprig_data::data_dir(args.data_dir.clone());
    let runs = std::env::temp_dir().join("sprig-backends-plans");
    let mut runner = Runner::new(data_dir, runs);
    for row in rows
        .iter_mut()
        .filter(|r| r.model == Architecture::Lenet300100.name())
    {
        let experiment = defaults::single(
            Dataset::Mnist,
            Architecture::Lenet300100,
            Method::Budgeted,
            0,
            row.backend.parse::<sprig_backend::Backend>()?,
            args.budget,
            0.9,
        )?;
        eprintln!("planning {} s on {}", args.budget, row.backend);
        let record = runner
            .plan(&experiment)
            .map(|planned| planned.record)
            .with_context(|| format!("planning LeNet-300-100 on MNIST with {}", row.backend))?;
        row.planned_prunes = Some(record.plan.rounds);
        row.planned_iterations = Some(record.plan.trainings.iter().sum());
    }
    Ok(())
}

/// The PyTorch runs in `paths`: per model, the median over the runs under each allocator,
/// and the yardstick the fastest of those (the harder one to beat).
fn pytorch_medians(paths: &[PathBuf]) -> Result<Option<PyTorch>> {
    let mut runs = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the PyTorch timings {}", path.display()))?;
        let run: PyTorch = serde_json::from_str(&text)
            .with_context(|| format!("{} is not the yardstick's output", path.display()))?;
        runs.push(run);
    }
    let Some(first) = runs.first() else {
        return Ok(None);
    };
    let allocator_of = |run: &PyTorch| {
        run.allocator
            .clone()
            .unwrap_or_else(|| UNNAMED_ALLOCATOR.into())
    };
    let allocators: std::collections::BTreeSet<String> = runs.iter().map(allocator_of).collect();
    let names: std::collections::BTreeSet<&String> =
        runs.iter().flat_map(|run| run.models.keys()).collect();
    let mut models = std::collections::BTreeMap::new();
    for name in names {
        let mut by_allocator: std::collections::BTreeMap<String, Vec<f64>> = Default::default();
        for run in &runs {
            if let Some(model) = run.models.get(name) {
                by_allocator
                    .entry(allocator_of(run))
                    .or_default()
                    .push(model.median_iter_ms);
            }
        }
        let mut medians: Vec<(String, f64, Vec<f64>)> = by_allocator
            .into_iter()
            .map(|(allocator, times)| (allocator, median(&times), times))
            .collect();
        medians.sort_by(|a, b| a.1.total_cmp(&b.1));
        let (allocator, fastest, times) = medians.remove(0);
        models.insert(
            name.clone(),
            PyTorchModel {
                median_iter_ms: fastest,
                runs: times,
                allocator: Some(allocator),
                slower: medians.into_iter().map(|(a, m, _)| (a, m)).collect(),
            },
        );
    }
    Ok(Some(PyTorch {
        torch: first.torch.clone(),
        threads: first.threads,
        allocator: Some(allocators.into_iter().collect::<Vec<_>>().join(" or ")),
        models,
    }))
}

/// The rows of every round's `backends.json` in `folders`, merged per model and backend
/// into the medians over the rounds; PyTorch's medians joined in.
fn merge(folders: &[PathBuf], pytorch: Option<&PyTorch>) -> Result<Vec<Row>> {
    let mut rounds: Vec<Vec<Row>> = Vec::new();
    for folder in folders {
        let path = folder.join("backends.json");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        rounds.push(
            serde_json::from_str(&text)
                .with_context(|| format!("{} is not a backends table", path.display()))?,
        );
    }
    let first = rounds.first().context("no rounds to merge")?;
    let mut merged = Vec::new();
    for row in first {
        let same: Vec<&Row> = rounds
            .iter()
            .filter_map(|r| r.iter().find(|o| o.same_step(row)))
            .collect();
        let of = |f: fn(&Row) -> f64| median(&same.iter().map(|r| f(r)).collect::<Vec<_>>());
        let of_opt = |f: fn(&Row) -> Option<f64>| {
            let values: Vec<f64> = same.iter().filter_map(|r| f(r)).collect();
            (!values.is_empty()).then(|| median(&values))
        };
        let masked = of(|r| r.median_iter_ms);
        let unmasked = of_opt(|r| r.unmasked_median_iter_ms);
        let batch = of(|r| r.batch_ms);
        let pytorch_ms = pytorch
            .and_then(|p| p.models.get(&row.model))
            .map(|m| m.median_iter_ms);
        merged.push(Row {
            planned_prunes: of_opt(|r| r.planned_prunes.map(f64::from)).map(|v| v as u32),
            planned_iterations: of_opt(|r| r.planned_iterations.map(|i| i as f64))
                .map(|v| v as u64),
            // Each round's overhead compares steps interleaved on the same machine state;
            // the medians of masked and unmasked times over rounds would mix minutes.
            mask_overhead_fraction: of_opt(|r| r.mask_overhead_fraction),
            step_threads: same.iter().flat_map(|r| r.step_threads.clone()).collect(),
            rounds: same.len(),
            train_sparsity: row.train_sparsity,
            sparse_products: row.sparse_products,
            ratio_to_dense: of_opt(|r| r.ratio_to_dense),
            ..Row::timed(
                &row.model,
                &row.backend,
                row.batch_size,
                [masked, batch],
                unmasked,
                pytorch_ms,
            )
        });
    }
    Ok(merged)
}

/// Median of `n` timed calls of `f` after one untimed call, milliseconds: for steps of
/// tens of seconds, where turns of 100 ms for 8 s would take many minutes.
fn time_few(f: &mut impl FnMut() -> Result<(), sprig_prune::PruneError>, n: usize) -> Result<f64> {
    f()?;
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = std::time::Instant::now();
        f()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    Ok(median(&times))
}

/// The tables' timer: about 8 s of turns of about 100 ms each (2 s when `quick`).
fn timer(quick: bool) -> Interleaved {
    Interleaved::new(
        Duration::from_millis(300),
        Duration::from_secs(if quick { 2 } else { 8 }),
        Duration::from_millis(100),
    )
}

/// Median milliseconds per step of `a` and of `b`, stepped in alternating turns.
fn time_interleaved(a: &mut StepFixture, b: &mut StepFixture, quick: bool) -> Result<(f64, f64)> {
    let mut step_a = || a.trainee.step().map(|_| ()).map_err(anyhow::Error::from);
    let mut step_b = || b.trainee.step().map(|_| ()).map_err(anyhow::Error::from);
    let medians = timer(quick).medians_ns(&mut [&mut step_a, &mut step_b])?;
    Ok((medians[0] / 1e6, medians[1] / 1e6))
}

/// Median milliseconds per call of `f`, timed alone.
fn time_alone(
    f: &mut impl FnMut() -> Result<(), sprig_prune::PruneError>,
    quick: bool,
) -> Result<f64> {
    let mut call = || f().map_err(anyhow::Error::from);
    Ok(timer(quick).medians_ns(&mut [&mut call])?[0] / 1e6)
}

fn write(args: &Args, rows: &[Row], pytorch: Option<&PyTorch>) -> Result<()> {
    std::fs::create_dir_all(&args.results)
        .with_context(|| format!("creating {}", args.results.display()))?;
    let json = args.results.join("backends.json");
    std::fs::write(&json, serde_json::to_string_pretty(rows)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    let threads = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mut md = format!(
        "# Backends: time per training iteration\n\nGenerated by `{}` at commit `{}` on {}, \
         {}; every Sprig process with mimalloc as its allocator and {threads} threads.\n\n",
        args.command_line,
        args.commit,
        machine::describe(),
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()),
    );
    md.push_str(&match pytorch {
        Some(p) => format!(
            "PyTorch {} yardstick: `benches/pytorch/train_step.py`, {} threads, allocator: {} \
             (each model's yardstick is the faster of them); the same models, batch sizes and \
             Adam settings. Its runs (ms per iteration, each the median of its iterations): \
             {}.\n\n",
            p.torch,
            p.threads,
            p.allocator.as_deref().unwrap_or(UNNAMED_ALLOCATOR),
            p.models
                .iter()
                .map(|(name, m)| {
                    let runs = m
                        .runs
                        .iter()
                        .map(|t| format!("{t:.3}"))
                        .collect::<Vec<_>>()
                        .join(" / ");
                    let slower = m
                        .slower
                        .iter()
                        .map(|(allocator, ms)| format!(", median {ms:.3} with {allocator}"))
                        .collect::<String>();
                    format!(
                        "{name} {runs} with {}{slower}",
                        m.allocator.as_deref().unwrap_or(UNNAMED_ALLOCATOR)
                    )
                })
                .collect::<Vec<_>>()
                .join("; ")
        ),
        None => "PyTorch was not measured (run `cargo xtask bench --vs-pytorch` where it is \
                 installed).\n\n"
            .to_string(),
    });
    md.push_str(
        "| model | backend | batch | ms / iteration (masked) | unmasked | masking overhead | \
         batch assembly | in the backend | PyTorch ms | ratio to PyTorch | planned prunes in \
         the budget | planned iterations | step threads |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let opt =
        |v: Option<f64>, digits: usize| v.map_or("–".to_string(), |v| format!("{v:.digits$}"));
    for r in rows.iter().filter(|r| !r.sparse_products) {
        md.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} | {} % | {:.3} ms | {:.1} % | {} | {} | {} | {} | {} |\n",
            r.model,
            r.backend,
            r.batch_size,
            r.median_iter_ms,
            opt(r.unmasked_median_iter_ms, 3),
            opt(r.mask_overhead_fraction.map(|f| 100.0 * f), 1),
            r.batch_ms,
            100.0 * r.backend_fraction,
            opt(r.pytorch_median_iter_ms, 3),
            opt(r.ratio_to_pytorch, 2),
            r.planned_prunes.map_or("–".into(), |p| p.to_string()),
            r.planned_iterations.map_or("–".into(), |p| p.to_string()),
            r.step_threads.join(", "),
        ));
    }
    md.push_str(&format!(
        "\nEach time is the median over {} round(s) — a round is a fresh process, run right \
         after a fresh PyTorch process when compared — of {} run(s) per round; in a run the \
         masked and the unmasked step alternate in blocks of about 100 ms for 8 s (the time \
         is the median step), so the machine's drift hits both alike; batch assembly is \
         timed alone the same way. `step threads`: what the trainer chose per round \
         for the masked step (`StepThreads::Auto`: one thread when the first steps on all take \
         under 10 ms; LibTorch keeps its own threads). An iteration: batch assembly from host buffers, forward, cross-entropy, \
         backward, Adam step fused with the masks (gradient masked, weight update, pruned weights zeroed: one pass per parameter), loss read back (which waits \
         for the device). `unmasked`: the same step with no masks; the masking overhead is \
         their difference over the masked time, within each round (the median over rounds \
         of that). `batch assembly`: building one batch on the \
         device alone; `in the backend`: the rest of the iteration. Examples are drawn, not \
         read: a step's time depends on shapes, not values. Planned prunes and iterations: \
         the first plan of a budgeted LeNet-300-100 run on MNIST at 90 % sparsity in {} s, \
         after profiling on the real data (as `sprig plan`). burn-ndarray's convolution \
         backward pass takes tens of seconds per step, so it is timed on Conv-2 only: the \
         median of two timed steps after one untimed, with masks.\n",
        rows.iter().map(|r| r.rounds).max().unwrap_or(1),
        args.runs,
        args.budget
    ));
    md.push_str(&sparse_section(rows));
    let path = args.results.join("backends.md");
    std::fs::write(&path, md).with_context(|| format!("writing {}", path.display()))?;
    eprintln!("wrote {} and {}", path.display(), json.display());
    Ok(())
}

/// The late-round steps with the sparse products on, against the dense step.
fn sparse_section(rows: &[Row]) -> String {
    let sparse: Vec<&Row> = rows.iter().filter(|r| r.sparse_products).collect();
    if sparse.is_empty() {
        return String::new();
    }
    let mut md = String::from(
        "\n## Sparse rounds: the step at high sparsity\n\n\
         | model | backend | train sparsity | ms / iteration (masked, sparse products) | \
         dense ms / iteration | ratio to dense | step threads |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for r in sparse {
        md.push_str(&format!(
            "| {} | {} | {} | {:.3} | {} | {} | {} |\n",
            r.model,
            r.backend,
            r.train_sparsity.map_or("–".into(), |s| s.to_string()),
            r.median_iter_ms,
            r.unmasked_median_iter_ms
                .map_or("–".into(), |v| format!("{v:.3}")),
            r.ratio_to_dense.map_or("–".into(), |v| format!("{v:.2}")),
            r.step_threads.join(", "),
        ));
    }
    md.push_str(
        "\nA late round of pruning: the masks keep the given share of weights (magnitude \
         pruning of θ0, one global pool), and the layers that can compute with the \
         surviving weights alone do (`PrunableLinear`: sparse products on burn-flex once a \
         layer keeps at most a fifth of its weights, the dense product elsewhere), and Adam \
         updates only the kept weights of a parameter that keeps at most a quarter. The \
         dense step (no masks) alternates with it in blocks of about 100 ms in the same \
         process; the ratio is each round's ratio of the two medians, the median over \
         rounds.\n",
    );
    md
}
