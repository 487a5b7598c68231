//! Training-step fixtures: a zoo model on one backend with in-memory examples of its input
//! shape, its θ0, and masks at the evaluation's target sparsity, ready to step.
//!
//! The examples are drawn (seeded), not read: a step's time depends on shapes, not on
//! values, and a benchmark must run without the data sets. Subnormal floats are flushed,
//! as in every Sprig binary.

use std::sync::Arc;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sprig_backend::{Backend, StepThreads};
use sprig_data::audio::{FeatureNorm, FeatureSet};
use sprig_data::text::TextSet;
use sprig_data::{ImageSet, ImageShape, Normalization};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, prune_to_sparsity};
use sprig_models::{
    Architecture, Classifier, ConvNet, DsCnn, Lenet300100, TextCnn, TextCnnSize, initial_weights,
};
use sprig_prune::classifier::{
    ClassifierTrainee, FeatureBatches, ImageBatches, LabelledData, TokenBatches, TrainConfig,
};
use sprig_prune::engine::Trainee;
use sprig_prune::tensor_shapes;

/// The models whose training step is benchmarked, with the batch size of their table.
pub const STEP_MODELS: [Architecture; 4] = [
    Architecture::Lenet300100,
    Architecture::Conv2,
    Architecture::TextCnn,
    Architecture::DsCnn,
];

/// The sparsity a fixture's masks have unless one is asked for: the table's sparsity of
/// the model's domain (vision 0.9, text and audio 0.8).
pub fn fixture_sparsity(model: Architecture) -> f64 {
    match model {
        Architecture::TextCnn | Architecture::DsCnn => 0.8,
        _ => 0.9,
    }
}

/// The sparsities at which `cargo xtask bench` times a late round's step with the sparse
/// products on: the table's, then the LTH paper's 3.6 % and 1.8 % of weights left.
pub const SPARSE_STEP_SPARSITIES: [f64; 3] = [0.9, 0.964, 0.982];

/// Examples per fixture split (enough for a few epochs of batches without repeats).
const EXAMPLES: usize = 600;
/// TREC's vocabulary size with every training token kept (8,689 on the training split).
const TEXT_VOCABULARY: usize = 8_700;
/// TREC's padded length (see `sprig_run::defaults::text_settings`).
const TEXT_LENGTH: usize = 24;

/// Whether a fixture trains under masks (re-applied after every step, gradients masked)
/// or without any (the reference for the masking overhead).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Masking {
    /// Masks at the model's table sparsity, applied as in a ticket's training.
    Masked,
    /// No masks at all.
    None,
}

/// A trainee ready to step, and the batch assembly alone.
pub struct StepFixture {
    /// The model with its data, optimiser and (when masked) masks.
    pub trainee: Box<dyn Trainee>,
    /// Examples per step.
    pub batch_size: usize,
    /// Whether the trainee's steps run on one thread (its `StepThreads::Auto` choice).
    pub one_thread: bool,
    /// Assembles one batch of the same size on the same device, as a step does first:
    /// the data-loading part of a step.
    pub next_batch: Box<dyn FnMut() -> Result<(), sprig_prune::PruneError>>,
}

impl std::fmt::Debug for StepFixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepFixture")
            .field("batch_size", &self.batch_size)
            .finish_non_exhaustive()
    }
}

/// A trainee of `model` on `backend` ready to step.
///
/// # Errors
/// The backend is not compiled in, or the model is not one of [`STEP_MODELS`].
pub fn step_fixture(
    model: Architecture,
    backend: Backend,
    masking: Masking,
) -> anyhow::Result<StepFixture> {
    step_fixture_on(model, backend, masking, StepThreads::Auto)
}

/// [`step_fixture`] with the step's threads set (to compare two fixtures on the same
/// threads, or to time one setting).
///
/// # Errors
/// As [`step_fixture`].
pub fn step_fixture_on(
    model: Architecture,
    backend: Backend,
    masking: Masking,
    threads: StepThreads,
) -> anyhow::Result<StepFixture> {
    fixture(model, backend, masking, threads, None, false)
}

/// A masked fixture of `model` pruned to `sparsity` (instead of its table's), with the
/// sparse products (`TrainConfig::sparse_products`) on or off: what a late round of
/// pruning costs per step.
///
/// # Errors
/// As [`step_fixture`].
pub fn sparse_step_fixture(
    model: Architecture,
    backend: Backend,
    sparsity: f64,
    sparse_products: bool,
) -> anyhow::Result<StepFixture> {
    fixture(
        model,
        backend,
        Masking::Masked,
        StepThreads::Auto,
        Some(sparsity),
        sparse_products,
    )
}

