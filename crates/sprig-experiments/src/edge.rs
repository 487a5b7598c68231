//! `eval edge`: exports tickets in every format and measures what a device would see —
//! bytes on disk, single-sample latency of the runtime (dense and sparse) and of Burn,
//! and test accuracy of the exported model against the Burn model it came from.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};
use sprig_backend::BackendChoice;
use sprig_data::ImageSet;
use sprig_data::audio::{FeatureNorm, FeatureSet, FsddSplit};
use sprig_data::text::TextSet;
use sprig_export::{
    ExportError, ExportFormat, ModelSpec, SizeReport, TractModel, export, export_onnx, write_file,
};
use sprig_models::{Architecture, Classifier, Modality, WithModel, build_model, build_text_model};
use sprig_prune::classifier::{
    FeatureBatches, ImageBatches, LabelledData, TokenBatches, TrainConfig,
};
use sprig_prune::load_snapshot;
use sprig_report::{RunResult, median};
use sprig_runtime::{Execution, Model};

use sprig_run::export::ticket_spec;
use sprig_run::runner::Runner;
use sprig_run::ticket::{self, files};
use sprig_run::{Dataset, Domain, Experiment, Method};

use crate::suite::{self, Mode};
use crate::timing::{Interleaved, Work};

/// One model, sparsity and format: the objects of `docs/results/edge.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeRow {
    /// Data set.
    pub dataset: String,
    /// Architecture.
    pub model: String,
    /// `dense` or `budgeted`: how the ticket was made.
    pub method: String,
    /// Sparsity the ticket was pruned to (over prunable weights).
    pub sparsity: f64,
    /// The wall-clock budget the ticket was found in, seconds (two tickets of one
    /// sparsity differ by it).
    #[serde(default)]
    pub budget_s: Option<f64>,
    /// `dense_f32`, `sparse_f32` or `sparse_int8`.
    pub format: String,
    /// Bytes of the exported file.
    pub bytes: usize,
    /// Bytes of the model's parameters as dense fp32.
    pub dense_f32_bytes: usize,
    /// Single-sample latency of the runtime (dense execution for `dense_f32`, sparse
    /// otherwise), microseconds: the median of several timed runs' medians.
    pub latency_us: f64,
    /// The medians of the separate timed runs `latency_us` is the median of.
    #[serde(default)]
    pub latency_runs_us: Vec<f64>,
    /// Median single-sample latency of the Burn model on the same backend as training
    /// (dense, batch of one), microseconds, timed with the runtime's variants.
    pub burn_latency_us: f64,
    /// Median single-sample latency of tract running the ticket's ONNX export (pruned
    /// weights as zeros: what a user deploying with ONNX tooling gets), microseconds,
    /// timed with the runtime's variants.
    #[serde(default = "not_measured")]
    pub tract_latency_us: f64,
    /// Bytes of the ONNX export.
    #[serde(default)]
    pub onnx_bytes: usize,
    /// Fraction of the examples on which tract, running the ONNX export, predicts Burn's
    /// class.
    #[serde(default = "not_measured")]
    pub onnx_agreement: f64,
    /// Multiply–adds of one runtime forward pass.
    pub multiply_adds: usize,
    /// Test accuracy of the exported model in the runtime (a fraction).
    pub test_accuracy: f64,
    /// Test accuracy of the Burn model on the same examples.
    pub burn_test_accuracy: f64,
    /// Fraction of the examples on which runtime and Burn predict the same class.
    pub agreement: f64,
    /// Test examples evaluated (the first N of the official test split).
    pub test_examples: usize,
    /// The ticket's run folder.
    pub ticket: String,
}

/// Rows written before a column existed.
fn not_measured() -> f64 {
    f64::NAN
}

