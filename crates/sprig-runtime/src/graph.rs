//! What an exported model is: its layers in order, its input, its preprocessing, and
//! the tensors the layers name.

use alloc::string::String;
use alloc::vec::Vec;

/// A sequential model as the format stores it.
#[derive(Debug, Clone, PartialEq)]
pub struct Graph {
    /// The architecture's name (e.g. `lenet-300-100`), for people and tools.
    pub architecture: String,
    /// One example's shape, `[channels, height, width]` (a flat input is `[1, 1, n]`).
    pub input: [usize; 3],
    /// Number of classes (the length of the logits).
    pub classes: usize,
    /// How raw inputs become the model's input.
    pub preprocess: Preprocess,
    /// Free-form preprocessing facts for other domains (a tokenizer vocabulary's file name
    /// and checksum, an audio feature configuration as JSON, …), as key–value pairs.
    pub metadata: Vec<(String, String)>,
    /// The layers, applied in order.
    pub layers: Vec<Layer>,
}

/// How raw inputs are turned into model inputs.
#[derive(Debug, Clone, PartialEq)]
pub enum Preprocess {
    /// The input is given as the model takes it.
    None,
    /// 8-bit pixels, planar by channel: `x = p × scale[c] + offset[c]` (Sprig's vision
    /// normalisation `(p / 255 − mean) / std`, folded into one multiply-add exactly as
    /// training computed it).
    PixelAffine {
        /// Per-channel scale.
        scale: Vec<f32>,
        /// Per-channel offset.
        offset: Vec<f32>,
    },
    /// Mono PCM samples in [-1, 1] at `features.sample_rate`: their log-mel spectrogram
    /// `[1, frames, mels]` as training computed it ([`LogMel`](crate::LogMel)), then per
    /// band `(x − mean[band]) × inv_std[band]` (a keyword spotter's input).
    LogMel {
        /// The spectrogram's settings.
        features: crate::LogMelConfig,
        /// Per mel band, the training split's mean.
        mean: Vec<f32>,
        /// Per mel band, 1 / the training split's standard deviation.
        inv_std: Vec<f32>,
    },
}

/// One layer; tensors are named by their index in the file's tensor list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layer {
    /// `y = W x + b` with `W` stored `[out, in]` (rows are output features; Burn stores
    /// `[in, out]`, the exporter transposes).
    Linear {
        /// The weight tensor.
        weight: usize,
        /// The bias tensor, if any.
        bias: Option<usize>,
    },
    /// 2-D convolution; weight `[out, in / groups, kernel_h, kernel_w]` as in Burn, or a
    /// 1-D one's `[out, in, kernel_w]` (one kernel row, over `[in, 1, length]`).
    Conv2d {
        /// The weight tensor.
        weight: usize,
        /// The bias tensor, if any.
        bias: Option<usize>,
        /// Stride, zero padding and channel groups.
        geometry: ConvGeometry,
    },
    /// Max pooling over `size × size` windows with stride `size`.
    MaxPool2d {
        /// Window side and stride.
        size: usize,
    },
    /// The mean of each channel's plane: `[c, h, w]` to `[c]` (a keyword-spotting
    /// network's pooling before its classifier).
    GlobalAvgPool,
    /// The largest value of each channel's plane: `[c, h, w]` to `[c]` (a text CNN's max
    /// over time).
    GlobalMaxPool,
    /// `max(x, 0)`.
    Relu,
    /// `[c, h, w]` to `[c·h·w]`, channel-major (as Burn's `flatten(1, 3)`).
    Flatten,
    /// Token ids `[1, 1, length]` to their embeddings, channels first: `[dim, 1, length]`
    /// (Burn's `embedding(ids).swap_dims(1, 2)`), from the `[vocab, dim]` table.
    Embedding {
        /// The table.
        table: usize,
    },
    /// Token ids `[1, 1, length]` to the mean embedding `[dim]` of the ids that are not
    /// padding (id 0); only padding gives zeros (a bag of embeddings).
    EmbeddingMean {
        /// The table.
        table: usize,
    },
    /// Keeps a copy of the current activations in `slot`: the input of parallel branches.
    Save {
        /// Which of the 256 slots.
        slot: u8,
    },
    /// Makes the activations kept in `slot` the current ones: the next branch starts.
    Load {
        /// Which slot.
        slot: u8,
    },
    /// `[kept in slot, current]`, flat: the outputs of branches side by side (a text CNN's
    /// filter widths), each appended to what `slot` kept.
    ConcatAfter {
        /// Which slot.
        slot: u8,
    },
    /// `current + kept in slot`, element by element, of the same shape: a residual
    /// connection (a ResNet block's shortcut).
    AddFrom {
        /// Which slot.
        slot: u8,
    },
}

