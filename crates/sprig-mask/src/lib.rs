//! Pruning masks for Sprig's lottery-ticket search.
//!
//! Iterative magnitude pruning (IMP) trains a network, prunes the
//! lowest-magnitude surviving weights, rewinds the survivors to their
//! early values and repeats. This crate is the pure bookkeeping part of
//! that loop, on flat `f32` slices, with no IO and no training backend:
//!
//! * [`Mask`] / [`MaskSet`] — bit-packed keep/prune masks per parameter,
//!   each tagged with a layer *kind* string;
//! * [`Snapshot`] — named flat tensors (θ0, θk) and rewinding
//!   ([`Snapshot::masked`]);
//! * [`Scores`] — magnitude and seeded random importance scores;
//! * [`prune`] / [`prune_to_round`] — global or layerwise selection with
//!   per-kind rate multipliers ([`LayerRates`]);
//! * [`rate`] — converting between target sparsity, per-round rate and
//!   round count;
//! * [`SparsityReport`] — per-tensor and global accounting;
//! * `serde` support for masks, bit-packed (base64 in JSON).
//!
//! Pruning never revives a weight, breaks ties deterministically and ranks
//! NaN scores lowest (pruned first); all public functions return
//! [`MaskError`] on bad input instead of panicking.
//!
//! # Example
//!
//! ```
//! use sprig_mask::{LayerRates, MaskSet, Scope, Scores, Snapshot, SparsityReport, prune};
//!
//! # fn main() -> Result<(), sprig_mask::MaskError> {
//! let mut theta = Snapshot::new();
//! theta.insert("fc1.weight", vec![2, 3], vec![0.9, -0.1, 0.4, -0.7, 0.05, 0.3])?;
//! theta.insert("fc1.bias", vec![2], vec![0.1, 0.2])?;
//!
//! // Weights are prunable, the bias is not.
//! let mut masks = MaskSet::dense([("fc1.weight", "linear", &[2, 3][..])])?;
//! masks.validate(&theta.params())?;
//!
//! // Prune half of the surviving weights, lowest |w| first.
//! let scores = Scores::magnitude(&theta);
//! let report = prune(&mut masks, &scores, Scope::Global, &LayerRates::uniform(), 0.5)?;
//! assert_eq!(report.removed, 3);
//! println!("sparsity after pruning: {:.2}", masks.sparsity());
//!
//! // Rewind: pruned weights become exactly 0.0, survivors keep their values.
//! let rewound = theta.masked(&masks)?;
//! assert_eq!(rewound.get("fc1.weight").unwrap().values(), &[0.9, 0.0, 0.4, -0.7, 0.0, 0.0]);
//!
//! print!("{}", SparsityReport::new(&masks, &theta.params())?);
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

mod error;
mod layer_rates;
mod mask;
mod mask_set;
mod prune;
mod random_like;
pub mod rate;
mod score;
mod serde_bits;
mod snapshot;
mod sparsity;

pub use error::{MaskError, Result, UNNAMED};
pub use layer_rates::{LayerRates, PatternKind, Scope};
pub use mask::{Iter, Mask};
pub use mask_set::{MaskEntry, MaskSet};
pub use prune::{PruneReport, TensorPruneStats, prune, prune_to_round, prune_to_sparsity};
pub use random_like::random_like;
pub use rate::{
    base_rate_for_target, per_round_rate, rounds_for, sparsity_after, weighted_sparsity_after,
};
pub use score::{Scores, magnitude, random_scores};
pub use snapshot::{FlatTensor, Snapshot};
pub use sparsity::{DenseTensor, SparsityReport, TensorSparsity};

/// Compiles and runs the README example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[derive(Debug)]
pub struct ReadmeDoctests;
