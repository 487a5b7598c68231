//! What a ticket becomes on a device: the ticket folder exported to a `.sprig` file, the
//! sparsity at which a model fits a size budget, and an exported file run on a test split.

use std::marker::PhantomData;
use std::path::Path;

use anyhow::{Context, Result, bail};
use sprig_backend::Backend;
use sprig_data::text::Vocabulary;
use sprig_export::{ExportFormat, ModelSpec, SizeReport, export, export_onnx, write_file};
use sprig_models::{
    Architecture, Classifier, InferenceGraph, Modality, WithModel, build_model, build_text_model,
};
use sprig_runtime::{Execution, Model, Preprocess};

use crate::config::{Dataset, Experiment};
use crate::runner::{Runner, dense_masks};
use crate::ticket::{self, files};

/// What an exported vision model says besides its weights: the pixel preprocessing is
/// the normalisation training used.
pub fn model_spec(
    model: Architecture,
    input: [usize; 3],
    classes: usize,
    norm: &sprig_data::Normalization,
) -> ModelSpec {
    let (scale, offset) = norm.scale_offset();
    ModelSpec::new(
        model.name(),
        input,
        classes,
        Preprocess::PixelAffine { scale, offset },
    )
}

/// Exports the ticket folder `dir` to `out` in `format` and returns its size report. The
/// normalisation comes from the folder's `normalization.json`, or is refitted from the
/// data when the folder has none.
///
/// # Errors
/// A missing or unreadable ticket file (named), a model the runtime cannot run, or a
/// failed write.
pub fn export_ticket(
    runner: &mut Runner,
    dir: &Path,
    format: ExportFormat,
    out: &Path,
) -> Result<SizeReport> {
    let ticket = Exportable::read(runner, dir)?;
    let file = export(&ticket.graph, &ticket.weights, &ticket.spec, format)?;
    write_file(out, &file.bytes)?;
    Ok(SizeReport::of(&file))
}

/// Exports the ticket folder `dir` to `out` as an ONNX model (pruned weights stored as
/// zeros); returns the file's size in bytes.
///
/// # Errors
/// As [`export_ticket`].
pub fn export_ticket_onnx(runner: &mut Runner, dir: &Path, out: &Path) -> Result<usize> {
    let ticket = Exportable::read(runner, dir)?;
    let bytes = export_onnx(&ticket.graph, &ticket.weights, &ticket.spec)?;
    write_file(out, &bytes)?;
    Ok(bytes.len())
}

/// What a ticket folder exports: the model's graph, the trained weights and what the
/// file says besides them.
struct Exportable {
    graph: sprig_models::InferenceGraph,
    weights: sprig_mask::Snapshot,
    spec: ModelSpec,
}

impl Exportable {
    fn read(runner: &mut Runner, dir: &Path) -> Result<Self> {
        let config = dir.join(files::CONFIG);
        let text =
            std::fs::read(&config).with_context(|| format!("reading {}", config.display()))?;
        let experiment: Experiment = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not an experiment", config.display()))?;
        let weights = ticket::read_weights(&dir.join(files::TRAINED))?;
        let classes = experiment.dataset.classes();
        let spec = ticket_spec(runner, &experiment, dir)?;
        if classes == 0 {
            bail!(
                "{}: only the built-in data sets export yet",
                experiment.dataset
            );
        }
        let graph = anatomy(&experiment, &spec)?.0.with_context(|| {
            format!("{} has no graph the runtime can run yet", experiment.model)
        })?;
        Ok(Self {
            graph,
            weights,
            spec,
        })
    }
}

/// What the exported file of `experiment`'s ticket (in `dir`) says besides its weights:
/// input shape, classes, and the preprocessing a device applies (the pixel normalisation
/// from the folder's `normalization.json`, refitted from the data when the folder has
/// none; or the spectrogram settings and band normalisation).
///
/// # Errors
/// An unreadable normalisation, a data set without a fixed shape, or a text model.
pub fn ticket_spec(runner: &mut Runner, experiment: &Experiment, dir: &Path) -> Result<ModelSpec> {
    let classes = experiment.dataset.classes();
    Ok(match experiment.dataset.modality() {
        Modality::Image => {
            let norm_path = dir.join(files::NORMALIZATION);
            let norm: sprig_data::Normalization = match std::fs::read(&norm_path) {
                Ok(bytes) => serde_json::from_slice(&bytes)
                    .with_context(|| format!("{} is not a normalisation", norm_path.display()))?,
                Err(_) => runner.data(experiment.dataset, experiment.seed)?.1.clone(),
            };
            let input = experiment.dataset.image_shape().with_context(|| {
                format!(
                    "{}: only the built-in data sets export yet",
                    experiment.dataset
                )
            })?;
            model_spec(experiment.model, input, classes, &norm)
        }
        Modality::Audio => {
            let path = dir.join(files::FEATURE_NORMALIZATION);
            let norm: sprig_data::audio::FeatureNorm = serde_json::from_slice(
                &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("{} is not a feature normalisation", path.display()))?;
            audio_spec(experiment, &norm)?
        }
        Modality::Text => {
            let path = dir.join(files::VOCABULARY);
            let vocab: Vocabulary = serde_json::from_slice(
                &std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?,
            )
            .with_context(|| format!("{} is not a vocabulary", path.display()))?;
            text_spec(experiment, &vocab)?
        }
    })
}