fn fixture(
    model: Architecture,
    backend: Backend,
    masking: Masking,
    threads: StepThreads,
    sparsity: Option<f64>,
    sparse_products: bool,
) -> anyhow::Result<StepFixture> {
    sprig_backend::flush_denormals_to_zero();
    let device = backend.train_device()?;
    let classes: Arc<[String]> = (0..10).map(|c| c.to_string()).collect();
    let mut draw = Stream::new(0x9E37_79B9_7F4A_7C15);
    let labels: Vec<u8> = (0..EXAMPLES).map(|i| (i % 10) as u8).collect();
    let images = |c, h, w, draw: &mut Stream| {
        let shape = ImageShape::new(c, h, w);
        let pixels = (0..EXAMPLES * c * h * w).map(|_| draw.byte()).collect();
        ImageSet::new(shape, pixels, labels.clone(), classes.clone())
    };
    Ok(match model {
        Architecture::Lenet300100 => {
            let set = images(1, 28, 28, &mut draw)?;
            let norm = Normalization::fit(&set)?;
            let batches = ImageBatches::new(set, norm);
            let net = Lenet300100::new(784, 10, &device);
            ready(
                model,
                net,
                batches,
                &device,
                TrainConfig {
                    threads,
                    sparse_products,
                    ..TrainConfig::lenet(0)
                },
                sparsity.unwrap_or(fixture_sparsity(model)),
                masking,
            )?
        }
        Architecture::Conv2 => {
            let set = images(3, 32, 32, &mut draw)?;
            let norm = Normalization::fit(&set)?;
            let batches = ImageBatches::new(set, norm);
            let net = ConvNet::new(1, [3, 32, 32], 10, &device);
            ready(
                model,
                net,
                batches,
                &device,
                TrainConfig {
                    threads,
                    sparse_products,
                    ..TrainConfig::conv2(0)
                },
                sparsity.unwrap_or(fixture_sparsity(model)),
                masking,
            )?
        }
        Architecture::TextCnn => {
            let ids = (0..EXAMPLES * TEXT_LENGTH)
                .map(|_| draw.below(TEXT_VOCABULARY as u64) as u32)
                .collect();
            let text_labels = labels.iter().map(|&l| u16::from(l % 6)).collect();
            let six: Arc<[String]> = (0..6).map(|c| c.to_string()).collect();
            let set = TextSet::new(TEXT_LENGTH, ids, text_labels, six)?;
            let net = TextCnn::new(TEXT_VOCABULARY, 6, TextCnnSize::DEFAULT, &device);
            let batches = TokenBatches::new(set);
            ready(
                model,
                net,
                batches,
                &device,
                TrainConfig {
                    threads,
                    sparse_products,
                    ..TrainConfig::text(0)
                },
                sparsity.unwrap_or(fixture_sparsity(model)),
                masking,
            )?
        }
        Architecture::DsCnn => {
            // FSDD's spectrograms: 61 frames of 40 mel bands.
            let (frames, mels) = (61, 40);
            let values = (0..EXAMPLES * frames * mels)
                .map(|_| f32::from(draw.byte()) / 32.0 - 4.0)
                .collect();
            let audio_labels = labels.iter().map(|&l| u16::from(l)).collect();
            let speakers: Arc<[String]> = Arc::from(vec!["any".to_string()]);
            let set = FeatureSet::new(
                [frames, mels],
                values,
                audio_labels,
                vec![0; EXAMPLES],
                classes.clone(),
                speakers,
            )?;
            let norm = FeatureNorm::fit(&set)?;
            let net = DsCnn::new(10, &device);
            let batches = FeatureBatches::new(set, norm);
            ready(
                model,
                net,
                batches,
                &device,
                TrainConfig {
                    threads,
                    sparse_products,
                    ..TrainConfig::audio(0)
                },
                sparsity.unwrap_or(fixture_sparsity(model)),
                masking,
            )?
        }
        other => anyhow::bail!("no training-step fixture for {other}"),
    })
}

/// The trainee of `net` on `batches` (training and validation alike), its masks pruned
/// by θ0's magnitudes to `sparsity` when masked.
fn ready<M, D>(
    architecture: Architecture,
    net: M,
    batches: D,
    device: &sprig_backend::Device,
    config: TrainConfig,
    sparsity: f64,
    masking: Masking,
) -> anyhow::Result<StepFixture>
where
    M: Classifier + 'static,
    D: LabelledData<Input = M::Input> + Clone + 'static,
{
    let shapes = tensor_shapes(&net);
    let theta0 = initial_weights(&shapes, architecture.initialization(), 0)?;
    let mut masks = MaskSet::new();
    for t in net.prunable() {
        let (_, shape) = shapes
            .iter()
            .find(|(path, _)| *path == t.path)
            .ok_or_else(|| anyhow::anyhow!("{} is not a parameter", t.path))?;
        masks.insert_dense(&t.path, t.kind, shape)?;
    }
    prune_to_sparsity(
        &mut masks,
        &Scores::magnitude(&theta0),
        Scope::Global,
        &LayerRates::uniform(),
        sparsity,
    )?;
    let batch_size = config.batch_size;
    let mut data = batches.clone();
    let mut trainee =
        ClassifierTrainee::new(net, &theta0, batches.clone(), batches, device, config)?;
    match masking {
        Masking::Masked => trainee.start_training(&masks, 1_000_000)?,
        // No masks at all: the same optimizer with nothing to mask (and the thread
        // setting chosen the same way).
        Masking::None => trainee.start_training(&MaskSet::new(), 1_000_000)?,
    }
    // `StepThreads::Auto` settles during the first steps: take them before timing.
    for _ in 0..100 {
        if trainee.steps_on_one_thread().is_some() {
            break;
        }
        trainee.step()?;
    }
    let one_thread = trainee.steps_on_one_thread().unwrap_or(false);
    let indices: Vec<usize> = (0..batch_size).collect();
    let device = device.clone();
    Ok(StepFixture {
        trainee: Box::new(trainee),
        batch_size,
        one_thread,
        next_batch: Box::new(move || data.batch(&indices, &device).map(|_| ())),
    })
}

/// A seeded stream of fixture values.
struct Stream(ChaCha8Rng);

impl Stream {
    fn new(seed: u64) -> Self {
        Self(ChaCha8Rng::seed_from_u64(seed))
    }

    fn byte(&mut self) -> u8 {
        (self.0.next_u32() >> 24) as u8
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0.next_u64() % n
    }
}
