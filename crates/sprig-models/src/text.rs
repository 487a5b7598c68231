//! Text classifiers on token ids `[batch, length]`: a Kim (2014) convolutional network and
//! a bag-of-embeddings baseline. Both start with an embedding table, which is prunable
//! (kind `embedding`) and is usually most of the weights.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Embedding, EmbeddingConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor};

use sprig_runtime::Layer;

use crate::{InferenceGraph, PrunableTensor};

/// Sizes of a [`TextCnn`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextCnnSize {
    /// Embedding dimension.
    pub embedding: usize,
    /// Filters per window width.
    pub filters: usize,
}

impl TextCnnSize {
    /// Kim's widths 3/4/5 with 100 filters each, on 64-dimensional embeddings (Kim uses
    /// 300, for pre-trained vectors; random ones this small keep a CPU training step to
    /// tens of milliseconds).
    pub const DEFAULT: TextCnnSize = TextCnnSize {
        embedding: 64,
        filters: 100,
    };
}

/// Window widths of the parallel convolutions.
pub const TEXT_CNN_WIDTHS: [usize; 3] = [3, 4, 5];

/// Kim (2014): embedding → parallel 1-D convolutions of widths 3, 4, 5 → ReLU →
/// max over time → dropout 0.5 → fully connected.
#[derive(Module, Debug)]
pub struct TextCnn {
    embedding: Embedding,
    convs: Vec<Conv1d>,
    dropout: Dropout,
    output: Linear,
}

impl TextCnn {
    /// A network for a vocabulary of `vocab` ids, examples of at least the widest window,
    /// and `classes` outputs. Weights are placeholders until [`crate::initial_weights`] are
    /// loaded.
    pub fn new(vocab: usize, classes: usize, size: TextCnnSize, device: &Device) -> Self {
        let convs = TEXT_CNN_WIDTHS
            .iter()
            .map(|&w| Conv1dConfig::new(size.embedding, size.filters, w).init(device))
            .collect();
        Self {
            embedding: EmbeddingConfig::new(vocab, size.embedding).init(device),
            convs,
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(size.filters * TEXT_CNN_WIDTHS.len(), classes).init(device),
        }
    }

    /// Logits for token ids `[batch, length]` (length ≥ 5, the widest window).
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        // [batch, length, embedding] → [batch, embedding, length]: channels first.
        let x = self.embedding.forward(ids).swap_dims(1, 2);
        let pooled: Vec<Tensor<2>> = self
            .convs
            .iter()
            .map(|conv| relu(conv.forward(x.clone())).max_dim(2).squeeze_dim(2))
            .collect();
        self.output
            .forward(self.dropout.forward(Tensor::cat(pooled, 1)))
    }

    /// The embedding table, the convolutions and the output layer.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        let mut v = vec![PrunableTensor::new("embedding.weight", "embedding")];
        v.extend(
            (0..self.convs.len()).map(|i| PrunableTensor::new(format!("convs.{i}.weight"), "conv")),
        );
        v.push(PrunableTensor::new("output.weight", "output"));
        v
    }
}

/// Bag of embeddings (fastText-like): the mean embedding of the non-padding tokens →
/// fully connected 128, ReLU → output.
#[derive(Module, Debug)]
pub struct BagOfEmbeddings {
    embedding: Embedding,
    hidden: Linear,
    output: Linear,
}

impl BagOfEmbeddings {
    /// Embedding dimension.
    pub const EMBEDDING: usize = 128;
    /// Hidden units.
    pub const HIDDEN: usize = 128;

    /// A network for a vocabulary of `vocab` ids and `classes` outputs.
    pub fn new(vocab: usize, classes: usize, device: &Device) -> Self {
        Self {
            embedding: EmbeddingConfig::new(vocab, Self::EMBEDDING).init(device),
            hidden: LinearConfig::new(Self::EMBEDDING, Self::HIDDEN).init(device),
            output: LinearConfig::new(Self::HIDDEN, classes).init(device),
        }
    }

    /// Logits for token ids `[batch, length]`; id 0 is padding and does not count.
    pub fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        let keep: Tensor<3> = ids.clone().not_equal_elem(0).float().unsqueeze_dim(2);
        let embedded = self.embedding.forward(ids) * keep.clone();
        let counts = keep.sum_dim(1).clamp_min(1.0);
        let mean: Tensor<2> = (embedded.sum_dim(1) / counts).squeeze_dim(1);
        self.output.forward(relu(self.hidden.forward(mean)))
    }

    /// The embedding table and both linear layers.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        vec![
            PrunableTensor::new("embedding.weight", "embedding"),
            PrunableTensor::new("hidden.weight", "linear"),
            PrunableTensor::new("output.weight", "output"),
        ]
    }
}

impl TextCnn {
    /// The network as the runtime runs it: the embedding (channels first); per window
    /// width a branch from the embeddings (slot 0) of a 1-D convolution, ReLU and max over
    /// time, each branch's features appended to the ones before (slot 1); the output layer.
    /// Dropout does nothing at inference.
    pub fn inference_graph(&self) -> InferenceGraph {
        let (embedded, features) = (0, 1);
        let mut g = InferenceGraph::empty();
        g.embedding("embedding", false);
        g.layers.push(Layer::Save { slot: embedded });
        for i in 0..self.convs.len() {
            if i > 0 {
                g.layers.push(Layer::Load { slot: embedded });
            }
            g.conv(&format!("convs.{i}"), 0);
            g.layers.extend([Layer::Relu, Layer::GlobalMaxPool]);
            if i > 0 {
                g.layers.push(Layer::ConcatAfter { slot: features });
            }
            if i + 1 < self.convs.len() {
                g.layers.push(Layer::Save { slot: features });
            }
        }
        g.linear("output");
        g
    }
}

impl BagOfEmbeddings {
    /// The network as the runtime runs it: the mean embedding of the tokens that are not
    /// padding, the hidden layer with ReLU, the output layer.
    pub fn inference_graph(&self) -> InferenceGraph {
        let mut g = InferenceGraph::empty();
        g.embedding("embedding", true);
        g.linear("hidden");
        g.layers.push(Layer::Relu);
        g.linear("output");
        g
    }
}
