//! Builds a zoo model from its [`Architecture`] and hands it, whatever its concrete type,
//! to something generic over [`Classifier`]s.

use burn::tensor::{Device, Int, Tensor};

use crate::{
    Architecture, AudioCnn, BagOfEmbeddings, Classifier, ConvNet, DsCnn, Lenet300100, ModelError,
    ResNet, TextCnn, TextCnnSize,
};

/// Something to do with a freshly built zoo model, whatever its concrete type.
pub trait WithModel {
    /// What the model takes.
    type Input: Clone;
    /// What it gives back.
    type Output;
    /// Does it.
    fn with<M: Classifier<Input = Self::Input>>(self, model: M) -> Self::Output;
}

/// Builds the image model `architecture` for `input` images and `classes` on `device` and
/// hands it to `w`.
///
/// # Errors
/// [`ModelError::Modality`] if `architecture` is not an image model.
pub fn build_model<W: WithModel<Input = Tensor<4>>>(
    architecture: Architecture,
    input: [usize; 3],
    classes: usize,
    device: &Device,
    w: W,
) -> Result<W::Output, ModelError> {
    Ok(match architecture {
        Architecture::ResNet20 => w.with(ResNet::resnet20(input[0], classes, device)),
        Architecture::Lenet300100 => {
            w.with(Lenet300100::new(input.iter().product(), classes, device))
        }
        Architecture::Conv2 | Architecture::Conv4 | Architecture::Conv6 => {
            let pairs = architecture.conv_pairs().unwrap_or(1);
            w.with(ConvNet::new(pairs, input, classes, device))
        }
        Architecture::DsCnn => w.with(DsCnn::new(classes, device)),
        Architecture::AudioCnn => w.with(AudioCnn::new(input, classes, device)),
        Architecture::TextCnn | Architecture::BagOfEmbeddings => {
            return Err(ModelError::Modality {
                model: architecture,
                takes: "token ids",
                given: "images",
            });
        }
    })
}

/// Builds the text model `architecture` for a vocabulary of `vocab` ids and `classes` on
/// `device` and hands it to `w`.
///
/// # Errors
/// [`ModelError::Modality`] if `architecture` is not a text model.
pub fn build_text_model<W: WithModel<Input = Tensor<2, Int>>>(
    architecture: Architecture,
    vocab: usize,
    classes: usize,
    device: &Device,
    w: W,
) -> Result<W::Output, ModelError> {
    Ok(match architecture {
        Architecture::TextCnn => w.with(TextCnn::new(vocab, classes, TextCnnSize::DEFAULT, device)),
        Architecture::BagOfEmbeddings => w.with(BagOfEmbeddings::new(vocab, classes, device)),
        other => {
            return Err(ModelError::Modality {
                model: other,
                takes: "images",
                given: "token ids",
            });
        }
    })
}
