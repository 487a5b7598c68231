//! [`MaskSet`]: the masks of all prunable parameters of one network.
//!
//! Keyed by parameter path in a `BTreeMap`, so every iteration (pruning tie
//! breaks, random streams, reports, serialisation) has one deterministic
//! order. Each entry carries its layer *kind* as a plain string: per-kind
//! behaviour (rate multipliers) is data looked up by that string, not code.

use std::collections::BTreeMap;

use crate::error::{MaskError, Result};
use crate::layer_rates::LayerRates;
use crate::mask::Mask;
use crate::snapshot::Snapshot;

/// A mask together with the layer kind of its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskEntry {
    pub(crate) kind: String,
    pub(crate) mask: Mask,
}

impl MaskEntry {
    /// Layer kind, e.g. `"linear"`, `"conv"`, `"output"`, `"embedding"`.
    #[must_use]
    pub fn kind(&self) -> &str {
        &self.kind
    }

    /// The mask.
    #[must_use]
    pub fn mask(&self) -> &Mask {
        &self.mask
    }
}

/// Masks keyed by parameter path (e.g. `"fc1.weight"`), in name order.
///
/// Only prunable parameters have an entry; everything else (biases, norms)
/// is dense by omission.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MaskSet {
    pub(crate) entries: BTreeMap<String, MaskEntry>,
}

impl MaskSet {
    /// An empty set.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// All-kept masks for `(name, kind, shape)` triples: the dense start of
    /// iterative pruning.
    ///
    /// # Errors
    /// [`MaskError::DuplicateTensor`], [`MaskError::ShapeOverflow`].
    pub fn dense<'a, I>(params: I) -> Result<Self>
    where
        I: IntoIterator<Item = (&'a str, &'a str, &'a [usize])>,
    {
        let mut set = Self::new();
        for (name, kind, shape) in params {
            set.insert_dense(name, kind, shape)?;
        }
        Ok(set)
    }

    /// Adds a mask for parameter `name` of layer kind `kind`.
    ///
    /// # Errors
    /// [`MaskError::DuplicateTensor`] if `name` already has a mask;
    /// [`MaskError::CorruptMask`] if `mask` fails [`Mask::validate`].
    pub fn insert(
        &mut self,
        name: impl Into<String>,
        kind: impl Into<String>,
        mask: Mask,
    ) -> Result<()> {
        let name = name.into();
        if self.entries.contains_key(&name) {
            return Err(MaskError::DuplicateTensor { tensor: name });
        }
        mask.validate().map_err(|e| e.with_tensor(&name))?;
        self.entries.insert(
            name,
            MaskEntry {
                kind: kind.into(),
                mask,
            },
        );
        Ok(())
    }

    /// Adds an all-kept mask for parameter `name` of `shape`.
    ///
    /// # Errors
    /// As [`MaskSet::insert`], plus [`MaskError::ShapeOverflow`].
    pub fn insert_dense(
        &mut self,
        name: impl Into<String>,
        kind: impl Into<String>,
        shape: &[usize],
    ) -> Result<()> {
        let name = name.into();
        let mask = Mask::all_kept(shape).map_err(|e| e.with_tensor(&name))?;
        self.insert(name, kind, mask)
    }

    /// The mask of parameter `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Mask> {
        self.entries.get(name).map(|e| &e.mask)
    }

    /// The layer kind of parameter `name`.
    #[must_use]
    pub fn kind(&self, name: &str) -> Option<&str> {
        self.entries.get(name).map(|e| e.kind.as_str())
    }

    /// The entry (kind and mask) of parameter `name`.
    #[must_use]
    pub fn entry(&self, name: &str) -> Option<&MaskEntry> {
        self.entries.get(name)
    }

