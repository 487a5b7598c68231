//! Exports a trained ticket to the file format of `sprig-runtime`
//! (`docs/sparse-format.md`), and reports what every tensor costs against dense fp32.
//!
//! Pruned weights are simply not stored: each weight tensor takes the smallest of dense,
//! bitmask, CSR and delta-CSR, in f32 or int8 ([`ExportFormat`]). [`export_onnx`] writes
//! the same ticket as a standard ONNX model instead.
//!
//! ```
//! use sprig_export::{ExportFormat, ModelSpec, export};
//! use sprig_mask::Snapshot;
//! use sprig_models::{GraphTensor, InferenceGraph};
//! use sprig_runtime::{Execution, Layer, Model, Preprocess};
//!
//! // One Burn-style linear layer ([in, out] = [3, 2]) with a bias.
//! let graph = InferenceGraph {
//!     layers: vec![Layer::Flatten, Layer::Linear { weight: 0, bias: Some(1) }],
//!     tensors: vec![
//!         GraphTensor::param("fc.weight", true),
//!         GraphTensor::param("fc.bias", false),
//!     ],
//! };
//! let mut weights = Snapshot::new();
//! weights.insert("fc.weight", vec![3, 2], vec![1.0, 0.0, 0.0, 0.0, 0.0, 2.0]).unwrap();
//! weights.insert("fc.bias", vec![2], vec![0.0, 1.0]).unwrap();
//! let spec = ModelSpec::new("toy", [1, 1, 3], 2, Preprocess::None);
//! let file = export(&graph, &weights, &spec, ExportFormat::SparseF32).unwrap();
//! let model = Model::load(&file.bytes, Execution::Sparse).unwrap();
//! assert_eq!(model.forward(&[1.0, 5.0, 3.0]).unwrap(), vec![1.0, 7.0]);
//! ```

mod onnx;
mod onnx_proto;
mod report;
#[cfg(feature = "tract")]
mod tract;

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

pub use onnx::{ONNX_INPUT, ONNX_OPSET, ONNX_OUTPUT, onnx_model};
pub use report::SizeReport;
use serde::{Deserialize, Serialize};
use sprig_mask::Snapshot;
use sprig_models::{FoldedPart, GraphTensor, InferenceGraph, NormFold};
use sprig_runtime::{
    EncodeOptions, Encoding, EncodingChoice, Graph, ModelFile, Preprocess, Quantization,
    RuntimeError, TensorSpec, write_model,
};
#[cfg(feature = "tract")]
pub use tract::TractModel;

/// What can go wrong exporting.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The ONNX lowering has no operators for this layer yet.
    #[error("{layer} has no ONNX lowering yet (text models export to the .sprig format only)")]
    NoOnnxLowering {
        /// The layer, as the runtime names it.
        layer: String,
    },
    /// The graph names a parameter the weights do not have.
    #[error("the weights have no tensor `{0}`, which the model's graph needs")]
    MissingTensor(String),
    /// A tensor the exporter must transpose is not a matrix.
    #[error("tensor `{path}` has shape {shape:?}; a linear weight must be 2-D")]
    NotAMatrix {
        /// Parameter path.
        path: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// A batch norm folded into a convolution has another channel count than it.
    #[error(
        "batch norm `{norm}` has {features} features, but the convolution tensor `{path}` it folds into has {channels} output channels"
    )]
    NormMismatch {
        /// The convolution's tensor.
        path: String,
        /// The batch norm's path.
        norm: String,
        /// The convolution's output channels.
        channels: usize,
        /// The batch norm's features.
        features: usize,
    },
    /// The format refused the model.
    #[error(transparent)]
    Format(#[from] RuntimeError),
    /// The model has no sequential graph the runtime can run.
    #[error("model `{0}` cannot be exported yet: the runtime runs sequential networks only")]
    Unsupported(String),
    /// Writing the file failed.
    #[error("writing {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// An ONNX model a runtime could not read or run.
    #[error("ONNX: {0}")]
    Onnx(String),
    /// An unknown format name.
    #[error(
        "unknown export format `{0}`: known formats are dense_f32, sparse_f32, sparse_int8 (and onnx for `sprig export`)"
    )]
    UnknownFormat(String),
}

