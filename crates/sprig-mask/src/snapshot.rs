//! [`Snapshot`]: named flat copies of a network's parameters (θ0, θk).
//!
//! Lottery-ticket rewinding resets surviving weights to an earlier snapshot
//! and zeroes the pruned ones. Keeping that logic here, on plain `Vec<f32>`,
//! lets it be tested bit for bit without any training backend.

use std::collections::BTreeMap;

use crate::error::{MaskError, Result, UNNAMED, numel};
use crate::mask_set::MaskSet;

/// One tensor as a shape and its values in row-major order.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatTensor {
    shape: Vec<usize>,
    values: Vec<f32>,
}

impl FlatTensor {
    /// Wraps `values` with its `shape`.
    ///
    /// # Errors
    /// [`MaskError::LengthMismatch`] if `values.len()` is not the product of
    /// `shape`; [`MaskError::ShapeOverflow`].
    pub fn new(shape: Vec<usize>, values: Vec<f32>) -> Result<Self> {
        let n = numel(&shape)?;
        if n != values.len() {
            return Err(MaskError::LengthMismatch {
                tensor: UNNAMED.to_owned(),
                expected: n,
                found: values.len(),
            });
        }
        Ok(Self { shape, values })
    }

    /// Shape of the tensor.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Values in row-major order.
    #[must_use]
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// Mutable values (the length cannot change, so the shape stays valid).
    pub fn values_mut(&mut self) -> &mut [f32] {
        &mut self.values
    }

    /// Consumes the tensor, returning its values.
    #[must_use]
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }
}

/// Named flat tensors in deterministic (sorted by name) order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    tensors: BTreeMap<String, FlatTensor>,
}

impl Snapshot {
    /// An empty snapshot.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a tensor.
    ///
    /// # Errors
    /// [`MaskError::DuplicateTensor`] if `name` is already present;
    /// [`MaskError::LengthMismatch`] if `values` does not match `shape`.
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        shape: Vec<usize>,
        values: Vec<f32>,
    ) -> Result<()> {
        let name = name.into();
        if self.tensors.contains_key(&name) {
            return Err(MaskError::DuplicateTensor { tensor: name });
        }
        let tensor = FlatTensor::new(shape, values).map_err(|e| e.with_tensor(&name))?;
        self.tensors.insert(name, tensor);
        Ok(())
    }

    /// The tensor called `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&FlatTensor> {
        self.tensors.get(name)
    }

    /// Mutable access to the tensor called `name`.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut FlatTensor> {
        self.tensors.get_mut(name)
    }

    /// Tensors in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &FlatTensor)> {
        self.tensors.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Number of tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.tensors.len()
    }

    /// Whether there are no tensors.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.tensors.is_empty()
    }

    /// `(name, shape)` of every tensor, in name order: the form taken by
    /// [`MaskSet::validate`] and [`SparsityReport::new`](crate::SparsityReport::new).
    #[must_use]
    pub fn params(&self) -> Vec<(&str, &[usize])> {
        self.iter().map(|(n, t)| (n, t.shape())).collect()
    }

    /// Rewind: a copy of this snapshot with `masks` applied. Pruned entries
    /// are exactly `+0.0`, surviving entries are bit-identical to `self`,
    /// tensors without a mask (biases, norms) are copied unchanged.
    ///
    /// # Errors
    /// As [`MaskSet::apply_to`].
    pub fn masked(&self, masks: &MaskSet) -> Result<Self> {
        let mut out = self.clone();
        masks.apply_to(&mut out)?;
        Ok(out)
    }
}
