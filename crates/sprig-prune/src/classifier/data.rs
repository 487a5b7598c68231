//! Labelled examples as device tensors, one batch at a time.

use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_data::{ImageSet, Normalization, TextSet};

use crate::PruneError;

/// A labelled data split the classifier trainer draws batches from.
pub trait LabelledData {
    /// A batch of inputs, as the model takes it.
    type Input: Clone;
    /// Number of examples.
    fn len(&self) -> usize;
    /// Whether there are no examples.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The examples at `indices`, in that order, with their labels, on `device`.
    fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Self::Input, Tensor<1, Int>), PruneError>;
}

/// An [`ImageSet`] with its normalisation, batched through reused host buffers (the
/// steady state allocates nothing on the host).
#[derive(Debug, Clone)]
pub struct ImageBatches {
    set: ImageSet,
    norm: Normalization,
    images: Vec<f32>,
    labels: Vec<i64>,
}

impl ImageBatches {
    /// Batches of `set`, normalised by `norm` (fitted on the training split).
    pub fn new(set: ImageSet, norm: Normalization) -> Self {
        Self {
            set,
            norm,
            images: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The images.
    pub fn set(&self) -> &ImageSet {
        &self.set
    }
}

impl LabelledData for ImageBatches {
    type Input = Tensor<4>;

    fn len(&self) -> usize {
        self.set.len()
    }

    fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor<4>, Tensor<1, Int>), PruneError> {
        self.set
            .fill_batch(indices, &self.norm, &mut self.images, &mut self.labels)?;
        let shape = self.set.shape();
        let dims = [indices.len(), shape.channels, shape.height, shape.width];
        // `TensorData::new` takes ownership; cloning the buffers keeps their capacity here
        // for the next batch (one copy either way: the device needs its own).
        let images = Tensor::from_data(TensorData::new(self.images.clone(), dims), device);
        let labels = Tensor::from_data(
            TensorData::new(self.labels.clone(), [indices.len()]),
            device,
        );
        Ok((images, labels))
    }
}

/// A [`TextSet`] as batches of token ids `[batch, length]`, through reused host buffers.
#[derive(Debug, Clone)]
pub struct TokenBatches {
    set: TextSet,
    ids: Vec<i64>,
    labels: Vec<i64>,
}

impl TokenBatches {
    /// Batches of `set`.
    pub fn new(set: TextSet) -> Self {
        Self {
            set,
            ids: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The examples.
    pub fn set(&self) -> &TextSet {
        &self.set
    }
}

impl LabelledData for TokenBatches {
    type Input = Tensor<2, Int>;

    fn len(&self) -> usize {
        self.set.len()
    }

    fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor<2, Int>, Tensor<1, Int>), PruneError> {
        self.set
            .fill_batch(indices, &mut self.ids, &mut self.labels)?;
        let ids = Tensor::from_data(
            TensorData::new(self.ids.clone(), [indices.len(), self.set.length()]),
            device,
        );
        let labels = Tensor::from_data(
            TensorData::new(self.labels.clone(), [indices.len()]),
            device,
        );
        Ok((ids, labels))
    }
}
