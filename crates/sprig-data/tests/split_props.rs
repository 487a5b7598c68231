//! Properties of the seeded validation split and epoch order.

use std::collections::HashSet;

use proptest::prelude::*;
use sprig_data::{ImageSet, ImageShape, epoch_order, split_indices, split_validation};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// The split is a partition of 0..len with the requested sizes, and the
    /// same seed always gives the same split.
    #[test]
    fn split_is_a_deterministic_partition(len in 0usize..3_000, frac in 0.0f64..=1.0, seed: u64) {
        let n_val = ((len as f64) * frac) as usize;
        let (val, train) = split_indices(len, n_val, seed).unwrap();
        prop_assert_eq!(val.len(), n_val);
        prop_assert_eq!(train.len(), len - n_val);
        let v: HashSet<usize> = val.iter().copied().collect();
        let t: HashSet<usize> = train.iter().copied().collect();
        prop_assert_eq!(v.len(), val.len(), "validation has repeats");
        prop_assert_eq!(t.len(), train.len(), "train has repeats");
        prop_assert!(v.is_disjoint(&t));
        prop_assert!(v.iter().chain(&t).all(|&i| i < len));
        prop_assert_eq!(v.len() + t.len(), len);
        prop_assert_eq!(split_indices(len, n_val, seed).unwrap(), (val, train));
    }

    /// Each epoch visits every index exactly once, reproducibly.
    #[test]
    fn epoch_order_is_a_deterministic_permutation(len in 0usize..2_000, seed: u64, epoch in 0u64..1_000) {
        let order = epoch_order(len, seed, epoch);
        let mut sorted = order.clone();
        sorted.sort_unstable();
        prop_assert_eq!(sorted, (0..len).collect::<Vec<_>>());
        prop_assert_eq!(epoch_order(len, seed, epoch), order);
    }

    /// Splitting an image set moves whole images with their labels.
    #[test]
    fn split_validation_keeps_images_with_labels(len in 1usize..200, seed: u64) {
        let shape = ImageShape::new(1, 1, 2);
        // Image i is [i mod 256, label]; the label is i mod 3.
        let labels: Vec<u8> = (0..len).map(|i| (i % 3) as u8).collect();
        let pixels: Vec<u8> = (0..len).flat_map(|i| [(i % 256) as u8, (i % 3) as u8]).collect();
        let set = ImageSet::new(shape, pixels, labels, vec!["a".into(), "b".into(), "c".into()]).unwrap();
        let n_val = len / 3;
        let (train, val) = split_validation(&set, n_val, seed).unwrap();
        prop_assert_eq!((train.len(), val.len()), (len - n_val, n_val));
        for s in [&train, &val] {
            for i in 0..s.len() {
                prop_assert_eq!(usize::from(s.image(i).unwrap()[1]), s.label(i).unwrap());
            }
        }
    }
}

#[test]
fn different_seeds_give_different_splits() {
    let (a, _) = split_indices(60_000, 5_000, 1).unwrap();
    let (b, _) = split_indices(60_000, 5_000, 2).unwrap();
    assert_ne!(a, b);
}
