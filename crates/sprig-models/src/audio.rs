//! Keyword-spotting networks on log-mel spectrograms `[batch, 1, frames, mels]`.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::PrunableTensor;

/// A depthwise-separable CNN after Zhang et al., "Hello Edge: Keyword Spotting on
/// Microcontrollers" (2017), DS-CNN-S without batch norm: a 10×4 convolution with stride
/// 2 to 64 channels, four blocks of a 3×3 depthwise and a 1×1 pointwise convolution,
/// global average pooling, the output layer. About 23 thousand weights: sized for a
/// microcontroller before any pruning.
#[derive(Module, Debug)]
pub struct DsCnn {
    stem: Conv2d,
    depthwise: Vec<Conv2d>,
    pointwise: Vec<Conv2d>,
    output: Linear,
}

impl DsCnn {
    /// Channels throughout.
    pub const CHANNELS: usize = 64;
    /// Depthwise-separable blocks.
    pub const BLOCKS: usize = 4;

    /// A network for `classes` outputs (any spectrogram size of at least 10 × 4).
    pub fn new(classes: usize, device: &Device) -> Self {
        let c = Self::CHANNELS;
        Self {
            stem: Conv2dConfig::new([1, c], [10, 4])
                .with_stride([2, 2])
                .with_padding(PaddingConfig2d::Explicit(4, 1, 5, 2))
                .init(device),
            depthwise: (0..Self::BLOCKS)
                .map(|_| {
                    Conv2dConfig::new([c, c], [3, 3])
                        .with_groups(c)
                        .with_padding(PaddingConfig2d::Same)
                        .init(device)
                })
                .collect(),
            pointwise: (0..Self::BLOCKS)
                .map(|_| Conv2dConfig::new([c, c], [1, 1]).init(device))
                .collect(),
            output: LinearConfig::new(c, classes).init(device),
        }
    }

    /// Logits for spectrograms `[batch, 1, frames, mels]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = relu(self.stem.forward(x));
        for (dw, pw) in self.depthwise.iter().zip(&self.pointwise) {
            x = relu(pw.forward(relu(dw.forward(x))));
        }
        let [batch, channels, _, _] = x.dims();
        let pooled: Tensor<2> = x.mean_dim(3).mean_dim(2).reshape([batch, channels]);
        self.output.forward(pooled)
    }

    /// Every convolution and the output layer.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        let mut v = vec![PrunableTensor::new("stem.weight", "conv")];
        for i in 0..self.depthwise.len() {
            v.push(PrunableTensor::new(format!("depthwise.{i}.weight"), "conv"));
            v.push(PrunableTensor::new(format!("pointwise.{i}.weight"), "conv"));
        }
        v.push(PrunableTensor::new("output.weight", "output"));
        v
    }
}

/// A plain CNN for the sparsity study, with room to prune: three 3×3 convolutions (32, 64,
/// 128 filters) each followed by ReLU and 2×2 max pooling, then fully connected 128 and
/// the output layer.
#[derive(Module, Debug)]
pub struct AudioCnn {
    convs: Vec<Conv2d>,
    pool: MaxPool2d,
    fcs: Vec<Linear>,
}

impl AudioCnn {
    /// A network for spectrograms of `[1, frames, mels]` and `classes` outputs.
    pub fn new(input: [usize; 3], classes: usize, device: &Device) -> Self {
        let [mut channels, mut height, mut width] = input;
        let mut convs = Vec::new();
        for filters in [32, 64, 128] {
            convs.push(
                Conv2dConfig::new([channels, filters], [3, 3])
                    .with_padding(PaddingConfig2d::Same)
                    .init(device),
            );
            channels = filters;
            height /= 2;
            width /= 2;
        }
        Self {
            convs,
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fcs: vec![
                LinearConfig::new(channels * height * width, 128).init(device),
                LinearConfig::new(128, classes).init(device),
            ],
        }
    }

    /// Logits for spectrograms `[batch, 1, frames, mels]`.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let mut x = x;
        for conv in &self.convs {
            x = self.pool.forward(relu(conv.forward(x)));
        }
        let x: Tensor<2> = x.flatten(1, 3);
        self.fcs[1].forward(relu(self.fcs[0].forward(x)))
    }

    /// Every convolution and fully-connected weight; the last is the output layer.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        let mut v: Vec<PrunableTensor> = (0..self.convs.len())
            .map(|i| PrunableTensor::new(format!("convs.{i}.weight"), "conv"))
            .collect();
        v.push(PrunableTensor::new("fcs.0.weight", "linear"));
        v.push(PrunableTensor::new("fcs.1.weight", "output"));
        v
    }
}
