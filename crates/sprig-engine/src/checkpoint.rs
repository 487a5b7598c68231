//! The state of a budgeted run between two trainings: enough to continue it after the
//! process died, with the budget that was left.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sprig_budget::{CostModel, Plan, PlanRecord, Progress, RunConfig};
use sprig_mask::{MaskSet, Snapshot};

use crate::RoundRecord;

/// A budgeted run after a finished training (before the prune that follows it).
///
/// The weights are [`Snapshot`]s, which the caller stores as it likes (the `sprig` tool
/// uses safetensors); everything else is [`CheckpointState`], plain serde data.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// The masks the finished training ran under.
    pub masks: MaskSet,
    /// θ0 (or θk with late rewinding), unmasked: what every ticket training rewinds to.
    pub rewind_point: Snapshot,
    /// The weights validation selected in the finished training: what the next prune
    /// scores, and the ticket's trained weights if the run ends here.
    pub trained: Snapshot,
    /// The dense training's selected weights, when the final training distils from them.
    pub teacher: Option<Snapshot>,
    /// Counters, records and plans.
    pub state: CheckpointState,
}

/// The serialisable part of a [`Checkpoint`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckpointState {
    /// Time since the start of the run when the checkpoint was taken; a resumed run
    /// starts its clock here, so the budget left is `budget - elapsed`.
    pub elapsed: Duration,
    /// The planner's fixed settings (budget, target, reserve, …).
    pub run_config: RunConfig,
    /// Rounds done, sparsity reached, dense convergence.
    pub progress: Progress,
    /// The plan the run continues with (not always the last one made: a plan that would
    /// give up the remaining rounds is not taken mid-training).
    pub plan: Plan,
    /// Every plan so far, with its input.
    pub plans: Vec<PlanRecord>,
    /// Every finished training.
    pub rounds: Vec<RoundRecord>,
    /// Prunes done.
    pub prunes: u32,
    /// Measured costs (iteration, evaluation, prune + rewind) when the checkpoint was taken.
    pub costs: CostModel,
}

impl Checkpoint {
    /// Training number of the finished training (0 is dense).
    #[must_use]
    pub fn round(&self) -> u32 {
        self.state.progress.rounds_done
    }
}