/// The tickets the edge table needs: for each model, one budgeted ticket per sparsity and
/// a dense model, seed 0, on `backend`.
pub fn suite(mode: Mode, backend: BackendChoice) -> Vec<Experiment> {
    // Quick: the vision quick table's dense model and 0.9 ticket (CI runs it first, so
    // they are finished runs) and one ticket of its own at the LTH's smallest.
    let (lenet_targets, lenet_budget) = match mode {
        Mode::Quick => (vec![0.964], 15.0),
        Mode::Standard | Mode::Full => (vec![0.0, 0.5, 0.7, 0.9, 0.964, 0.98], 60.0),
    };
    let make = |dataset, model, train: TrainConfig, eval_every, budget, target| {
        let ticket = Experiment {
            domain: Domain::Edge,
            ..suite::budgeted_run(dataset, model, train, eval_every, budget, target, backend)
        };
        if target > 0.0 {
            ticket
        } else {
            suite::dense_beside(&ticket)
        }
    };
    let mut runs: Vec<Experiment> = if mode == Mode::Quick {
        let mut reused: Vec<Experiment> = suite::vision(Mode::Quick, backend)
            .into_iter()
            .filter(|e| {
                exported(e, Architecture::Lenet300100)
                    && (e.method == Method::Dense || e.target_sparsity == 0.9)
            })
            .collect();
        // The table lists a model's tickets from dense up.
        reused.sort_by(|a, b| a.target_sparsity.total_cmp(&b.target_sparsity));
        reused
    } else {
        Vec::new()
    };
    runs.extend(lenet_targets.into_iter().map(|t| {
        make(
            Dataset::Mnist,
            Architecture::Lenet300100,
            TrainConfig::lenet(0),
            500,
            lenet_budget,
            t,
        )
    }));
    if mode != Mode::Quick {
        // Conv-2 trains for many minutes: the edge table measures the vision table's
        // tickets (seed 0: dense and the default budgeted ones) instead of running its own.
        runs.extend(
            suite::vision(Mode::Standard, backend)
                .into_iter()
                .filter(|e| exported(e, Architecture::Conv2)),
        );
        // The keyword spotter: the audio table's DS-CNN tickets on the official split,
        // seed 0: dense, and the default budgeted tickets at 0.8 and 0.9.
        runs.extend(
            suite::audio(Mode::Standard, backend)
                .into_iter()
                .filter(|e| {
                    let official = e
                        .audio
                        .as_ref()
                        .is_some_and(|a| a.split == FsddSplit::Official);
                    let wanted = AUDIO_TICKETS
                        .contains(&(e.target_sparsity, e.budget_s.unwrap_or(f64::NAN)));
                    exported(e, Architecture::DsCnn) && official && wanted
                }),
        );
        // The text classifier: the text table's TREC TextCNN tickets of 180 s, seed 0:
        // dense, 0.8 and 0.95.
        let mut text: Vec<Experiment> = suite::text(Mode::Standard, backend)
            .into_iter()
            .filter(|e| {
                exported(e, Architecture::TextCnn)
                    && e.dataset == Dataset::Trec
                    && e.budget_s == Some(TEXT_BUDGET)
            })
            .collect();
        text.sort_by(|a, b| a.target_sparsity.total_cmp(&b.target_sparsity));
        runs.extend(text);
    }
    runs
}

/// The budget of the text table's TREC TextCNN tickets the edge table exports, seconds.
const TEXT_BUDGET: f64 = 180.0;

/// Whether `e` is a run of `model` whose ticket the edge table exports: seed 0, dense or
/// the default budgeted method (its ablations and baselines stay in their own tables).
fn exported(e: &Experiment, model: Architecture) -> bool {
    e.model == model && e.seed == 0 && (e.method == Method::Dense || e.is_default())
}

/// The DS-CNN tickets of the audio table the edge table exports, as (target sparsity,
/// budget in seconds): dense and 0.8 where the audio table compares them, 0.9 in its
/// high-sparsity section.
const AUDIO_TICKETS: [(f64, f64); 3] = [(0.0, 180.0), (0.8, 180.0), (0.9, 300.0)];

/// Exports and measures tickets.
#[derive(Debug)]
pub struct EdgeBench {
    /// Where exported files go.
    out_dir: PathBuf,
    /// The most test examples a model is run on (the dense runtime of a conv net takes
    /// milliseconds per example).
    max_examples: fn(Architecture) -> usize,
    quick: bool,
}

impl EdgeBench {
    /// Exported files go to `out_dir`.
    pub fn new(out_dir: PathBuf, mode: Mode) -> Self {
        Self {
            out_dir,
            max_examples: |a| match a {
                Architecture::Lenet300100 => 10_000,
                _ => 2_000,
            },
            quick: mode == Mode::Quick,
        }
    }