/// The three forms the evaluation compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportFormat {
    /// Every weight stored, zeros included, in f32: the dense baseline.
    DenseF32,
    /// Only kept weights, the smallest encoding per tensor, f32 values.
    SparseF32,
    /// Only kept weights, the smallest encoding per tensor, int8 values with one scale
    /// per row (per output feature or filter).
    SparseInt8,
}

impl ExportFormat {
    /// Every format, in table order.
    pub const ALL: [ExportFormat; 3] = [
        ExportFormat::DenseF32,
        ExportFormat::SparseF32,
        ExportFormat::SparseInt8,
    ];

    /// The name in result files.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::DenseF32 => "dense_f32",
            ExportFormat::SparseF32 => "sparse_f32",
            ExportFormat::SparseInt8 => "sparse_int8",
        }
    }

    /// The encoder settings of this format.
    pub fn options(self) -> EncodeOptions {
        match self {
            ExportFormat::DenseF32 => EncodeOptions {
                encoding: EncodingChoice::Force(Encoding::Dense),
                quantization: Quantization::F32,
            },
            ExportFormat::SparseF32 => EncodeOptions::default(),
            ExportFormat::SparseInt8 => EncodeOptions {
                encoding: EncodingChoice::Smallest,
                quantization: Quantization::Int8PerRow,
            },
        }
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ExportFormat {
    type Err = ExportError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ExportFormat::ALL
            .into_iter()
            .find(|f| f.name() == s.trim().replace('-', "_"))
            .ok_or_else(|| ExportError::UnknownFormat(s.to_string()))
    }
}

/// What the file says about the model besides its weights.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpec {
    /// Architecture name.
    pub architecture: String,
    /// One example's `[channels, height, width]`.
    pub input: [usize; 3],
    /// Number of classes.
    pub classes: usize,
    /// How raw inputs become model inputs.
    pub preprocess: Preprocess,
    /// Other preprocessing facts (tokenizer, audio features), as key–value pairs.
    pub metadata: Vec<(String, String)>,
}

impl ModelSpec {
    /// A spec without extra metadata.
    pub fn new(
        architecture: impl Into<String>,
        input: [usize; 3],
        classes: usize,
        preprocess: Preprocess,
    ) -> Self {
        Self {
            architecture: architecture.into(),
            input,
            classes,
            preprocess,
            metadata: Vec::new(),
        }
    }
}

/// The graph's tensors from `weights`, in the runtime's layout (linear weights transposed
/// to `[out, in]`, batch norms folded into the convolutions before them).
///
/// # Errors
/// [`ExportError::MissingTensor`], [`ExportError::NotAMatrix`] or
/// [`ExportError::NormMismatch`].
pub fn runtime_tensors(
    graph: &InferenceGraph,
    weights: &Snapshot,
) -> Result<Vec<TensorSpec>, ExportError> {
    let get = |path: &str| {
        weights
            .get(path)
            .ok_or_else(|| ExportError::MissingTensor(path.to_string()))
    };
    graph
        .tensors
        .iter()
        .map(|t| {
            if let Some(fold) = &t.folded {
                return folded(t, fold, weights, get);
            }
            let flat = get(&t.path)?;
            let shape = flat.shape().to_vec();
            if !t.transposed {
                return Ok(TensorSpec::new(&t.path, shape, flat.values().to_vec()));
            }
            let &[rows, cols] = shape.as_slice() else {
                return Err(ExportError::NotAMatrix {
                    path: t.path.clone(),
                    shape,
                });
            };
            let v = flat.values();
            let mut out = vec![0.0; v.len()];
            for r in 0..rows {
                for c in 0..cols {
                    out[c * rows + r] = v[r * cols + c];
                }
            }
            Ok(TensorSpec::new(&t.path, vec![cols, rows], out))
        })
        .collect()
}