/// Metadata key of an exported text model's vocabulary: its tokenisation settings and
/// its tokens in id order, as the ticket folder's `vocabulary.json` holds them.
pub const TEXT_VOCABULARY: &str = "text.vocabulary";

/// What an exported text model says besides its weights: it takes the `length` token ids
/// training padded or cut every text to (`[1, 1, length]`); the metadata carry the
/// vocabulary a device encodes text with ([`TEXT_VOCABULARY`]).
fn text_spec(experiment: &Experiment, vocab: &Vocabulary) -> Result<ModelSpec> {
    let mut spec = ModelSpec::new(
        experiment.model.name(),
        [1, 1, vocab.config().length],
        experiment.dataset.classes(),
        Preprocess::None,
    );
    spec.metadata = vec![(TEXT_VOCABULARY.into(), serde_json::to_string(vocab)?)];
    Ok(spec)
}

/// What an exported keyword-spotting model says besides its weights: it takes the
/// normalised log-mel spectrogram `[1, frames, mels]` training took, and its log-mel
/// preprocessing makes that from PCM samples (the spectrogram settings and the per-band
/// normalisation); the metadata say the same as JSON (`audio.features`,
/// `audio.normalization`: `mean`, `inv_std`).
fn audio_spec(experiment: &Experiment, norm: &sprig_data::audio::FeatureNorm) -> Result<ModelSpec> {
    let audio = experiment
        .audio
        .as_ref()
        .context("an audio experiment without its spectrogram settings")?;
    let features = &audio.features;
    // The file computes the spectrogram itself (`Model::forward_pcm`); the metadata say the
    // same for tools that read JSON (and for the ONNX export, which takes the spectrogram).
    let log_mel = Preprocess::LogMel {
        features: *features,
        mean: norm.mean.clone(),
        inv_std: norm.inv_std.clone(),
    };
    let mut spec = ModelSpec::new(
        experiment.model.name(),
        [1, features.frames(), features.mels],
        experiment.dataset.classes(),
        log_mel,
    );
    spec.metadata = vec![
        ("audio.features".into(), serde_json::to_string(features)?),
        ("audio.normalization".into(), serde_json::to_string(norm)?),
    ];
    Ok(spec)
}

/// What a size budget asks of a ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SizeFit {
    /// The target sparsity whose file should fit.
    pub sparsity: f64,
    /// The file's bytes at that sparsity with every tensor pruned alike.
    pub estimated_bytes: usize,
    /// The file's bytes with nothing pruned.
    pub dense_bytes: usize,
}

/// A zoo model's graph (if the runtime can run it), parameter shapes and prunable tensors.
type Parts = (
    Option<InferenceGraph>,
    Vec<(String, Vec<usize>)>,
    sprig_mask::MaskSet,
);

/// Gets a zoo model's [`Parts`], whatever its input.
struct Anatomy<I>(PhantomData<I>);

impl<I: Clone> WithModel for Anatomy<I> {
    type Input = I;
    type Output = Result<Parts>;
    fn with<M: Classifier<Input = I>>(self, model: M) -> Self::Output {
        let shapes = sprig_prune::tensor_shapes(&model);
        let masks = dense_masks(&model, &shapes, None)?;
        Ok((model.inference_graph(), shapes, masks))
    }
}

/// The [`Parts`] of the model `spec` describes: an image or audio model for its input
/// shape, a text model for the vocabulary in its metadata.
fn anatomy(experiment: &Experiment, spec: &ModelSpec) -> Result<Parts> {
    let device = Backend::Flex.device()?;
    let (model, classes) = (experiment.model, spec.classes);
    if experiment.dataset.modality() != Modality::Text {
        return build_model(model, spec.input, classes, &device, Anatomy(PhantomData))?;
    }
    let (_, vocab) = spec
        .metadata
        .iter()
        .find(|(key, _)| key == TEXT_VOCABULARY)
        .context("a text model's spec without its vocabulary")?;
    let vocab: Vocabulary = serde_json::from_str(vocab)?;
    build_text_model(model, vocab.len(), classes, &device, Anatomy(PhantomData))?
}