    /// Every format of the ticket of `experiment` (already run), measured.
    ///
    /// # Errors
    /// A missing ticket file, a model the runtime cannot run, or a failed measurement.
    pub fn measure(
        &self,
        runner: &mut Runner,
        experiment: &Experiment,
        result: &RunResult,
    ) -> Result<Vec<EdgeRow>> {
        let dir = runner.run_dir_of(experiment);
        let trained = dir.join(files::TRAINED);
        if !trained.exists() {
            // Committed run folders keep a run's result and mask, not its weights.
            bail!(
                "{}: the ticket's trained weights are missing (a run folder from the \
                 repository holds its result and mask only): retrain the edge table's \
                 tickets into another folder with `cargo xtask eval edge --runs FOLDER`",
                trained.display()
            );
        }
        let weights = ticket::read_weights(&trained)?;
        let device = experiment.backend.or_default().device()?;
        let spec = ticket_spec(runner, experiment, &dir)?;
        let (input, classes) = (spec.input, spec.classes);
        let most = (self.max_examples)(experiment.model);
        let first_n = |len: usize| (0..len.min(most)).collect::<Vec<_>>();
        let ticket = Ticket {
            bench: self,
            experiment,
            result,
            weights: &weights,
            device: &device,
            spec,
            dir,
        };
        match experiment.dataset.modality() {
            Modality::Image => {
                let (data, norm) = runner.data(experiment.dataset, experiment.seed)?;
                let test = data.test.subset(&first_n(data.test.len()))?;
                let job = Measure {
                    ticket,
                    test: ImageBatches::new(test.clone(), norm.clone()),
                    inputs: DeviceInputs::Pixels(test),
                };
                build_model(experiment.model, input, classes, &device, job)?
            }
            Modality::Audio => {
                let (data, norm) = runner.audio_data(experiment)?;
                let test = data.test.subset(&first_n(data.test.len()))?;
                let job = Measure {
                    ticket,
                    test: FeatureBatches::new(test.clone(), norm.clone()),
                    inputs: DeviceInputs::Features {
                        set: test,
                        norm: norm.clone(),
                    },
                };
                build_model(experiment.model, input, classes, &device, job)?
            }
            Modality::Text => {
                let data = runner.text_data(experiment)?;
                let test = data.test.subset(&first_n(data.test.len()))?;
                let vocab = data.vocab.len();
                let job = Measure {
                    ticket,
                    test: TokenBatches::new(test.clone()),
                    inputs: DeviceInputs::Tokens(test),
                };
                build_text_model(experiment.model, vocab, classes, &device, job)?
            }
        }
    }

    /// Timed runs per latency figure: the figure is their median, and within a run a
    /// ticket's variants and Burn take turns, so a slow spell of the machine hits them all
    /// alike.
    fn latency_runs(&self) -> usize {
        if self.quick { 1 } else { 5 }
    }

    fn timer(&self) -> Interleaved {
        if self.quick {
            Interleaved::new(
                Duration::from_millis(200),
                Duration::from_millis(1500),
                Duration::from_millis(50),
            )
        } else {
            Interleaved::new(
                Duration::from_millis(500),
                Duration::from_secs(8),
                Duration::from_millis(100),
            )
        }
    }
}

/// The ticket being measured and where it came from.
struct Ticket<'a> {
    bench: &'a EdgeBench,
    experiment: &'a Experiment,
    result: &'a RunResult,
    weights: &'a sprig_mask::Snapshot,
    device: &'a Device,
    spec: ModelSpec,
    dir: PathBuf,
}

/// What the runtime is given for a test example: raw 8-bit pixels (it applies the
/// normalisation itself, as a device would), or the normalised log-mel spectrogram
/// (computed on the host as training computed it).
enum DeviceInputs {
    Pixels(ImageSet),
    Features { set: FeatureSet, norm: FeatureNorm },
    Tokens(TextSet),
}

/// One example as the runtime takes it.
enum DeviceInput {
    Pixels(Vec<u8>),
    Features(Vec<f32>),
    Tokens(Vec<u32>),
}

impl DeviceInputs {
    fn labels(&self) -> Vec<usize> {
        match self {
            DeviceInputs::Pixels(set) => set.labels().iter().map(|&l| usize::from(l)).collect(),
            DeviceInputs::Features { set, .. } => {
                set.labels().iter().map(|&l| usize::from(l)).collect()
            }
            DeviceInputs::Tokens(set) => set.labels().iter().map(|&l| usize::from(l)).collect(),
        }
    }

