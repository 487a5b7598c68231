//! What a budgeted run reports: the ticket, and how it got there.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sprig_budget::PlanRecord;
use sprig_mask::{MaskSet, Snapshot};

use crate::Evaluation;

/// One training of the run (training 0 is dense).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RoundRecord {
    /// Training number; the mask had been pruned this many times.
    pub round: u32,
    /// Sparsity of the mask this training ran under.
    pub sparsity: f64,
    /// Iterations trained.
    pub iterations: u64,
    /// Validation result at the end of the training (after model selection).
    pub validation: Evaluation,
    /// Iteration (within this training) whose weights were kept, by validation accuracy.
    pub selected_iteration: u64,
    /// Wall time since the start of the run when the training ended.
    pub ended_at: Duration,
}

/// Why the run stopped (the budget scheduler's type, shared with the result rows).
pub use sprig_budget::StopReason;

/// The result of [`run_budgeted`](crate::run_budgeted).
#[derive(Debug, Clone)]
pub struct BudgetedOutcome {
    /// The ticket's mask.
    pub masks: MaskSet,
    /// θ0 (or θk with late rewinding), masked: the ticket itself.
    pub initial: Snapshot,
    /// The trained sparse weights (pruned entries exactly zero).
    pub trained: Snapshot,
    /// Every training, in order.
    pub rounds: Vec<RoundRecord>,
    /// Every plan, with the input it was made from (the plan as executed).
    pub plans: Vec<PlanRecord>,
    /// Pruning rounds executed.
    pub prunes: u32,
    /// Why the run stopped.
    pub stop: StopReason,
    /// Wall time from the start until the ticket was final (before saving).
    pub time_used: Duration,
}
