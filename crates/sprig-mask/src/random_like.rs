//! LTH's random-pruning control: a random mask with the same sparsity in every tensor.

use crate::error::Result;
use crate::mask::Mask;
use crate::mask_set::MaskSet;
use crate::score::random_scores;

/// A mask set with exactly the kept count of each tensor of `masks`, but kept positions
/// drawn uniformly at random from `seed` (Frankle & Carbin's "random pruning" baseline:
/// the same layer-wise sparsity, none of the ticket's structure).
///
/// # Errors
/// Only if a mask of `masks` is itself corrupt.
pub fn random_like(masks: &MaskSet, seed: u64) -> Result<MaskSet> {
    let mut random = MaskSet::new();
    for (name, entry) in masks.iter() {
        let mask = entry.mask();
        let scores = random_scores(name, mask.len(), seed);
        let mut order: Vec<usize> = (0..mask.len()).collect();
        // Highest scores kept; ties (rare, 24-bit scores) broken by index for determinism.
        order.sort_unstable_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(a.cmp(&b)));
        let mut kept = vec![false; mask.len()];
        for &index in &order[..mask.kept_count()] {
            kept[index] = true;
        }
        random.insert(name, entry.kind(), Mask::from_bools(mask.shape(), &kept)?)?;
    }
    Ok(random)
}

#[cfg(test)]
mod tests {
    use super::random_like;
    use crate::{LayerRates, MaskSet, Scope, Scores, Snapshot, prune};

    #[test]
    fn same_counts_per_tensor_other_positions_seeded() {
        let mut snapshot = Snapshot::new();
        snapshot
            .insert("a", vec![10, 20], (0..200).map(|i| i as f32).collect())
            .unwrap();
        snapshot
            .insert("b", vec![50], (0..50).map(|i| -(i as f32)).collect())
            .unwrap();
        let mut masks = MaskSet::new();
        masks.insert_dense("a", "linear", &[10, 20]).unwrap();
        masks.insert_dense("b", "output", &[50]).unwrap();
        let scores = Scores::magnitude(&snapshot);
        prune(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            0.7,
        )
        .unwrap();

        let random = random_like(&masks, 3).unwrap();
        for (name, entry) in masks.iter() {
            let other = random.get(name).unwrap();
            assert_eq!(other.kept_count(), entry.mask().kept_count(), "{name}");
            assert_eq!(random.kind(name), Some(entry.kind()));
        }
        assert_ne!(random, masks);
        assert_eq!(random, random_like(&masks, 3).unwrap());
        assert_ne!(random, random_like(&masks, 4).unwrap());
    }
}