    fn example(&self, index: usize) -> Result<DeviceInput> {
        Ok(match self {
            DeviceInputs::Pixels(set) => {
                DeviceInput::Pixels(set.image(index).context("test image")?.to_vec())
            }
            DeviceInputs::Features { set, norm } => {
                let (mut values, mut labels) = (Vec::new(), Vec::new());
                set.fill_batch(&[index], norm, &mut values, &mut labels)?;
                DeviceInput::Features(values)
            }
            DeviceInputs::Tokens(set) => {
                // The words without the padding: the runtime pads as training did.
                let row = set.row(index).context("test text")?;
                DeviceInput::Tokens(row.iter().copied().filter(|&id| id != 0).collect())
            }
        })
    }
}

impl DeviceInput {
    fn forward(&self, runtime: &Model) -> Result<Vec<f32>, sprig_runtime::RuntimeError> {
        match self {
            DeviceInput::Pixels(pixels) => runtime.forward_pixels(pixels),
            DeviceInput::Features(values) => runtime.forward(values),
            DeviceInput::Tokens(ids) => runtime.forward_tokens(ids),
        }
    }

    fn predict(&self, runtime: &Model) -> Result<usize, sprig_runtime::RuntimeError> {
        match self {
            DeviceInput::Pixels(pixels) => runtime.predict_pixels(pixels),
            DeviceInput::Features(values) => runtime.predict(values),
            DeviceInput::Tokens(ids) => Ok(argmax(&runtime.forward_tokens(ids)?)),
        }
    }

    /// The ONNX export's input: pixel values as floats (its first nodes normalise them).
    fn onnx(&self) -> Vec<f32> {
        match self {
            DeviceInput::Pixels(pixels) => pixels.iter().map(|&p| f32::from(p)).collect(),
            DeviceInput::Features(values) => values.clone(),
            DeviceInput::Tokens(ids) => ids.iter().map(|&id| id as f32).collect(),
        }
    }
}

/// One ticket being measured on its test examples; runs with the concrete model type.
struct Measure<'a, D: LabelledData> {
    ticket: Ticket<'a>,
    /// The examples as Burn takes them.
    test: D,
    /// The same examples as the runtime takes them.
    inputs: DeviceInputs,
}

