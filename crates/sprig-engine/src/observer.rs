//! What a caller sees of a budgeted run while it goes: progress for bars and logs, a
//! checkpoint after every finished training, and a way to ask the run to stop.
//!
//! The engine does no IO: saving a checkpoint or drawing a bar is the observer's job, so
//! the same loop serves the evaluation runner, the `sprig` command line and a user's code.

use std::time::Duration;

use crate::PruneError;
use crate::{Checkpoint, Evaluation};

/// Where a budgeted run stands after a training iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Step {
    /// Training number (0 is dense).
    pub round: u32,
    /// Iterations done in this training.
    pub iteration: u64,
    /// Iterations the current plan gives this training.
    pub planned: u64,
    /// Sparsity of the mask this training runs under.
    pub sparsity: f64,
    /// The iteration's training loss.
    pub loss: f64,
    /// Time since the start of the run (resumed runs count the time before the
    /// interruption).
    pub elapsed: Duration,
    /// The run's budget.
    pub budget: Duration,
}

/// Told what a budgeted run does; every method has a default that does nothing.
pub trait Observer {
    /// After every training iteration.
    fn step(&mut self, _step: &Step) {}

    /// After every validation of the current training.
    fn validated(&mut self, _step: &Step, _evaluation: &Evaluation) {}

    /// After every finished training, before the next prune: everything needed to resume
    /// the run from here. An error ends the run (a checkpoint that cannot be saved is not
    /// silently skipped).
    ///
    /// # Errors
    /// Whatever saving the checkpoint failed with.
    fn training_finished(&mut self, _checkpoint: &Checkpoint) -> Result<(), PruneError> {
        Ok(())
    }

    /// Asked before every iteration: `true` ends the run as a deadline would (the current
    /// iteration is finished, the best valid ticket so far is returned) with
    /// [`StopReason::Interrupted`](crate::StopReason::Interrupted).
    fn should_stop(&self) -> bool {
        false
    }
}

/// Sees nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}
