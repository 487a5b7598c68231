//! A zoo model as the sequential graph the sparse runtime runs (`sprig-runtime`).

use sprig_runtime::{ConvGeometry, Layer};

use crate::{ConvNet, Lenet300100};

/// A model's layers for `sprig-runtime`, naming its parameters by path.
#[derive(Debug, Clone, PartialEq)]
pub struct InferenceGraph {
    /// The layers, in order; tensors are named by index into [`InferenceGraph::tensors`].
    pub layers: Vec<Layer>,
    /// Parameter paths, with whether Burn stores the tensor transposed relative to the
    /// runtime (a Burn `Linear` weight is `[in, out]`, the runtime's is `[out, in]`).
    pub tensors: Vec<GraphTensor>,
}

/// One parameter of an [`InferenceGraph`].
#[derive(Debug, Clone, PartialEq)]
pub struct GraphTensor {
    /// Parameter path in the Burn module, e.g. `fc1.weight`.
    pub path: String,
    /// Whether the exporter must transpose a rank-2 Burn tensor.
    pub transposed: bool,
    /// The batch normalisation after this convolution, folded into its weight or bias by
    /// the exporter (the runtime has no batch norm); `None`: the parameter as it is.
    pub folded: Option<NormFold>,
}

impl GraphTensor {
    /// The parameter at `path`, as it is (transposed when `transposed`).
    pub fn param(path: impl Into<String>, transposed: bool) -> Self {
        Self {
            path: path.into(),
            transposed,
            folded: None,
        }
    }
}

/// A batch normalisation `γ (x − μ) / √(σ² + ε) + β` after a convolution `W x + b`, folded
/// into it: the weights of output channel `o` scaled by `s[o] = γ[o] / √(σ²[o] + ε)`, the
/// bias `(b − μ) s + β`. A pruned weight stays exactly zero.
#[derive(Debug, Clone, PartialEq)]
pub struct NormFold {
    /// The batch norm's path (`stem_norm`: its `gamma`, `beta`, `running_mean` and
    /// `running_var`).
    pub norm: String,
    /// Its ε.
    pub epsilon: f64,
    /// Which of the convolution's tensors this one is.
    pub part: FoldedPart,
}

/// The convolution tensor a [`NormFold`] rewrites.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FoldedPart {
    /// The weight, `[out, in / groups, kh, kw]`: each output channel's filter scaled.
    Weight,
    /// The bias (zero when the convolution has none).
    Bias,
}

impl InferenceGraph {
    fn push(&mut self, path: String, transposed: bool) -> usize {
        self.push_tensor(GraphTensor::param(path, transposed))
    }

    fn push_tensor(&mut self, tensor: GraphTensor) -> usize {
        self.tensors.push(tensor);
        self.tensors.len() - 1
    }

    /// A Burn `Conv2d` at `prefix` with `geometry`, the `BatchNorm` at `norm` folded in.
    pub(crate) fn conv_norm(
        &mut self,
        prefix: &str,
        norm: &str,
        epsilon: f64,
        geometry: ConvGeometry,
    ) {
        let fold = |part| GraphTensor {
            folded: Some(NormFold {
                norm: norm.to_string(),
                epsilon,
                part,
            }),
            ..GraphTensor::param(
                format!(
                    "{prefix}.{}",
                    match part {
                        FoldedPart::Weight => "weight",
                        FoldedPart::Bias => "bias",
                    }
                ),
                false,
            )
        };
        let weight = self.push_tensor(fold(FoldedPart::Weight));
        let bias = Some(self.push_tensor(fold(FoldedPart::Bias)));
        self.layers.push(Layer::Conv2d {
            weight,
            bias,
            geometry,
        });
    }

    /// A Burn `Embedding` at `prefix`: the token ids to their embeddings, channels first,
    /// or (`mean`) to the mean embedding of the ids that are not padding.
    pub(crate) fn embedding(&mut self, prefix: &str, mean: bool) {
        let table = self.push(format!("{prefix}.weight"), false);
        self.layers.push(if mean {
            Layer::EmbeddingMean { table }
        } else {
            Layer::Embedding { table }
        });
    }

    /// A Burn `Linear` at `prefix` (weight transposed, bias as is).
    pub(crate) fn linear(&mut self, prefix: &str) {
        let weight = self.push(format!("{prefix}.weight"), true);
        let bias = Some(self.push(format!("{prefix}.bias"), false));
        self.layers.push(Layer::Linear { weight, bias });
    }

    /// A Burn `Conv2d` at `prefix` with zero padding `padding`.
    pub(crate) fn conv(&mut self, prefix: &str, padding: usize) {
        let weight = self.push(format!("{prefix}.weight"), false);
        let bias = Some(self.push(format!("{prefix}.bias"), false));
        self.layers.push(Layer::Conv2d {
            weight,
            bias,
            geometry: ConvGeometry::padded(padding),
        });
    }

    pub(crate) fn empty() -> Self {
        Self {
            layers: Vec::new(),
            tensors: Vec::new(),
        }
    }
}

impl Lenet300100 {
    /// The network as the runtime runs it: flatten, then three linear layers with ReLU
    /// between them.
    pub fn inference_graph(&self) -> InferenceGraph {
        let mut g = InferenceGraph::empty();
        g.layers.push(Layer::Flatten);
        for (i, fc) in ["fc1", "fc2", "fc3"].iter().enumerate() {
            g.linear(fc);
            if i < 2 {
                g.layers.push(Layer::Relu);
            }
        }
        g
    }
}

impl ConvNet {
    /// The network as the runtime runs it: pairs of 3×3 convolutions (padding 1, "same")
    /// with ReLU, each pair followed by 2×2 max pooling; flatten; three linear layers.
    pub fn inference_graph(&self) -> InferenceGraph {
        let mut g = InferenceGraph::empty();
        for i in 0..self.conv_count() {
            g.conv(&format!("convs.{i}"), 1);
            g.layers.push(Layer::Relu);
            if i % 2 == 1 {
                g.layers.push(Layer::MaxPool2d { size: 2 });
            }
        }
        g.layers.push(Layer::Flatten);
        let last = self.linear_count() - 1;
        for i in 0..=last {
            g.linear(&format!("fcs.{i}"));
            if i < last {
                g.layers.push(Layer::Relu);
            }
        }
        g
    }
}