impl<D: LabelledData> WithModel for Measure<'_, D> {
    type Input = D::Input;
    type Output = Result<Vec<EdgeRow>>;

    fn with<M: Classifier<Input = D::Input>>(mut self, model: M) -> Self::Output {
        let t = &self.ticket;
        let e = t.experiment;
        let Some(graph) = model.inference_graph() else {
            bail!("{} has no sequential graph the runtime can run", e.model);
        };
        let model = load_snapshot(model, t.weights)?;
        let burn_predictions = burn_predictions(&model, &mut self.test, t.device)?;
        let labels = self.inputs.labels();
        let burn_accuracy = accuracy(&burn_predictions, &labels);

        let tag = format!(
            "{}-s{}",
            e.model,
            (t.result.sparsity * 1000.0).round() / 1000.0
        );
        if labels.is_empty() {
            bail!("the test split is empty");
        }
        let examples = (0..labels.len())
            .map(|i| self.inputs.example(i))
            .collect::<Result<Vec<_>>>()?;
        let first = &examples[0];

        std::fs::create_dir_all(&t.bench.out_dir)
            .with_context(|| format!("creating {}", t.bench.out_dir.display()))?;
        let mut rows = Vec::new();
        let mut runtimes = Vec::new();
        for format in ExportFormat::ALL {
            let file = export(&graph, t.weights, &t.spec, format)?;
            let path = t.bench.out_dir.join(format!("{tag}-{format}.sprig"));
            write_file(&path, &file.bytes)?;
            if format == ExportFormat::SparseF32 {
                let report = SizeReport::of(&file);
                std::fs::write(
                    t.bench.out_dir.join(format!("{tag}-sizes.txt")),
                    report.to_string(),
                )
                .context("writing the size report")?;
            }
            let execution = match format {
                ExportFormat::DenseF32 => Execution::Dense,
                _ => Execution::Sparse,
            };
            // Load from disk: what a device would do.
            let bytes =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            let runtime = Model::load(&bytes, execution)?;
            let predictions = examples
                .iter()
                .map(|x| x.predict(&runtime))
                .collect::<Result<Vec<_>, _>>()?;
            let agree = predictions
                .iter()
                .zip(&burn_predictions)
                .filter(|(a, b)| a == b)
                .count() as f64
                / labels.len().max(1) as f64;
            rows.push(EdgeRow {
                dataset: e.dataset.name().into(),
                model: e.model.name().into(),
                method: e.method.name().into(),
                sparsity: t.result.sparsity,
                budget_s: e.budget_s,
                format: format.name().into(),
                bytes: file.bytes.len(),
                dense_f32_bytes: SizeReport::of(&file).dense_f32_bytes,
                latency_us: f64::NAN,
                latency_runs_us: Vec::new(),
                burn_latency_us: f64::NAN,
                tract_latency_us: f64::NAN,
                onnx_bytes: 0,
                onnx_agreement: f64::NAN,
                multiply_adds: runtime.multiply_adds(),
                test_accuracy: accuracy(&predictions, &labels),
                burn_test_accuracy: burn_accuracy,
                agreement: agree,
                test_examples: labels.len(),
                ticket: t.dir.display().to_string(),
            });
            runtimes.push(runtime);
        }

        // The ONNX export in tract: what a user deploying with ONNX tooling would run
        // (none for a model the ONNX lowering does not cover yet).
        let onnx = match export_onnx(&graph, t.weights, &t.spec) {
            Ok(onnx) => Some(onnx),
            Err(ExportError::NoOnnxLowering { .. }) => None,
            Err(e) => return Err(e.into()),
        };
        let tract = match &onnx {
            Some(onnx) => {
                let onnx_path = t.bench.out_dir.join(format!("{tag}.onnx"));
                write_file(&onnx_path, onnx)?;
                let [c, h, w] = t.spec.input;
                Some(TractModel::load(
                    &std::fs::read(&onnx_path)
                        .with_context(|| format!("reading {}", onnx_path.display()))?,
                    &[1, c, h, w],
                )?)
            }
            None => None,
        };
        let onnx_agreement = match &tract {
            Some(tract) => {
                let predictions = examples
                    .iter()
                    .map(|x| Ok(argmax(&tract.forward(&x.onnx())?)))
                    .collect::<Result<Vec<_>>>()?;
                accuracy(&predictions, &burn_predictions)
            }
            None => f64::NAN,
        };
        let onnx_first = first.onnx();

        // Latency: Burn, tract and every variant take turns within a run, the runs
        // repeated; medians of the runs.
        let timer = t.bench.timer();
        // Burn's input for the first example, normalised as in training.
        let (x, _) = self.test.batch(&[0], t.device)?;
        let (mut burn_runs, mut tract_runs) = (Vec::new(), Vec::new());
        for _ in 0..t.bench.latency_runs() {
            let mut burn = || -> Result<()> {
                let logits = model.forward(x.clone());
                std::hint::black_box(logits.into_data());
                Ok(())
            };
            let mut onnx_run = || -> Result<()> {
                if let Some(tract) = &tract {
                    std::hint::black_box(tract.forward(std::hint::black_box(&onnx_first))?);
                }
                Ok(())
            };
            let mut variants: Vec<Box<dyn FnMut() -> Result<()> + '_>> = runtimes
                .iter()
                .map(|runtime| -> Box<dyn FnMut() -> Result<()> + '_> {
                    Box::new(|| {
                        std::hint::black_box(std::hint::black_box(first).forward(runtime).ok());
                        Ok(())
                    })
                })
                .collect();
            // Tract takes turns only when there is an ONNX file for it to run.
            let mut work: Vec<Work<'_>> = vec![&mut burn];
            if tract.is_some() {
                work.push(&mut onnx_run);
            }
            let first_variant = work.len();
            work.extend(variants.iter_mut().map(|v| v.as_mut() as Work<'_>));
            let medians = timer.medians_ns(&mut work)?;
            burn_runs.push(medians[0] / 1000.0);
            tract_runs.push(if tract.is_some() {
                medians[1] / 1000.0
            } else {
                f64::NAN
            });
            for (row, ns) in rows.iter_mut().zip(&medians[first_variant..]) {
                row.latency_runs_us.push(ns / 1000.0);
            }
        }
        let (burn_latency, tract_latency) = (median(&burn_runs), median(&tract_runs));
        for row in &mut rows {
            row.latency_us = median(&row.latency_runs_us);
            row.burn_latency_us = burn_latency;
            row.tract_latency_us = tract_latency;
            row.onnx_bytes = onnx.as_ref().map_or(0, Vec::len);
            row.onnx_agreement = onnx_agreement;
        }
        Ok(rows)
    }
}

