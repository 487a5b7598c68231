//! Sprig's engine on Burn modules.
//!
//! It is the bridge between a Burn [`Module`](burn::module::Module) and the
//! flat, Burn-free mask core (`sprig-mask`): reading parameters by path into a
//! [`Snapshot`](sprig_mask::Snapshot), writing a snapshot back (rewinding in place, so
//! parameter ids and optimizer keys survive), and masked training: [`MaskedAdam`] masks
//! each gradient, steps the weight and zeroes the pruned ones in one pass per parameter,
//! so Adam's moments cannot revive a pruned weight ([`DeviceMasks`] does the same around
//! any other optimizer).
//!
//! [`engine`] (the `sprig-engine` crate, re-exported) holds the searches themselves,
//! written against the narrow [`engine::Trainee`] interface, which
//! [`classifier::ClassifierTrainee`] implements for Burn classifiers.
//!
//! Any Burn module: its prunable tensors are found by visiting it, pruned by magnitude on
//! the host, and the masks applied to the module on its device (runs as is):
//!
//! ```
//! use sprig_mask::{Scope, Scores, prune_to_sparsity};
//! use sprig_models::Lenet300100;
//! use sprig_prune::{DeviceMasks, PruneRules, discover, snapshot};
//!
//! let device = sprig_backend::Backend::default_compiled().device().unwrap();
//! let model = Lenet300100::new(784, 10, &device);
//! let rules = PruneRules { exclude: vec!["fc3.*".into()], ..PruneRules::default() };
//! let found = discover(&model, &rules).unwrap(); // fc1.weight, fc2.weight
//! let mut masks = found.masks;
//! let weights = snapshot(&model).unwrap();
//! prune_to_sparsity(&mut masks, &Scores::magnitude(&weights), Scope::Global, &found.rates, 0.9)
//!     .unwrap();
//! let pruned = DeviceMasks::new(&masks, &model, &device).unwrap().apply(model);
//! let after = snapshot(&pruned).unwrap();
//! let fc1 = after.get("fc1.weight").unwrap().values();
//! let zeros = fc1.iter().filter(|v| **v == 0.0).count() as f64 / fc1.len() as f64;
//! assert!(zeros > 0.85, "{zeros}");
//! ```

pub mod classifier;
mod device_masks;
pub mod discover;
mod masked_adam;
mod param_path;
mod params;

/// The Burn-free searches (`sprig-engine`), under the path the rest of Sprig uses.
pub use sprig_engine as engine;
pub use sprig_engine::PruneError;

pub use device_masks::{DeviceMasks, SPARSE_ADAM_AT_MOST};
pub use discover::{Discovered, PruneRules, discover, discover_in};
pub use masked_adam::MaskedAdam;
pub use params::{load_snapshot, snapshot, tensor_shapes};
