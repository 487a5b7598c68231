//! ResNet-20 for CIFAR-10 (He et al., 2016, §4.2), as open_lth trains it: a 3×3
//! convolution of 16 filters, three stages of three basic blocks (16, 32, 64 filters; the
//! first block of stages 2 and 3 halves the side with stride 2 and a 1×1 projection
//! shortcut), global average pooling and the output layer. Batch normalisation after every
//! convolution.

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use sprig_runtime::{ConvGeometry, Layer};

use crate::{InferenceGraph, PrunableTensor};

/// A convolution followed by batch normalisation.
#[derive(Module, Debug)]
struct ConvBn {
    conv: Conv2d,
    bn: BatchNorm,
}

impl ConvBn {
    fn new(channels: [usize; 2], kernel: usize, stride: usize, device: &Device) -> Self {
        let pad = kernel / 2;
        Self {
            conv: Conv2dConfig::new(channels, [kernel, kernel])
                .with_stride([stride, stride])
                .with_padding(PaddingConfig2d::Explicit(pad, pad, pad, pad))
                .with_bias(false)
                .init(device),
            bn: BatchNormConfig::new(channels[1]).init(device),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// Two 3×3 convolutions with a shortcut around them.
#[derive(Module, Debug)]
struct Block {
    first: ConvBn,
    second: ConvBn,
    /// A 1×1 projection when the block changes the shape; identity otherwise.
    shortcut: Option<ConvBn>,
}

impl Block {
    fn new(channels: [usize; 2], stride: usize, device: &Device) -> Self {
        let [inputs, outputs] = channels;
        Self {
            first: ConvBn::new(channels, 3, stride, device),
            second: ConvBn::new([outputs, outputs], 3, 1, device),
            shortcut: (stride != 1 || inputs != outputs)
                .then(|| ConvBn::new(channels, 1, stride, device)),
        }
    }

    fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let residual = match &self.shortcut {
            Some(projection) => projection.forward(x.clone()),
            None => x.clone(),
        };
        let y = self.second.forward(relu(self.first.forward(x)));
        relu(y + residual)
    }
}

/// ResNet-`6n+2` for CIFAR; [`ResNet::resnet20`] is `n = 3`.
#[derive(Module, Debug)]
pub struct ResNet {
    stem: ConvBn,
    blocks: Vec<Block>,
    fc: Linear,
}

impl ResNet {
    /// ResNet-20 for images with `channels` channels and `classes` outputs. Weights are
    /// placeholders until [`crate::initial_weights`] are loaded.
    pub fn resnet20(channels: usize, classes: usize, device: &Device) -> Self {
        Self::new(3, channels, classes, device)
    }

    /// ResNet-`6n+2`: `n` blocks per stage.
    pub fn new(n: usize, channels: usize, classes: usize, device: &Device) -> Self {
        let mut blocks = Vec::new();
        let mut inputs = 16;
        for (stage, width) in [16, 32, 64].into_iter().enumerate() {
            for block in 0..n {
                let stride = if stage > 0 && block == 0 { 2 } else { 1 };
                blocks.push(Block::new([inputs, width], stride, device));
                inputs = width;
            }
        }
        Self {
            stem: ConvBn::new([channels, 16], 3, 1, device),
            blocks,
            fc: LinearConfig::new(64, classes).init(device),
        }
    }

    /// Logits for a batch of images `[batch, channels, height, width]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let mut x = relu(self.stem.forward(images));
        for block in &self.blocks {
            x = block.forward(x);
        }
        let [batch, channels, _, _] = x.dims();
        let pooled: Tensor<2> = x.mean_dim(3).mean_dim(2).reshape([batch, channels]);
        self.fc.forward(pooled)
    }

    /// Every convolution (shortcuts included) and the output layer; batch-norm
    /// parameters are not pruned.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        let mut tensors = vec![PrunableTensor::new("stem.conv.weight", "conv")];
        for (i, block) in self.blocks.iter().enumerate() {
            tensors.push(PrunableTensor::new(
                format!("blocks.{i}.first.conv.weight"),
                "conv",
            ));
            tensors.push(PrunableTensor::new(
                format!("blocks.{i}.second.conv.weight"),
                "conv",
            ));
            if block.shortcut.is_some() {
                tensors.push(PrunableTensor::new(
                    format!("blocks.{i}.shortcut.conv.weight"),
                    "conv",
                ));
            }
        }
        tensors.push(PrunableTensor::new("fc.weight", "output"));
        tensors
    }
}

impl ConvBn {
    /// Where the convolution's windows fall (as `new` configured it).
    fn geometry(&self, kernel: usize, stride: usize) -> ConvGeometry {
        ConvGeometry {
            stride: [stride, stride],
            ..ConvGeometry::padded(kernel / 2)
        }
    }
}

impl ResNet {
    /// The network as the runtime runs it: every batch norm folded into the convolution
    /// before it; per block, its input kept (slot 0), the two convolutions, then the
    /// shortcut added: the kept input itself, or (stride 2) its 1×1 projection computed
    /// from it after the block's output is kept in slot 1; ReLU; then global average
    /// pooling and the output layer.
    pub fn inference_graph(&self) -> InferenceGraph {
        let (input, output) = (0, 1);
        let mut g = InferenceGraph::empty();
        fn conv(g: &mut InferenceGraph, path: &str, c: &ConvBn, kernel: usize, stride: usize) {
            let geometry = c.geometry(kernel, stride);
            g.conv_norm(
                &format!("{path}.conv"),
                &format!("{path}.bn"),
                c.bn.epsilon,
                geometry,
            );
        }
        conv(&mut g, "stem", &self.stem, 3, 1);
        g.layers.push(Layer::Relu);
        for (i, block) in self.blocks.iter().enumerate() {
            let stride = block.first.conv.stride[0];
            g.layers.push(Layer::Save { slot: input });
            conv(
                &mut g,
                &format!("blocks.{i}.first"),
                &block.first,
                3,
                stride,
            );
            g.layers.push(Layer::Relu);
            conv(&mut g, &format!("blocks.{i}.second"), &block.second, 3, 1);
            match &block.shortcut {
                Some(projection) => {
                    g.layers.push(Layer::Save { slot: output });
                    g.layers.push(Layer::Load { slot: input });
                    conv(
                        &mut g,
                        &format!("blocks.{i}.shortcut"),
                        projection,
                        1,
                        stride,
                    );
                    g.layers.push(Layer::AddFrom { slot: output });
                }
                None => g.layers.push(Layer::AddFrom { slot: input }),
            }
            g.layers.push(Layer::Relu);
        }
        g.layers.push(Layer::GlobalAvgPool);
        g.linear("fc");
        g
    }
}