/// The target sparsity at which `experiment`'s ticket, exported in `format`, fits in
/// `bytes`: the file size is measured by exporting θ0 under masks that prune every tensor
/// alike, and the sparsity is searched (bisection) to fill 97% of the budget, the rest a
/// margin for a ticket whose tensors end at different sparsities.
///
/// # Errors
/// A model the runtime cannot run (a text model, or one not sequential), missing data, a budget
/// the dense model already fits (nothing to prune), or one no sparsity reaches (the
/// smallest file is named).
pub fn sparsity_for_size(
    runner: &mut Runner,
    experiment: &Experiment,
    format: ExportFormat,
    bytes: usize,
) -> Result<SizeFit> {
    let classes = experiment.dataset.classes();
    let spec = match experiment.dataset.modality() {
        Modality::Image => {
            let input = experiment.dataset.image_shape().with_context(|| {
                format!(
                    "a size budget needs a model the runtime exports, and only the built-in \
                     image data sets export yet ({} is not one): give --sparsity instead",
                    experiment.dataset
                )
            })?;
            let norm = runner.data(experiment.dataset, experiment.seed)?.1.clone();
            model_spec(experiment.model, input, classes, &norm)
        }
        Modality::Audio => {
            let norm = runner.audio_data(experiment)?.1.clone();
            audio_spec(experiment, &norm)?
        }
        Modality::Text => {
            let vocab = runner.text_data(experiment)?.vocab.clone();
            text_spec(experiment, &vocab)?
        }
    };
    let (graph, shapes, masks) = anatomy(experiment, &spec)?;
    let graph = graph.with_context(|| {
        format!(
            "{} has no graph the runtime can run yet: give --sparsity instead of a size",
            experiment.model
        )
    })?;
    let theta0 =
        sprig_models::initial_weights(&shapes, experiment.model.initialization(), experiment.seed)?;
    let scores = sprig_mask::Scores::random(&masks, experiment.seed);
    let size_at = |sparsity: f64| -> Result<usize> {
        let mut pruned = masks.clone();
        if sparsity > 0.0 {
            sprig_mask::prune_to_sparsity(
                &mut pruned,
                &scores,
                sprig_mask::Scope::Layerwise,
                &sprig_mask::LayerRates::uniform(),
                sparsity,
            )?;
        }
        Ok(export(&graph, &theta0.masked(&pruned)?, &spec, format)?
            .bytes
            .len())
    };
    let dense_bytes = size_at(0.0)?;
    if dense_bytes <= bytes {
        bail!(
            "the dense {} already fits: {dense_bytes} bytes in {format}, within {bytes}; \
             nothing needs pruning (use --method dense, or a smaller size)",
            experiment.model
        );
    }
    let target = bytes as f64 * 0.97;
    let sparsest = 0.999;
    let floor = size_at(sparsest)?;
    if floor as f64 > target {
        bail!(
            "{bytes} bytes cannot hold {} in {format}: even at {:.1}% sparsity the file takes \
             {floor} bytes (biases, scales and the format's own overhead); the smallest size \
             budget that works is about {} bytes",
            experiment.model,
            100.0 * sparsest,
            (floor as f64 / 0.97).ceil()
        );
    }
    let (mut lo, mut hi) = (0.0_f64, sparsest);
    while hi - lo > 1e-4 {
        let mid = 0.5 * (lo + hi);
        if size_at(mid)? as f64 <= target {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    let sparsity = (hi * 1e4).ceil() / 1e4;
    Ok(SizeFit {
        sparsity,
        estimated_bytes: size_at(sparsity)?,
        dense_bytes,
    })
}

/// Runs the exported model in `file` on the official test split of `dataset` from raw
/// pixels; returns (accuracy, examples).
///
/// # Errors
/// An unreadable or invalid model file, or data that does not fit it.
pub fn infer(
    runner: &mut Runner,
    file: &Path,
    dataset: Dataset,
    execution: Execution,
) -> Result<(f64, usize)> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let model =
        Model::load(&bytes, execution).with_context(|| format!("loading {}", file.display()))?;
    let test = &runner.data(dataset, 0)?.0.test;
    let mut right = 0;
    for i in 0..test.len() {
        let pixels = test.image(i).context("test image")?;
        let predicted = model.predict(&model.preprocess(pixels)?)?;
        right += usize::from(Some(predicted) == test.label(i));
    }
    Ok((right as f64 / test.len().max(1) as f64, test.len()))
}