/// Burn's predicted class for every example, in batches of 500 on `device` (no autodiff).
fn burn_predictions<D: LabelledData, M: Classifier<Input = D::Input>>(
    model: &M,
    data: &mut D,
    device: &Device,
) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(data.len());
    let indices: Vec<usize> = (0..data.len()).collect();
    for chunk in indices.chunks(500) {
        let (x, _): (D::Input, Tensor<1, Int>) = data.batch(chunk, device)?;
        let predicted = model.forward(x).argmax(1).reshape([chunk.len()]);
        let values: Vec<i64> = predicted
            .into_data()
            .convert::<i64>()
            .try_to_vec::<i64>()
            .map_err(|e| anyhow::anyhow!("reading predictions: {e:?}"))?;
        out.extend(values.into_iter().map(|v| v as usize));
    }
    Ok(out)
}

/// The first index of the largest logit, as the runtime's `predict`.
fn argmax(logits: &[f32]) -> usize {
    (0..logits.len()).fold(0, |best, i| if logits[i] > logits[best] { i } else { best })
}

fn accuracy(predictions: &[usize], labels: &[usize]) -> f64 {
    let right = predictions
        .iter()
        .zip(labels)
        .filter(|(p, l)| p == l)
        .count();
    right as f64 / labels.len().max(1) as f64
}

/// `docs/results/edge.md`: one table per model, the size report of the smallest
/// matching LeNet ticket, and how each figure was measured.
pub fn markdown(rows: &[EdgeRow], header: &str) -> String {
    let mut s = String::new();
    s.push_str("# Edge: exported tickets, bytes and single-sample latency\n\n");
    s.push_str(header);
    s.push_str(
        "\nBudget: the wall-clock budget the ticket was found in. \
         Each ticket is exported three ways: `dense_f32` (every weight, run by the \
         runtime's dense kernels), `sparse_f32` (kept weights only, the smallest of bitmask, \
         CSR and delta-CSR per tensor, run by the sparse kernels) and `sparse_int8` (the \
         same with int8 values and one scale per row; the runtime dequantises at load, so \
         its latency is the sparse f32 kernels'). The sparse kernels skip pruned weights and \
         zero activations: linear layers run by columns and skip zero inputs (ReLU outputs, \
         and background pixels, the first layer having the normalisation folded into its \
         weights and bias); the `sparse_f32` rows of the dense (sparsity 0) model show what \
         activation sparsity alone gives. Latency: single-sample forward passes from raw \
         pixels (the first test image, preprocessing included; for the DS-CNN, from the \
         normalised log-mel spectrogram of the first test recording, computed on the \
         host as in training), the median of several \
         timed runs' medians (`latency_runs_us` in the JSON); within a run Burn and the \
         ticket's variants take turns of about 100 ms, so that a slow spell of this \
         shared machine hits them alike; \
         Burn's is the trained model's dense forward pass on a batch of one, preprocessed, \
         same backend as training. Accuracy: the exported file read back from disk and run on the first \
         `test_examples` examples of the official test split (images from their raw \
         pixels); \
         agreement: the share of those examples on which it predicts Burn's class. \
         \"of Burn's\" is the runtime's latency over Burn's. ONNX: the same ticket exported \
         by `sprig export --format onnx` (opset 13, pruned weights stored as zeros) and run \
         by tract (its optimised plan, default settings), timed in the same runs; ONNX agreement: \
         tract's predictions against Burn's on the same examples; \"—\": the model has no ONNX \
         form yet (text models). The TextCNN runs on the token ids of the first test question \
         (the runtime pads them as training did), Burn on the same padded ids.\n\n",
    );
    let mut models: Vec<&str> = rows.iter().map(|r| r.model.as_str()).collect();
    models.dedup();
    for model in models {
        s.push_str(&format!("## {model}\n\n"));
        s.push_str(
            "| sparsity | budget (s) | format | bytes | of dense fp32 | latency µs | speed-up vs dense runtime | Burn µs | of Burn's | tract µs (ONNX) | ONNX bytes | test acc. | Burn test acc. | agreement | ONNX agreement | examples |\n\
             |---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
        );
        for r in rows.iter().filter(|r| r.model == model) {
            let dense_runtime = rows
                .iter()
                .find(|d| d.ticket == r.ticket && d.format == "dense_f32")
                .map_or(f64::NAN, |d| d.latency_us);
            s.push_str(&format!(
                "| {:.3} | {} | {} | {} | {:.1}% | {:.1} | {:.2}× | {:.1} | {:.2}× | {} | {} | {:.2}% | {:.2}% | {:.2}% | {} | {} |\n",
                r.sparsity,
                r.budget_s.map_or("—".into(), |b| format!("{b:.0}")),
                r.format,
                r.bytes,
                100.0 * r.bytes as f64 / r.dense_f32_bytes.max(1) as f64,
                r.latency_us,
                dense_runtime / r.latency_us,
                r.burn_latency_us,
                r.latency_us / r.burn_latency_us,
                measured(r.tract_latency_us, 1.0),
                if r.onnx_bytes == 0 { "—".into() } else { r.onnx_bytes.to_string() },
                100.0 * r.test_accuracy,
                100.0 * r.burn_test_accuracy,
                100.0 * r.agreement,
                measured(r.onnx_agreement, 100.0),
                r.test_examples,
            ));
        }
        s.push('\n');
    }
    s
}

