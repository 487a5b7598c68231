//! Importance scores: the lower the score, the earlier a weight is pruned.
//!
//! Magnitude scores `|w|` drive lottery-ticket pruning; seeded random
//! scores give the random-pruning baseline. Random streams are derived from
//! the seed and the tensor's *name* (not its position or any timing), so a
//! tensor's scores do not change when other tensors are added or removed,
//! and are the same on every platform.

use std::collections::BTreeMap;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use crate::mask_set::MaskSet;
use crate::snapshot::Snapshot;

/// `|w|` for every element. NaN stays NaN, which pruning ranks lowest (see
/// [`prune`](crate::prune)), so NaN weights are pruned first.
#[must_use]
pub fn magnitude(values: &[f32]) -> Vec<f32> {
    values.iter().map(|v| v.abs()).collect()
}

/// `len` reproducible uniform scores in `[0, 1)` for the tensor `name`.
///
/// The generator is ChaCha8 keyed by `seed` (expanded with SplitMix64) on
/// the stream given by the FNV-1a hash of `name`; each score takes the top
/// 24 bits of one 32-bit output. Every step is fixed-width integer
/// arithmetic, so the result is identical across runs and platforms.
#[must_use]
pub fn random_scores(name: &str, len: usize, seed: u64) -> Vec<f32> {
    let mut key = [0u8; 32];
    let mut state = seed;
    for chunk in key.chunks_exact_mut(8) {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(key);
    rng.set_stream(fnv1a(name.as_bytes()));
    (0..len)
        .map(|_| (rng.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32))
        .collect()
}

/// Scores per parameter path; pruning looks up each masked tensor by name.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Scores {
    by_name: BTreeMap<String, Vec<f32>>,
}

impl Scores {
    /// No scores.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// `|w|` for every tensor of `snapshot` (unmasked tensors are simply
    /// ignored by pruning).
    #[must_use]
    pub fn magnitude(snapshot: &Snapshot) -> Self {
        let by_name = snapshot
            .iter()
            .map(|(n, t)| (n.to_owned(), magnitude(t.values())))
            .collect();
        Self { by_name }
    }

    /// Seeded random scores for every tensor of `masks` (see
    /// [`random_scores`]).
    #[must_use]
    pub fn random(masks: &MaskSet, seed: u64) -> Self {
        let by_name = masks
            .iter()
            .map(|(n, e)| (n.to_owned(), random_scores(n, e.mask().len(), seed)))
            .collect();
        Self { by_name }
    }

    /// Sets the scores of tensor `name`, returning the previous ones.
    /// Lengths are checked when pruning, where the mask is known.
    pub fn insert(&mut self, name: impl Into<String>, scores: Vec<f32>) -> Option<Vec<f32>> {
        self.by_name.insert(name.into(), scores)
    }

    /// The scores of tensor `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&[f32]> {
        self.by_name.get(name).map(Vec::as_slice)
    }

    /// Scored tensors in name order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[f32])> {
        self.by_name.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Number of scored tensors.
    #[must_use]
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether no tensor is scored.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xCBF2_9CE4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_scores_are_pinned() {
        // Pins the stream so an accidental change of derivation is caught.
        let a = random_scores("fc1.weight", 4, 42);
        assert_eq!(a, random_scores("fc1.weight", 4, 42));
        assert_ne!(a, random_scores("fc2.weight", 4, 42));
        assert_ne!(a, random_scores("fc1.weight", 4, 43));
        assert!(a.iter().all(|s| (0.0..1.0).contains(s)));
        // Prefix property: a longer draw starts with the shorter one.
        assert_eq!(&random_scores("fc1.weight", 8, 42)[..4], a.as_slice());
    }

    #[test]
    fn magnitude_is_abs() {
        assert_eq!(magnitude(&[-2.0, 0.5, -0.0]), vec![2.0, 0.5, 0.0]);
        assert!(magnitude(&[f32::NAN])[0].is_nan());
    }
}
