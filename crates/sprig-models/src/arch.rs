//! Architectures by name, and what the engine needs of an image classifier.

use std::fmt;
use std::str::FromStr;

use burn::module::Module;
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use burn::tensor::Int;

use crate::{
    AudioCnn, BagOfEmbeddings, ConvNet, DsCnn, InferenceGraph, Initialization, Lenet300100,
    PrunableTensor, ResNet, TextCnn,
};

/// What can go wrong building a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The architecture name is not in the zoo.
    #[error("unknown model `{name}`: known models are {known}")]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every name the zoo knows.
        known: String,
    },
    /// The input does not fit the architecture.
    #[error("model `{model}` cannot take input {input:?}: {reason}")]
    Input {
        /// The architecture.
        model: Architecture,
        /// `[channels, height, width]`.
        input: [usize; 3],
        /// Why not.
        reason: String,
    },
    /// The model takes another kind of input than the data set gives.
    #[error("model `{model}` takes {takes}, not {given}")]
    Modality {
        /// The architecture.
        model: Architecture,
        /// What it takes, e.g. "token ids".
        takes: &'static str,
        /// What it was given, e.g. "images".
        given: &'static str,
    },
    /// Drawing θ0 failed.
    #[error("initialising `{path}`: {message}")]
    Init {
        /// The parameter.
        path: String,
        /// The distribution's complaint.
        message: String,
    },
    /// The mask core refused the initial weights.
    #[error(transparent)]
    Mask(#[from] sprig_mask::MaskError),
}

/// A classifier the engine can train and prune, whatever its input: images
/// `[batch, channels, height, width]`, token ids, spectrograms.
pub trait Classifier: Module + Clone + fmt::Debug + 'static {
    /// One batch of inputs, as the model's forward pass takes it (`Send + 'static`: a
    /// training step may be handed to another thread, see `sprig_backend::on_one_thread`).
    type Input: Clone + Send + 'static;
    /// Logits `[batch, classes]`.
    fn forward(&self, input: Self::Input) -> Tensor<2>;
    /// The tensors the pruner may prune, with their layer kinds. The default lists none,
    /// which tells the pruner to find them by visiting the module (`sprig_prune::discover`:
    /// every weight of two or more dimensions; biases and normalisation parameters kept;
    /// the last linear weight is the output layer): a user's model only has to give its
    /// logits.
    fn prunable(&self) -> Vec<PrunableTensor> {
        Vec::new()
    }
    /// The model as the sparse runtime runs it (`sprig-runtime`'s layers, branches and
    /// residual connections through its slots), if the runtime can run it.
    fn inference_graph(&self) -> Option<InferenceGraph> {
        None
    }
    /// Tells the model which weights `masks` keep, whenever they change, so layers that
    /// can compute with the survivors only do so (`PrunableLinear`). The default ignores
    /// it: the masked weights are zero, so the dense computation is the same.
    fn use_masks(&mut self, masks: &sprig_mask::MaskSet) {
        let _ = masks;
    }
}

impl Classifier for Lenet300100 {
    type Input = Tensor<4>;
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        Lenet300100::forward(self, images)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        Lenet300100::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(Lenet300100::inference_graph(self))
    }
    fn use_masks(&mut self, masks: &sprig_mask::MaskSet) {
        Lenet300100::use_masks(self, masks);
    }
}

impl Classifier for ResNet {
    type Input = Tensor<4>;
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        ResNet::forward(self, images)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        ResNet::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(ResNet::inference_graph(self))
    }
}

impl Classifier for ConvNet {
    type Input = Tensor<4>;
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        ConvNet::forward(self, images)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        ConvNet::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(ConvNet::inference_graph(self))
    }
}

impl Classifier for DsCnn {
    type Input = Tensor<4>;
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        DsCnn::forward(self, x)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        DsCnn::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(DsCnn::inference_graph(self))
    }
}

impl Classifier for AudioCnn {
    type Input = Tensor<4>;
    fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        AudioCnn::forward(self, x)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        AudioCnn::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(AudioCnn::inference_graph(self))
    }
}

impl Classifier for TextCnn {
    type Input = Tensor<2, Int>;
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        TextCnn::forward(self, ids)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        TextCnn::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(TextCnn::inference_graph(self))
    }
}

impl Classifier for BagOfEmbeddings {
    type Input = Tensor<2, Int>;
    fn forward(&self, ids: Tensor<2, Int>) -> Tensor<2> {
        BagOfEmbeddings::forward(self, ids)
    }
    fn prunable(&self) -> Vec<PrunableTensor> {
        BagOfEmbeddings::prunable(self)
    }
    fn inference_graph(&self) -> Option<InferenceGraph> {
        Some(BagOfEmbeddings::inference_graph(self))
    }
}

/// What an architecture takes as input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Modality {
    /// Images `[batch, channels, height, width]`.
    Image,
    /// Token ids `[batch, length]`.
    Text,
    /// Spectrograms `[batch, 1, frames, mels]`.
    Audio,
}