/// A convolution's weight or bias with the batch norm after it folded in (see
/// [`NormFold`]); a convolution without a bias gets one.
fn folded<'w>(
    t: &GraphTensor,
    fold: &NormFold,
    weights: &'w Snapshot,
    get: impl Fn(&str) -> Result<&'w sprig_mask::FlatTensor, ExportError>,
) -> Result<TensorSpec, ExportError> {
    let part = |name: &str| get(&format!("{}.{name}", fold.norm)).map(|p| p.values());
    let (gamma, beta) = (part("gamma")?, part("beta")?);
    let (mean, var) = (part("running_mean")?, part("running_var")?);
    let scale: Vec<f32> = gamma
        .iter()
        .zip(var)
        .map(|(g, v)| (f64::from(*g) / (f64::from(*v) + fold.epsilon).sqrt()) as f32)
        .collect();
    let mismatch = |channels| ExportError::NormMismatch {
        path: t.path.clone(),
        norm: fold.norm.clone(),
        channels,
        features: scale.len(),
    };
    match fold.part {
        FoldedPart::Weight => {
            let flat = get(&t.path)?;
            let shape = flat.shape().to_vec();
            let channels = shape.first().copied().unwrap_or(0);
            if channels != scale.len() || channels == 0 {
                return Err(mismatch(channels));
            }
            let per_channel = flat.values().len() / channels;
            let values = flat
                .values()
                .chunks(per_channel.max(1))
                .zip(&scale)
                .flat_map(|(filter, s)| {
                    // `0 × s` is −0 for a negative scale: a pruned weight stays +0.
                    filter
                        .iter()
                        .map(move |&w| if w == 0.0 { 0.0 } else { w * s })
                })
                .collect();
            Ok(TensorSpec::new(&t.path, shape, values))
        }
        FoldedPart::Bias => {
            let bias = match weights.get(&t.path) {
                Some(b) if b.values().len() == scale.len() => b.values().to_vec(),
                Some(b) => return Err(mismatch(b.values().len())),
                None => vec![0.0; scale.len()],
            };
            let values = bias
                .iter()
                .zip(&scale)
                .zip(mean.iter().zip(beta))
                .map(|((b, s), (m, beta))| (b - m) * s + beta)
                .collect();
            Ok(TensorSpec::new(&t.path, vec![scale.len()], values))
        }
    }
}

/// Encodes a model in `format`.
///
/// # Errors
/// As [`runtime_tensors`], and [`ExportError::Format`] if the format refuses a tensor
/// (a NaN weight, a shape over 2^32).
pub fn export(
    graph: &InferenceGraph,
    weights: &Snapshot,
    spec: &ModelSpec,
    format: ExportFormat,
) -> Result<ModelFile, ExportError> {
    let tensors = runtime_tensors(graph, weights)?;
    Ok(write_model(
        &file_graph(graph, spec),
        &tensors,
        &format.options(),
    )?)
}

/// The ticket as an ONNX model (see [`onnx_model`]): what a user deploying with ONNX
/// tooling takes instead of a `.sprig` file.
///
/// # Errors
/// As [`runtime_tensors`], and [`ExportError::Format`] for a graph the runtime would not
/// load either.
pub fn export_onnx(
    graph: &InferenceGraph,
    weights: &Snapshot,
    spec: &ModelSpec,
) -> Result<Vec<u8>, ExportError> {
    let tensors = runtime_tensors(graph, weights)?;
    onnx_model(&file_graph(graph, spec), &tensors)
}

/// The runtime's description of `graph` with what `spec` says about it.
fn file_graph(graph: &InferenceGraph, spec: &ModelSpec) -> Graph {
    Graph {
        architecture: spec.architecture.clone(),
        input: spec.input,
        classes: spec.classes,
        preprocess: spec.preprocess.clone(),
        metadata: spec.metadata.clone(),
        layers: graph.layers.clone(),
    }
}

/// Writes `bytes` to `path` atomically (a temporary file flushed to disk, then renamed over
/// `path`), so a reader never sees half a model.
///
/// # Errors
/// [`ExportError::Io`] naming the file.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let io = |source| ExportError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = atomic_write_file::AtomicWriteFile::open(path).map_err(io)?;
    std::io::Write::write_all(&mut file, bytes).map_err(io)?;
    file.commit().map_err(io)
}

/// Compiles and runs the README example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[derive(Debug)]
pub struct ReadmeDoctests;