impl Layer {
    /// The tensors the layer names.
    pub(crate) fn tensors(&self) -> [Option<usize>; 2] {
        match *self {
            Layer::Linear { weight, bias } | Layer::Conv2d { weight, bias, .. } => {
                [Some(weight), bias]
            }
            Layer::Embedding { table } | Layer::EmbeddingMean { table } => [Some(table), None],
            _ => [None, None],
        }
    }
}

/// Where a convolution's windows fall on its input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConvGeometry {
    /// Step between windows, `[rows, columns]` (at least 1).
    pub stride: [usize; 2],
    /// Zero padding `[top, left, bottom, right]` (the order of Burn's
    /// `PaddingConfig2d::Explicit`).
    pub padding: [usize; 4],
    /// Channel groups (at least 1): each output channel sees the `in / groups` input
    /// channels of its group; as many groups as channels is a depthwise convolution.
    pub groups: usize,
}

impl ConvGeometry {
    /// Stride 1, `padding` on every side, one group (the VGG-style nets' convolutions).
    pub const fn padded(padding: usize) -> Self {
        Self {
            stride: [1, 1],
            padding: [padding; 4],
            groups: 1,
        }
    }

    /// The padding of a stride-1, one-group convolution padded alike on every side:
    /// what the format's original convolution tag can say.
    pub(crate) fn uniform_padding(&self) -> Option<usize> {
        let [p, rest @ ..] = self.padding;
        (self.stride == [1, 1] && self.groups == 1 && rest.iter().all(|&q| q == p)).then_some(p)
    }

    /// Output `[height, width]` for an input of `[height, width]` and a `kernel`; `None`
    /// when the kernel does not fit even once or the stride is 0.
    pub fn output(&self, [h, w]: [usize; 2], [kh, kw]: [usize; 2]) -> Option<[usize; 2]> {
        let [sy, sx] = self.stride;
        let [top, left, bottom, right] = self.padding;
        if sy == 0 || sx == 0 {
            return None;
        }
        let oh = (h + top + bottom).checked_sub(kh)? / sy + 1;
        let ow = (w + left + right).checked_sub(kw)? / sx + 1;
        Some([oh, ow])
    }
}

/// A tensor to export: its name (the parameter path), shape in the runtime's layout (see
/// [`Layer`]) and dense values, zeros included.
#[derive(Debug, Clone, PartialEq)]
pub struct TensorSpec {
    /// Parameter path, e.g. `fc1.weight`.
    pub name: String,
    /// Shape in the runtime's layout.
    pub shape: Vec<usize>,
    /// Row-major values; pruned weights are 0.0.
    pub values: Vec<f32>,
}

impl TensorSpec {
    /// A tensor from its parts.
    pub fn new(name: impl Into<String>, shape: Vec<usize>, values: Vec<f32>) -> Self {
        Self {
            name: name.into(),
            shape,
            values,
        }
    }

    /// Rows and columns of its 2-D view: the first dimension by the product of the rest.
    pub fn rows_cols(&self) -> (usize, usize) {
        rows_cols(&self.shape)
    }
}

/// Rows and columns of a shape's 2-D view (a rank-1 tensor is one row).
pub(crate) fn rows_cols(shape: &[usize]) -> (usize, usize) {
    match shape {
        [] => (1, 1),
        [n] => (1, *n),
        [rows, rest @ ..] => (*rows, rest.iter().product()),
    }
}
