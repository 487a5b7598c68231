//! Seeded validation hold-out and per-epoch shuffles.
//!
//! One experiment seed drives every random choice of the data pipeline. Each
//! use gets its own ChaCha8 stream of that seed (the split one stream, epoch
//! `e` another), so changing the number of epochs never changes the split and
//! epochs never repeat each other's order.
//!
//! The shuffle is our own Fisher–Yates over ChaCha8's `next_u64`, with an
//! unbiased bounded draw: it depends only on the ChaCha8 spec, not on the
//! shuffle algorithm of a `rand` release, so a split stays the same across
//! dependency upgrades.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

use super::{DataError, ImageSet};

/// Validation images held out of training by default: Frankle & Carbin
/// (the lottery-ticket paper) hold out 5,000 for both MNIST and CIFAR-10.
pub const LTH_VALIDATION_SIZE: usize = 5_000;

/// ChaCha stream of the validation split ("split" in ASCII).
const SPLIT_STREAM: u64 = 0x73_70_6c_69_74;
/// Epoch `e` uses stream `EPOCH_STREAM | e`; the top bit keeps epochs apart from the split.
const EPOCH_STREAM: u64 = 1 << 63;

fn rng(seed: u64, stream: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(stream);
    rng
}

/// Uniform integer in `0..bound` (bound ≥ 1), unbiased (Lemire's method).
fn below(rng: &mut ChaCha8Rng, bound: u64) -> u64 {
    let threshold = bound.wrapping_neg() % bound;
    loop {
        let wide = u128::from(rng.next_u64()) * u128::from(bound);
        if (wide as u64) >= threshold {
            return (wide >> 64) as u64;
        }
    }
}

/// `0..len` in a random order drawn from `rng` (Fisher–Yates).
fn shuffled(len: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    let mut v: Vec<usize> = (0..len).collect();
    for i in (1..len).rev() {
        let j = below(rng, i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// Partitions `0..len` into `(validation, train)` index lists.
///
/// A seeded shuffle of all indices; the first `n_val` are validation, the
/// rest train. Each list is then sorted, so both subsets keep the original
/// record order (which only matters for reading them, not for randomness).
///
/// # Errors
/// [`DataError::InvalidArgument`] if `n_val > len`.
pub fn split_indices(
    len: usize,
    n_val: usize,
    seed: u64,
) -> Result<(Vec<usize>, Vec<usize>), DataError> {
    if n_val > len {
        return Err(DataError::InvalidArgument(format!(
            "cannot hold out {n_val} validation images from a set of {len}"
        )));
    }
    let mut order = shuffled(len, &mut rng(seed, SPLIT_STREAM));
    let mut train = order.split_off(n_val);
    order.sort_unstable();
    train.sort_unstable();
    Ok((order, train))
}

/// Splits `train` into `(train, validation)`, holding out `n_val` images
/// chosen by `seed` (see [`split_indices`]). Deterministic for a seed.
///
/// # Errors
/// [`DataError::InvalidArgument`] if `n_val > train.len()`.
pub fn split_validation(
    train: &ImageSet,
    n_val: usize,
    seed: u64,
) -> Result<(ImageSet, ImageSet), DataError> {
    let (val_idx, train_idx) = split_indices(train.len(), n_val, seed)?;
    Ok((train.subset(&train_idx)?, train.subset(&val_idx)?))
}

/// The order in which to visit `0..len` in epoch `epoch` of a run seeded with `seed`.
///
/// A permutation; deterministic in `(len, seed, epoch)` and different
/// (independently drawn) for each epoch. Batch `b` of size `bs` is
/// `order[b * bs..]` up to `bs` long — see [`ImageSet::fill_batch`].
pub fn epoch_order(len: usize, seed: u64, epoch: u64) -> Vec<usize> {
    // Epoch numbers ≥ 2^63 would wrap onto smaller ones; no run gets there.
    shuffled(len, &mut rng(seed, EPOCH_STREAM | epoch))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn below_stays_in_range() {
        let mut r = rng(1, 2);
        for bound in [1u64, 2, 3, 7, 1000, u64::MAX] {
            for _ in 0..100 {
                assert!(below(&mut r, bound) < bound);
            }
        }
    }

    #[test]
    fn epochs_differ_and_repeat() {
        let a = epoch_order(100, 7, 0);
        assert_eq!(a, epoch_order(100, 7, 0));
        assert_ne!(a, epoch_order(100, 7, 1));
        assert_ne!(a, epoch_order(100, 8, 0));
        let mut s = a.clone();
        s.sort_unstable();
        assert_eq!(s, (0..100).collect::<Vec<_>>());
        assert!(epoch_order(0, 1, 1).is_empty());
    }

    #[test]
    fn too_large_split_is_an_error() {
        assert!(split_indices(10, 11, 0).is_err());
        let (v, t) = split_indices(10, 10, 0).unwrap();
        assert_eq!((v.len(), t.len()), (10, 0));
    }

    #[test]
    fn split_is_pinned() {
        // Guards the "same split across dependency upgrades" promise: if this
        // changes, every recorded experiment's validation set changed with it.
        let (v, _) = split_indices(20, 5, 42).unwrap();
        assert_eq!(v, PINNED_SPLIT_20_5_42);
    }

    const PINNED_SPLIT_20_5_42: [usize; 5] = [0, 8, 9, 13, 16];
}
