//! Sprig's model zoo: the Lottery Ticket Hypothesis architectures on Burn.
//!
//! Every model says which of its tensors are prunable and of which layer kind
//! ([`PrunableTensor`]), so the engine can apply per-layer-kind rates as data, and gets its
//! initial weights θ0 from [`initial_weights`]: drawn on the host from one seed, so the same
//! seed gives the same θ0 (and so the same mask) whatever the backend.
//!
//! | name | architecture (Frankle & Carbin, ICLR 2019, fig. 2) |
//! |---|---|
//! | `lenet-300-100` | fully connected 784-300-100-10 |
//! | `conv-2` | conv 64, 64, pool; fc 256, 256, 10 |
//! | `conv-4` | conv 64, 64, pool, 128, 128, pool; fc 256, 256, 10 |
//! | `conv-6` | conv 64, 64, pool, 128, 128, pool, 256, 256, pool; fc 256, 256, 10 |
//! | `resnet-20` | He et al. 2016 CIFAR ResNet: 16-32-64 filters, 3 blocks per stage, batch norm |
//! | `textcnn` | Kim 2014: embedding 64, convolutions of widths 3/4/5 × 100 filters, max over time, dropout 0.5 |
//! | `bag-of-embeddings` | mean of embeddings 128, fc 128, output |
//! | `ds-cnn` | Hello-Edge DS-CNN-S with batch norm: conv 10×4/2 64, max pool 2×2, 4 × (depthwise 3×3 + pointwise 1×1), average pool, output (21,888 weights) |
//! | `audio-cnn` | conv 3×3 32, 64, 128, each with 2×2 max pooling; fc 128, output |
//!
//! ```
//! use burn::tensor::Tensor;
//! use sprig_models::{Architecture, Classifier, Lenet300100, initial_weights};
//!
//! let device = sprig_backend::Backend::default_compiled().device().unwrap();
//! let model = Lenet300100::new(784, 10, &device);
//! // The tensors the pruner may prune, by path, with their layer kinds.
//! let prunable: Vec<String> = model.prunable().iter().map(|t| t.path.clone()).collect();
//! assert_eq!(prunable, ["fc1.weight", "fc2.weight", "fc3.weight"]);
//! // θ0 from one seed, drawn on the host: the same on every backend.
//! let shapes = sprig_prune::tensor_shapes(&model);
//! let theta0 = initial_weights(&shapes, Architecture::Lenet300100.initialization(), 7).unwrap();
//! assert_eq!(theta0, initial_weights(&shapes, Architecture::Lenet300100.initialization(), 7).unwrap());
//! let logits = Classifier::forward(&model, Tensor::<4>::zeros([2, 1, 28, 28], &device));
//! assert_eq!(logits.dims(), [2, 10]);
//! ```

mod arch;
mod audio;
mod conv_net;
mod factory;
mod inference;
mod init;
mod lenet;
mod prunable_linear;
mod resnet;
mod text;

pub use arch::{Architecture, Classifier, Modality, ModelError};
pub use audio::{AudioCnn, DsCnn};
pub use conv_net::ConvNet;
pub use factory::{WithModel, build_model, build_text_model};
pub use inference::{FoldedPart, GraphTensor, InferenceGraph, NormFold};
pub use init::{EMBEDDING_STD, Initialization, initial_weights};
pub use lenet::Lenet300100;
pub use prunable_linear::{PrunableLinear, SPARSE_AT_MOST};
pub use resnet::ResNet;
pub use text::{BagOfEmbeddings, TEXT_CNN_WIDTHS, TextCnn, TextCnnSize};

/// A tensor the pruner may prune, with the layer kind its per-kind rate is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrunableTensor {
    /// Parameter path in the module, e.g. `fc1.weight`.
    pub path: String,
    /// Layer kind: `linear`, `conv`, `embedding` or `output` (see
    /// `sprig_mask::LayerRates::lth`).
    pub kind: &'static str,
}

impl PrunableTensor {
    fn new(path: impl Into<String>, kind: &'static str) -> Self {
        Self {
            path: path.into(),
            kind,
        }
    }
}
