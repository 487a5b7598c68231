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
//! [`engine`] holds the time-budgeted search itself, written against the narrow
//! [`engine::Trainee`] interface so it can be tested with a fake clock and a fake trainee.
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
pub mod engine;
mod masked_adam;
mod param_path;
mod params;

pub use device_masks::{DeviceMasks, SPARSE_ADAM_AT_MOST};
pub use discover::{Discovered, PruneRules, discover, discover_in};
pub use masked_adam::MaskedAdam;
pub use params::{load_snapshot, snapshot, tensor_shapes};

/// What can go wrong between a Burn module and Sprig's masks.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    /// The budget cannot hold the run, or a plan input was invalid.
    #[error(transparent)]
    Budget(#[from] sprig_budget::BudgetError),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or batching data failed.
    #[error(transparent)]
    Data(#[from] sprig_data::DataError),
    /// A user's Burn dataset could not give an item, or its batcher a whole batch.
    #[error("item {index} of the dataset: {message}")]
    Dataset {
        /// The item asked for (the batch's first, when the batch is wrong).
        index: usize,
        /// What went wrong.
        message: String,
    },
    /// The training step failed.
    #[error("training failed: {0}")]
    Training(String),
    /// A training step's loss was NaN or infinite: the training diverged. The budgeted
    /// engine stops the round and keeps the last good ticket; elsewhere it ends the run.
    #[error("the loss became {value} at iteration {iteration} of this training{advice}")]
    NonFiniteLoss {
        /// The loss.
        value: f64,
        /// The iteration (1-based, within the current training).
        iteration: u64,
        /// What to try, e.g. "; try a smaller learning rate than 0.001" (may be empty).
        advice: String,
    },
    /// The mask core refused (shape mismatch, unknown tensor, …).
    #[error(transparent)]
    Mask(#[from] sprig_mask::MaskError),
    /// A snapshot or mask names a tensor the module does not have, or with another shape.
    #[error("parameter `{path}`: {problem}")]
    Parameter {
        /// The parameter's path in the module, e.g. `fc1.weight`.
        path: String,
        /// What was expected and what was found.
        problem: String,
    },
    /// Reading a tensor's values from the device failed.
    #[error("reading parameter `{path}` from the device: {message}")]
    Read {
        /// The parameter's path in the module.
        path: String,
        /// The backend's message.
        message: String,
    },
}
