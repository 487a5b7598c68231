//! LeNet-300-100: the fully-connected network of the LTH paper's MNIST experiments.

use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use crate::PrunableTensor;

/// 784-300-100-10, ReLU. Takes images of any shape with 784 values each.
#[derive(Module, Debug)]
pub struct Lenet300100 {
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

impl Lenet300100 {
    /// A network for `inputs` values per example and `classes` outputs. Weights are
    /// placeholders until [`crate::initial_weights`] are loaded.
    pub fn new(inputs: usize, classes: usize, device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(inputs, 300).init(device),
            fc2: LinearConfig::new(300, 100).init(device),
            fc3: LinearConfig::new(100, classes).init(device),
        }
    }

    /// Logits for a batch of images `[batch, channels, height, width]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = images.flatten(1, 3);
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }

    /// The weights the pruner may prune. LTH prunes the output layer at half the rate.
    pub fn prunable(&self) -> Vec<PrunableTensor> {
        vec![
            PrunableTensor::new("fc1.weight", "linear"),
            PrunableTensor::new("fc2.weight", "linear"),
            PrunableTensor::new("fc3.weight", "output"),
        ]
    }
}
