//! Labelled examples as device tensors, one batch at a time.

use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_data::audio::{FeatureNorm, FeatureSet};
use sprig_data::{DataError, ImageSet, Normalization, TextSet};

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

/// A split of fixed-shape float examples (images, spectrograms) that writes normalised
/// batches into reused buffers.
pub trait NormalizedSplit: Clone + std::fmt::Debug {
    /// The normalisation it is batched with (fitted on the training split).
    type Norm: Clone + std::fmt::Debug;
    /// Number of examples.
    fn examples(&self) -> usize;
    /// One example's `[channels, height, width]`.
    fn example_shape(&self) -> [usize; 3];
    /// Writes the normalised examples at `indices` and their labels into the buffers.
    ///
    /// # Errors
    /// An index past the end or a normalisation that does not fit.
    fn fill(
        &self,
        indices: &[usize],
        norm: &Self::Norm,
        values: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError>;
}

impl NormalizedSplit for ImageSet {
    type Norm = Normalization;
    fn examples(&self) -> usize {
        self.len()
    }
    fn example_shape(&self) -> [usize; 3] {
        let s = self.shape();
        [s.channels, s.height, s.width]
    }
    fn fill(
        &self,
        indices: &[usize],
        norm: &Normalization,
        values: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        self.fill_batch(indices, norm, values, labels)
    }
}

impl NormalizedSplit for FeatureSet {
    type Norm = FeatureNorm;
    fn examples(&self) -> usize {
        self.len()
    }
    fn example_shape(&self) -> [usize; 3] {
        self.shape()
    }
    fn fill(
        &self,
        indices: &[usize],
        norm: &FeatureNorm,
        values: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        self.fill_batch(indices, norm, values, labels)
    }
}

/// A split with its normalisation, batched as `[batch, channels, height, width]` through
/// reused host buffers (the steady state allocates nothing on the host).
#[derive(Debug, Clone)]
pub struct Batches<S: NormalizedSplit> {
    set: S,
    norm: S::Norm,
    values: Vec<f32>,
    labels: Vec<i64>,
}

/// Images with their pixel normalisation.
pub type ImageBatches = Batches<ImageSet>;
/// Spectrograms with their per-band normalisation.
pub type FeatureBatches = Batches<FeatureSet>;

impl<S: NormalizedSplit> Batches<S> {
    /// Batches of `set`, normalised by `norm` (fitted on the training split).
    pub fn new(set: S, norm: S::Norm) -> Self {
        Self {
            set,
            norm,
            values: Vec::new(),
            labels: Vec::new(),
        }
    }

    /// The examples.
    pub fn set(&self) -> &S {
        &self.set
    }
}

impl<S: NormalizedSplit> LabelledData for Batches<S> {
    type Input = Tensor<4>;

    fn len(&self) -> usize {
        self.set.examples()
    }

    fn batch(
        &mut self,
        indices: &[usize],
        device: &Device,
    ) -> Result<(Tensor<4>, Tensor<1, Int>), PruneError> {
        self.set
            .fill(indices, &self.norm, &mut self.values, &mut self.labels)
            .map_err(PruneError::data)?;
        let [c, h, w] = self.set.example_shape();
        // `TensorData::new` takes ownership; cloning the buffers keeps their capacity here
        // for the next batch (one copy either way: the device needs its own).
        let values = Tensor::from_data(
            TensorData::new(self.values.clone(), [indices.len(), c, h, w]),
            device,
        );
        let labels = Tensor::from_data(
            TensorData::new(self.labels.clone(), [indices.len()]),
            device,
        );
        Ok((values, labels))
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
            .fill_batch(indices, &mut self.ids, &mut self.labels)
            .map_err(PruneError::data)?;
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