/// The architectures of the zoo, by the names the CLI and the configs use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Architecture {
    /// LeNet-300-100.
    Lenet300100,
    /// Conv-2.
    Conv2,
    /// Conv-4.
    Conv4,
    /// Conv-6.
    Conv6,
    /// ResNet-20 for CIFAR (He et al., 2016).
    ResNet20,
    /// Kim (2014)'s convolutional text classifier.
    TextCnn,
    /// Mean of token embeddings, one hidden layer.
    BagOfEmbeddings,
    /// Depthwise-separable keyword-spotting CNN (Hello Edge DS-CNN-S).
    DsCnn,
    /// A plain three-convolution spectrogram CNN.
    AudioCnn,
}

impl Architecture {
    /// Every architecture, in the order they are listed to users.
    pub const ALL: [Architecture; 9] = [
        Architecture::Lenet300100,
        Architecture::Conv2,
        Architecture::Conv4,
        Architecture::Conv6,
        Architecture::ResNet20,
        Architecture::TextCnn,
        Architecture::BagOfEmbeddings,
        Architecture::DsCnn,
        Architecture::AudioCnn,
    ];

    /// The name used on the command line and in result files.
    pub fn name(self) -> &'static str {
        match self {
            Architecture::Lenet300100 => "lenet-300-100",
            Architecture::Conv2 => "conv-2",
            Architecture::Conv4 => "conv-4",
            Architecture::Conv6 => "conv-6",
            Architecture::ResNet20 => "resnet-20",
            Architecture::TextCnn => "textcnn",
            Architecture::BagOfEmbeddings => "bag-of-embeddings",
            Architecture::DsCnn => "ds-cnn",
            Architecture::AudioCnn => "audio-cnn",
        }
    }

    /// What it takes as input.
    pub fn modality(self) -> Modality {
        match self {
            Architecture::TextCnn | Architecture::BagOfEmbeddings => Modality::Text,
            Architecture::DsCnn | Architecture::AudioCnn => Modality::Audio,
            _ => Modality::Image,
        }
    }

    /// How its θ0 is drawn: Glorot for the LTH paper's networks, Kaiming for ResNet (as
    /// open_lth does) and for the DS-CNN. A depthwise 3×3 weight `[64, 1, 3, 3]` has a fan
    /// in of 9 but, read from its shape, a fan out of 576: Glorot's σ = √(2 / 585) makes
    /// each depthwise layer scale the signal's variance by ~0.03, so after four blocks
    /// without batch norm the logits were constant and the loss sat at ln 10 (measured:
    /// 10% test accuracy after 218 iterations). Kaiming's σ = √(2 / fan in) keeps it.
    pub fn initialization(self) -> Initialization {
        match self {
            Architecture::ResNet20 | Architecture::DsCnn => Initialization::KaimingNormal,
            _ => Initialization::GlorotNormal,
        }
    }

    /// The revision of this model's definition: 0 until a change to its layers, their
    /// initialisation or its inference graph would change a result; then one more, so
    /// that an experiment's canonical form (and its run folder) changes with it and no
    /// finished run of the old model is reused for the new one.
    pub fn revision(self) -> u32 {
        0
    }

    /// Whether some of this model's layers compute with the surviving weights alone once
    /// few survive (`PrunableLinear`, see `Classifier::use_masks`): where a run's sparse
    /// products setting changes anything.
    pub fn computes_sparsely(self) -> bool {
        self == Architecture::Lenet300100
    }

    /// Pairs of convolutions, for the Conv-N family.
    pub fn conv_pairs(self) -> Option<usize> {
        match self {
            Architecture::Lenet300100
            | Architecture::ResNet20
            | Architecture::TextCnn
            | Architecture::BagOfEmbeddings
            | Architecture::DsCnn
            | Architecture::AudioCnn => None,
            Architecture::Conv2 => Some(1),
            Architecture::Conv4 => Some(2),
            Architecture::Conv6 => Some(3),
        }
    }

    /// Checks that images of `[channels, height, width]` fit: each 2×2 pooling halves the
    /// side, so Conv-N needs sides divisible by 2^(N/2).
    pub fn check_input(self, input: [usize; 3]) -> Result<(), ModelError> {
        let halvings = match self {
            Architecture::ResNet20 => Some(2),
            Architecture::AudioCnn | Architecture::DsCnn => None,
            _ => self.conv_pairs(),
        };
        let reason = match halvings {
            _ if self.modality() == Modality::Text => {
                Some("it takes token ids, not images".to_string())
            }
            _ if self.modality() == Modality::Audio
                && (input[0] != 1 || input[1] < 10 || input[2] < 8) =>
            {
                Some("it takes one-channel spectrograms of at least 10 frames × 8 bands".into())
            }
            _ if input.contains(&0) => Some("every dimension must be at least 1".to_string()),
            Some(pairs)
                if !input[1].is_multiple_of(1 << pairs) || !input[2].is_multiple_of(1 << pairs) =>
            {
                Some(format!(
                    "height and width must be divisible by {}",
                    1 << pairs
                ))
            }
            _ => None,
        };
        match reason {
            Some(reason) => Err(ModelError::Input {
                model: self,
                input,
                reason,
            }),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Architecture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Architecture {
    type Err = ModelError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Architecture::ALL
            .into_iter()
            .find(|a| a.name().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| ModelError::Unknown {
                name: name.to_string(),
                known: Architecture::ALL.map(|a| a.name()).join(", "),
            })
    }
}

impl TryFrom<String> for Architecture {
    type Error = ModelError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Architecture> for String {
    fn from(value: Architecture) -> Self {
        value.name().to_string()
    }
}
