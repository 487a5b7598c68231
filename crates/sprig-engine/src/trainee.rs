//! What the engine needs of a training setup, whatever the model, data and backend.
//!
//! The time-budgeted loop only schedules: it asks a [`Trainee`] to train, evaluate, hand
//! over its weights and take weights back. Keeping that boundary narrow lets the loop be
//! tested with a fake trainee and a fake clock, and lets users plug in their own step.

use serde::{Deserialize, Serialize};
use sprig_mask::{MaskSet, Snapshot};

use crate::PruneError;

/// Loss and score of a model on a split. Model selection keeps the training state with
/// the highest `accuracy`; a task that is not classification reports its own score there
/// (e.g. R² for a reconstruction, as `sprig-prune`'s `examples/custom_step.rs` does).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Mean cross-entropy (or the task's loss).
    pub loss: f64,
    /// Fraction of correct predictions, in [0, 1] (or the task's score: higher is better).
    pub accuracy: f64,
}

/// A model with its data and optimiser, trained by the engine one iteration at a time.
pub trait Trainee {
    /// The current values of every parameter, by path.
    fn weights(&self) -> Result<Snapshot, PruneError>;
    /// Replaces parameter values in place (rewinding), keeping parameter identities.
    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError>;
    /// Starts a new training under `masks`: a fresh optimiser (its state must not carry
    /// over a rewind), masks applied, a learning-rate schedule over `iterations`.
    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError>;
    /// Prunes further within the current training (gradual magnitude pruning): `masks`
    /// replace the current ones, weights they prune become zero and stay zero, and the
    /// optimiser's state and the learning-rate schedule carry on, unlike
    /// [`start_training`](Self::start_training).
    fn update_masks(&mut self, masks: &MaskSet) -> Result<(), PruneError>;
    /// Changes the length of the current training (the plan changed); the schedule
    /// continues from the iterations already done.
    fn set_training_length(&mut self, iterations: u64);
    /// One training iteration; returns its loss. A non-finite loss is an error for the
    /// engine to handle, not a panic.
    fn step(&mut self) -> Result<f64, PruneError>;
    /// Evaluation on the validation split (model selection, early stopping).
    fn validate(&mut self) -> Result<Evaluation, PruneError>;
}
