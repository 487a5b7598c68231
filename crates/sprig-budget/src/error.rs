//! The one error type of the crate.
//!
//! Every public function reports bad input (NaN, out-of-range sparsities,
//! zero costs, budgets that cannot hold a single pruning round) as a
//! [`BudgetError`] instead of panicking: the engine calls this crate in the
//! middle of a long run and must be able to finalise what it has.

use std::time::Duration;

/// Everything that can go wrong while profiling, planning or re-planning.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The budget cannot hold the profiling phase, one pruning round with two
    /// trainings of `j_min` iterations, their evaluations and the reserve.
    ///
    /// `minimum` is the smallest budget that would work with the costs
    /// measured so far; the message rounds it *up* to the millisecond so the
    /// number it names is itself workable.
    #[error(
        "time budget of {budget_s:.3} s is too small: the smallest workable budget is {minimum_s:.3} s",
        budget_s = .budget.as_secs_f64(),
        minimum_s = seconds_rounded_up(*.minimum)
    )]
    BudgetTooSmall {
        /// The budget that was asked for.
        budget: Duration,
        /// The smallest budget that holds one full pruning round.
        minimum: Duration,
    },

    /// The target sparsity s* is NaN or outside `[0, 1)` (s* = 1 would
    /// prune every weight).
    #[error("target sparsity must be a number in [0, 1), got {0}")]
    InvalidTargetSparsity(f64),

    /// A sparsity already reached is NaN or outside `[0, 1)`.
    #[error("current sparsity must be a number in [0, 1), got {0}")]
    InvalidCurrentSparsity(f64),

    /// The per-iteration cost is zero: no number of iterations could be
    /// bounded by a budget.
    #[error("the cost of one training iteration must be greater than zero")]
    ZeroIterationCost,

    /// `j_min`, the minimum number of iterations per training, is zero.
    #[error("the minimum number of iterations per training must be at least 1")]
    ZeroMinIterations,

    /// The per-training iteration cap is below `j_min`.
    #[error("the iteration cap per training ({cap}) is below the minimum per training ({min})")]
    CapBelowMinimum {
        /// The cap that was given.
        cap: u64,
        /// The minimum iterations per training.
        min: u64,
    },

    /// `EvalSchedule::Every(0)`.
    #[error("the evaluation interval must be at least 1 iteration")]
    ZeroEvalInterval,

    /// A per-round pruning rate (for example a policy's gentle rate) is NaN
    /// or outside `(0, 1)`.
    #[error("a per-round pruning rate must be a number in (0, 1), got {0}")]
    InvalidRate(f64),

    /// The sparsity tolerance is NaN, negative or not below 1.
    #[error("the sparsity tolerance must be a number in [0, 1), got {0}")]
    InvalidTolerance(f64),
    /// A policy setting is out of its range.
    #[error("invalid round policy: {0}")]
    InvalidPolicy(String),

    /// A round count of zero where at least one round is needed.
    #[error("the number of pruning rounds must be at least 1")]
    ZeroRounds,

    /// More rounds than [`MAX_ROUNDS`](crate::MAX_ROUNDS).
    #[error("{rounds} pruning rounds requested, at most {max} are supported")]
    TooManyRounds {
        /// Rounds requested.
        rounds: u32,
        /// The supported maximum.
        max: u32,
    },

    /// A profiler setting is out of range.
    #[error("invalid profiler configuration: {0}")]
    InvalidProfilerConfig(&'static str),

    /// A plateau-detector setting is out of range.
    #[error("invalid plateau detector configuration: {0}")]
    InvalidPlateauConfig(&'static str),

    /// A cost cannot be estimated yet.
    #[error("not enough {what} samples to estimate its cost: have {have}, need {need}")]
    NotEnoughSamples {
        /// Which cost: `"iteration"`, `"evaluation"` or `"prune+rewind"`.
        what: &'static str,
        /// Samples recorded (after warm-up, for iterations).
        have: usize,
        /// Samples needed.
        need: usize,
    },

    /// A [`RoundPolicy`](crate::RoundPolicy) returned a schedule that breaks
    /// the planner's rules (does not fit, wrong length, training below `j_min`
    /// or above the cap). This is a bug in the policy, not in the input.
    #[error("the round policy returned an invalid schedule: {0}")]
    InvalidSchedule(String),
}

/// Seconds, rounded up to the next millisecond.
fn seconds_rounded_up(d: Duration) -> f64 {
    let millis = d.as_nanos().div_ceil(1_000_000);
    // u128 -> f64 loses precision only beyond 2^53 ms (≈ 285 000 years).
    millis as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_small_message_rounds_minimum_up() {
        let e = BudgetError::BudgetTooSmall {
            budget: Duration::from_millis(500),
            minimum: Duration::from_nanos(1_234_000_001),
        };
        assert_eq!(
            e.to_string(),
            "time budget of 0.500 s is too small: the smallest workable budget is 1.235 s"
        );
    }
}