    /// Entries in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &MaskEntry)> {
        self.entries.iter().map(|(k, v)| (k.as_str(), v))
    }

    /// Parameter names in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Number of masked (prunable) tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no masks.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Total number of prunable weights (kept + pruned).
    #[must_use]
    pub fn total(&self) -> usize {
        self.entries.values().map(|e| e.mask.len()).sum()
    }

    /// Number of surviving prunable weights.
    #[must_use]
    pub fn kept(&self) -> usize {
        self.entries.values().map(|e| e.mask.kept_count()).sum()
    }

    /// Number of pruned weights.
    #[must_use]
    pub fn pruned(&self) -> usize {
        self.total() - self.kept()
    }

    /// Global sparsity over prunable weights, in `[0, 1]` (`0.0` if empty).
    #[must_use]
    pub fn sparsity(&self) -> f64 {
        let total = self.total();
        if total == 0 {
            0.0
        } else {
            self.pruned() as f64 / total as f64
        }
    }

    /// Whether every mask is a subset of the same-named mask in `other`
    /// and both sets mask exactly the same parameters.
    #[must_use]
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.entries.len() == other.entries.len()
            && self.entries.iter().all(|(name, e)| {
                other
                    .entries
                    .get(name)
                    .is_some_and(|o| e.mask.is_subset_of(&o.mask))
            })
    }

    /// Surviving weights that `self` and `other` share, as a fraction of the larger of
    /// their surviving counts (1.0 = the same masks; 1.0 when both keep nothing). The
    /// mask-stability test of early stopping for ranking trainings (Early-Bird, You et
    /// al., ICLR 2020) compares the masks successive checks would prune to.
    ///
    /// # Errors
    /// [`MaskError::UnknownTensor`] if the sets mask different tensors,
    /// [`MaskError::ShapeMismatch`] if a tensor's shapes differ.
    pub fn kept_in_common(&self, other: &Self) -> Result<f64> {
        let common = self.kept_by_both(other)?;
        let larger = self.kept().max(other.kept());
        Ok(if larger == 0 {
            1.0
        } else {
            common as f64 / larger as f64
        })
    }

    /// For two prunes of `before` (`self` and `other` keep only weights `before` keeps):
    /// the weights both remove, as a fraction of the larger of their removal counts (1.0 =
    /// the same prune; 1.0 when neither removes anything). Unlike
    /// [`kept_in_common`](Self::kept_in_common) it does not depend on how much a prune
    /// removes: two prunes of 10 % share at least 8/9 of their survivors however
    /// differently they rank, but may remove entirely different weights.
    ///
    /// # Errors
    /// As [`kept_in_common`](Self::kept_in_common) between `self` and `other`;
    /// [`MaskError::NotAPrune`] if `self` or `other` keeps a weight `before` does not or
    /// `before` masks other tensors.
    pub fn removed_in_common(&self, other: &Self, before: &Self) -> Result<f64> {
        let common_kept = self.kept_by_both(other)?;
        if !self.is_subset_of(before) || !other.is_subset_of(before) {
            return Err(MaskError::NotAPrune);
        }
        let (n, a, b) = (before.kept(), self.kept(), other.kept());
        // |before \ (self ∪ other)| = n − |self ∪ other|.
        let removed_by_both = n - (a + b - common_kept);
        let larger = (n - a).max(n - b);
        Ok(if larger == 0 {
            1.0
        } else {
            removed_by_both as f64 / larger as f64
        })
    }

    /// How many weights both sets keep.
    fn kept_by_both(&self, other: &Self) -> Result<usize> {
        let mut common = 0usize;
        for (name, entry) in &self.entries {
            let theirs = other
                .entries
                .get(name)
                .ok_or_else(|| MaskError::UnknownTensor {
                    tensor: name.clone(),
                })?;
            common += entry
                .mask
                .intersection(&theirs.mask)
                .map_err(|e| e.with_tensor(name))?
                .kept_count();
        }
        if let Some(name) = other
            .entries
            .keys()
            .find(|n| !self.entries.contains_key(*n))
        {
            return Err(MaskError::UnknownTensor {
                tensor: name.clone(),
            });
        }
        Ok(common)
    }

    /// `(weight count, rate multiplier)` per tensor, in name order: the
    /// input of [`base_rate_for_target`](crate::base_rate_for_target).
    #[must_use]
    pub fn rate_groups(&self, rates: &LayerRates) -> Vec<(usize, f64)> {
        self.entries
            .values()
            .map(|e| (e.mask.len(), rates.multiplier(&e.kind)))
            .collect()
    }

    /// Checks the set against a network's parameters, treating every
    /// parameter of rank >= 2 (linear/conv/embedding weights) as prunable
    /// and rank 0/1 (biases, norm scales) as dense. Use
    /// [`MaskSet::validate_with`] for another policy.
    ///
    /// # Errors
    /// As [`MaskSet::validate_with`].
    pub fn validate(&self, params: &[(&str, &[usize])]) -> Result<()> {
        self.validate_with(params, |_, shape| shape.len() >= 2)
    }

    /// Checks the set against a network's parameters: every mask must name
    /// an existing parameter of the same shape, and every parameter for which
    /// `is_prunable(name, shape)` holds must have a mask.
    ///
    /// # Errors
    /// [`MaskError::DuplicateTensor`] (a name twice in `params`),
    /// [`MaskError::UnknownTensor`], [`MaskError::ShapeMismatch`],
    /// [`MaskError::MissingMask`].
    pub fn validate_with<F>(&self, params: &[(&str, &[usize])], is_prunable: F) -> Result<()>
    where
        F: Fn(&str, &[usize]) -> bool,
    {
        let by_name = index_params(params)?;
        for (name, entry) in &self.entries {
            let shape = by_name
                .get(name.as_str())
                .ok_or_else(|| MaskError::UnknownTensor {
                    tensor: name.clone(),
                })?;
            check_shape(name, shape, entry.mask.shape())?;
        }
        for &(name, shape) in params {
            if !self.entries.contains_key(name) && is_prunable(name, shape) {
                return Err(MaskError::MissingMask {
                    tensor: name.to_owned(),
                    shape: shape.to_vec(),
                });
            }
        }
        Ok(())
    }

    /// Rewind in place: every masked tensor of `snapshot` gets its pruned
    /// entries set to exactly `+0.0`; surviving entries and unmasked tensors
    /// are untouched. All checks happen before anything is written, so on
    /// error `snapshot` is unchanged.
    ///
    /// # Errors
    /// [`MaskError::UnknownTensor`] if a mask has no tensor in `snapshot`,
    /// [`MaskError::ShapeMismatch`] if the shapes differ.
    pub fn apply_to(&self, snapshot: &mut Snapshot) -> Result<()> {
        for (name, entry) in &self.entries {
            let tensor = snapshot.get(name).ok_or_else(|| MaskError::UnknownTensor {
                tensor: name.clone(),
            })?;
            check_shape(name, tensor.shape(), entry.mask.shape())?;
        }
        for (name, entry) in &self.entries {
            if let Some(tensor) = snapshot.get_mut(name) {
                entry
                    .mask
                    .apply(tensor.values_mut())
                    .map_err(|e| e.with_tensor(name))?;
            }
        }
        Ok(())
    }
}

/// Maps parameter names to shapes, rejecting duplicates.
pub(crate) fn index_params<'a>(
    params: &[(&'a str, &'a [usize])],
) -> Result<BTreeMap<&'a str, &'a [usize]>> {
    let mut map = BTreeMap::new();
    for &(name, shape) in params {
        if map.insert(name, shape).is_some() {
            return Err(MaskError::DuplicateTensor {
                tensor: name.to_owned(),
            });
        }
    }
    Ok(map)
}

/// [`MaskError::ShapeMismatch`] unless the parameter shape equals the mask's.
pub(crate) fn check_shape(name: &str, param: &[usize], mask: &[usize]) -> Result<()> {
    if param == mask {
        Ok(())
    } else {
        Err(MaskError::ShapeMismatch {
            tensor: name.to_owned(),
            expected: param.to_vec(),
            found: mask.to_vec(),
        })
    }
}
