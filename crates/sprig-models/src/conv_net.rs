//! Conv-2, Conv-4 and Conv-6: the VGG-like CIFAR-10 networks of the LTH paper.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use sprig_backend::{StageConv, conv_stage};

use crate::PrunableTensor;

/// A convolution's weight and bias as the fused stage takes them. Every convolution of
/// [`ConvNet`] is built with a bias, 3×3 kernels and "same" padding, as the stage assumes.
fn stage_conv(conv: &Conv2d) -> StageConv {
    let bias = conv
        .bias
        .as_ref()
        .expect("ConvNet builds every convolution with a bias");
    (conv.weight.val(), bias.val())
}

/// Pairs of 3×3 convolutions (64, 128, 256 filters), each pair followed by 2×2 max
/// pooling, then fully-connected 256, 256 and the output layer; ReLU throughout.
#[derive(Module, Debug)]
pub struct ConvNet {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    fcs: Vec<Linear>,
}

impl ConvNet {
    /// Conv-`2 × pairs` for images of `[channels, height, width]` and `classes` outputs.
    /// Weights are placeholders until [`crate::initial_weights`] are loaded.
    pub fn new(pairs: usize, input: [usize; 3], classes: usize, device: &Device) -> Self {
        let [mut channels, mut height, mut width] = input;
        let mut convs = Vec::new();
        for pair in 0..pairs {
            let filters = 64 << pair;
            for _ in 0..2 {
                convs.push(
                    Conv2dConfig::new([channels, filters], [3, 3])
                        .with_padding(PaddingConfig2d::Same)
                        .init(device),
                );
                channels = filters;
            }
            height /= 2;
            width /= 2;
        }
        let flat = channels * height * width;
        let fcs = vec![
            LinearConfig::new(flat, 256).init(device),
            LinearConfig::new(256, 256).init(device),
            LinearConfig::new(256, classes).init(device),
        ];
        Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fcs,
        }
    }

    /// Logits for a batch of images `[batch, channels, height, width]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x: Tensor<2> = self.features(images).flatten(1, 3);
        let last = self.fcs.len() - 1;
        for (index, fc) in self.fcs.iter().enumerate() {
            x = fc.forward(x);
            if index < last {
                x = relu(x);
            }
        }
        x
    }

    /// The convolutional part: one [`conv_stage`] per pair of convolutions (on LibTorch
    /// differentiated by LibTorch itself, see `sprig_backend::conv_stage`).
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        let mut x = images;
        for pair in self.convs.chunks(2) {
            x = conv_stage(x, stage_conv(&pair[0]), stage_conv(&pair[1]));
        }
        x
    }

    /// [`Self::features`] composed of Burn's modules (`Conv2d`, `relu`, `MaxPool2d`)
    /// instead of the fused stage: the reference the stage is tested against.
    pub fn features_unfused(&self, images: Tensor<4>) -> Tensor<4> {
        let mut x = images;
        for pair in self.convs.chunks(2) {
            for conv in pair {
                x = relu(conv.forward(x));
            }
            x = self.pool.forward(x);
        }
        x
    }

    /// The convolutions, two per stage.
    pub fn convs(&self) -> &[Conv2d] {
        &self.convs
    }

    /// Number of convolutions (two per pair).
    pub fn conv_count(&self) -> usize {
        self.convs.len()
    }

    /// Number of fully-connected layers, the output layer included.
    pub fn linear_count(&self) -> usize {
        self.fcs.len()
    }

    /// Every convolution and fully-connected weight; the last layer is the output layer.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        let convs =
            (0..self.convs.len()).map(|i| PrunableTensor::new(format!("convs.{i}.weight"), "conv"));
        let last = self.fcs.len() - 1;
        let fcs = (0..self.fcs.len()).map(|i| {
            let kind = if i == last { "output" } else { "linear" };
            PrunableTensor::new(format!("fcs.{i}.weight"), kind)
        });
        convs.chain(fcs).collect()
    }
}