/// `value × scale` with one decimal (a percentage: two, and "%"), or "—" where nothing was
/// measured (a model without an ONNX form).
fn measured(value: f64, scale: f64) -> String {
    match (value.is_nan(), scale == 100.0) {
        (true, _) => "—".into(),
        (false, true) => format!("{:.2}%", value * scale),
        (false, false) => format!("{:.1}", value * scale),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_suite_has_the_lth_smallest_ticket_and_unique_folders() {
        for mode in [Mode::Quick, Mode::Standard] {
            let runs = suite(mode, BackendChoice::Auto);
            let mut dirs = std::collections::BTreeSet::new();
            assert!(runs.iter().all(|r| dirs.insert(r.run_dir())), "{mode:?}");
            assert!(runs.iter().any(|r| r.model == Architecture::Lenet300100
                && r.target_sparsity == 0.964
                && r.method == Method::Budgeted));
            assert!(runs.iter().any(|r| r.method == Method::Dense));
        }
        let mut ds_cnn: Vec<f64> = suite(Mode::Standard, BackendChoice::Auto)
            .iter()
            .filter(|r| r.model == Architecture::DsCnn)
            .map(|r| r.target_sparsity)
            .collect();
        ds_cnn.sort_by(f64::total_cmp);
        assert_eq!(ds_cnn, [0.0, 0.8, 0.9]);
        let text_cnn: Vec<f64> = suite(Mode::Standard, BackendChoice::Auto)
            .iter()
            .filter(|r| r.model == Architecture::TextCnn)
            .map(|r| r.target_sparsity)
            .collect();
        assert_eq!(text_cnn, [0.0, 0.8, 0.95]);
    }

    #[test]
    fn the_page_lists_every_row_with_its_speed_up() {
        let row = |format: &str, latency: f64| EdgeRow {
            dataset: "mnist".into(),
            model: "lenet-300-100".into(),
            method: "budgeted".into(),
            sparsity: 0.9,
            budget_s: Some(60.0),
            format: format.into(),
            bytes: 1000,
            dense_f32_bytes: 4000,
            latency_us: latency,
            latency_runs_us: vec![latency],
            burn_latency_us: 50.0,
            tract_latency_us: 40.0,
            onnx_bytes: 16_000,
            onnx_agreement: 1.0,
            multiply_adds: 10,
            test_accuracy: 0.98,
            burn_test_accuracy: 0.98,
            agreement: 1.0,
            test_examples: 100,
            ticket: "t".into(),
        };
        let page = markdown(
            &[row("dense_f32", 30.0), row("sparse_f32", 10.0)],
            "header\n",
        );
        assert!(
            page.contains(
                "| 0.900 | 60 | sparse_f32 | 1000 | 25.0% | 10.0 | 3.00× | 50.0 | 0.20× | 40.0 | 16000 |"
            ),
            "{page}"
        );
        assert!(page.contains("| 0.900 | 60 | dense_f32 |"), "{page}");
    }
}
