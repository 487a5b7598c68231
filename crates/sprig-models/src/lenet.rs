//! LeNet-300-100: the fully-connected network of the LTH paper's MNIST experiments.

use burn::module::Module;
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use sprig_mask::MaskSet;

use crate::{PrunableLinear, PrunableTensor};

/// 784-300-100-10, ReLU. Takes images of any shape with 784 values each.
#[derive(Module, Debug)]
pub struct Lenet300100 {
    fc1: PrunableLinear,
    fc2: PrunableLinear,
    fc3: PrunableLinear,
}

impl Lenet300100 {
    /// A network for `inputs` values per example and `classes` outputs. Weights are
    /// placeholders until [`crate::initial_weights`] are loaded.
    pub fn new(inputs: usize, classes: usize, device: &Device) -> Self {
        Self {
            fc1: PrunableLinear::new(inputs, 300, device),
            fc2: PrunableLinear::new(300, 100, device),
            fc3: PrunableLinear::new(100, classes, device),
        }
    }

    /// Logits for a batch of images `[batch, channels, height, width]`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = images.flatten(1, 3);
        let x = relu(self.fc1.forward(x));
        let x = relu(self.fc2.forward(x));
        self.fc3.forward(x)
    }

    /// Lets each layer compute with the weights `masks` keep, where they are few.
    pub fn use_masks(&mut self, masks: &MaskSet) {
        for (layer, path) in [
            (&mut self.fc1, "fc1.weight"),
            (&mut self.fc2, "fc2.weight"),
            (&mut self.fc3, "fc3.weight"),
        ] {
            layer.use_mask(masks.get(path));
        }
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
