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
    /// From now on, also fits `teacher`'s softened outputs as `distillation` says
    /// (knowledge distillation); `None` goes back to the labels alone. A trainee that
    /// cannot distil refuses a teacher rather than train without it.
    fn set_teacher(
        &mut self,
        teacher: Option<(&Snapshot, Distillation)>,
    ) -> Result<(), PruneError> {
        match teacher {
            None => Ok(()),
            Some(_) => Err(PruneError::Config(
                "this training cannot learn from a teacher (distillation)".into(),
            )),
        }
    }
}

/// Knowledge distillation (Hinton, Vinyals & Dean, 2015): the loss blends the labels'
/// cross-entropy with the cross-entropy against a teacher's outputs softened by a
/// temperature, `(1 - weight) * CE(labels) + weight * T² * CE(softmax(teacher / T))`.
/// The T² keeps the soft term's gradients on the hard term's scale.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Distillation {
    /// T: above 1, the teacher's smaller probabilities count too.
    pub temperature: f64,
    /// The soft term's share of the loss, in [0, 1].
    pub weight: f64,
}

impl Distillation {
    /// The usual setting of the distillation literature (T = 4), half soft, half hard:
    /// the teacher here is the dense training at its validation plateau, no stronger
    /// than the ticket it teaches, so the labels keep an equal say.
    pub const DEFAULT: Self = Self {
        temperature: 4.0,
        weight: 0.5,
    };

    /// A temperature that is not positive or a weight outside [0, 1] is
    /// [`PruneError::Config`].
    pub fn check(&self) -> Result<(), PruneError> {
        if !(self.temperature.is_finite() && self.temperature > 0.0) {
            return Err(PruneError::Config(format!(
                "the distillation temperature must be positive, not {}",
                self.temperature
            )));
        }
        if !(0.0..=1.0).contains(&self.weight) {
            return Err(PruneError::Config(format!(
                "the distillation weight must be in [0, 1], not {}",
                self.weight
            )));
        }
        Ok(())
    }
}
