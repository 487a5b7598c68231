//! Sprig's lottery-ticket searches, independent of Burn: time-budgeted IMP, unconstrained
//! IMP, gradual magnitude pruning, and single trainings for the baselines.
//!
//! The searches only schedule. They ask a [`Trainee`] to train, evaluate, hand over its
//! weights and take weights back, and decide everything else themselves: the plan from
//! `sprig-budget`, the masks from `sprig-mask`, the deadline gates and model selection.
//! `sprig-prune` implements [`Trainee`] for Burn classifiers; `examples/plain_loop.rs`
//! implements it for a linear regression trained by a plain Rust loop, and
//! `tests/budgeted_fake_clock.rs` for a fake model whose iterations cost fake time.

mod budgeted;
mod checkpoint;
mod fixed;
mod gradual;
mod imp;
mod observer;
mod record;
mod slowdown;
mod trainee;

pub use budgeted::{
    BudgetedConfig, FinalStart, plan_budgeted, run_budgeted, run_budgeted_observed,
};
pub use checkpoint::{Checkpoint, CheckpointState};
pub use fixed::{TrainOnce, TrainOnceOutcome, TrainingLength, train_once, train_once_observed};
pub use gradual::{GmpOutcome, GradualPruning, run_gmp};
pub use imp::{ImpConfig, ImpOutcome, run_imp};
pub use observer::{NoObserver, Observer, Step};
pub use record::{BudgetedOutcome, RoundRecord, StopReason};
pub use slowdown::{Divergence, Faults, Faulty, Slowdown};
pub use trainee::{Distillation, Evaluation, Trainee};

/// What can go wrong in a search or in the trainee it drives.
#[derive(Debug, thiserror::Error)]
pub enum PruneError {
    /// The budget cannot hold the run, or a plan input was invalid.
    #[error(transparent)]
    Budget(#[from] sprig_budget::BudgetError),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// Reading or batching data failed (the data layer's own error, kept as the source).
    #[error(transparent)]
    Data(Box<dyn std::error::Error + Send + Sync>),
    /// A user's dataset could not give an item, or its batcher a whole batch.
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
    /// search stops the round and keeps the last good ticket; elsewhere it ends the run.
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
    /// A snapshot or mask names a tensor the model does not have, or with another shape.
    #[error("parameter `{path}`: {problem}")]
    Parameter {
        /// The parameter's path in the model, e.g. `fc1.weight`.
        path: String,
        /// What was expected and what was found.
        problem: String,
    },
    /// Reading a tensor's values from the device failed.
    #[error("reading parameter `{path}` from the device: {message}")]
    Read {
        /// The parameter's path in the model.
        path: String,
        /// The backend's message.
        message: String,
    },
}

impl PruneError {
    /// A data layer's error (this crate does not know the data layer's types).
    pub fn data(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self::Data(Box::new(error))
    }
}
