//! What things cost, and the arithmetic that adds them up.
//!
//! All sums are done in `u128` nanoseconds, saturating, so that planning with
//! absurd inputs (a year-long budget at a nanosecond per iteration) neither
//! overflows nor loses precision the way `f64` seconds would at the exact
//! boundary "expected finish ≤ T − reserve".

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Measured costs of the steps of one IMP run.
///
/// Usually produced by [`IterationProfiler::cost_model`](crate::IterationProfiler::cost_model)
/// and refreshed after every round, so a machine that slows down shrinks the
/// rest of the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostModel {
    /// One training iteration (forward, backward, optimiser step, re-mask): t_e.
    pub iteration: Duration,
    /// One evaluation on the validation set.
    pub evaluation: Duration,
    /// One prune (score + select) plus rewind of the survivors.
    pub prune_rewind: Duration,
}

impl CostModel {
    /// A cost model from its three parts.
    pub fn new(iteration: Duration, evaluation: Duration, prune_rewind: Duration) -> Self {
        Self {
            iteration,
            evaluation,
            prune_rewind,
        }
    }

    /// The reserve to keep at the end of the budget for the final evaluation
    /// of the ticket and for saving it: one evaluation plus `save`.
    pub fn reserve_with_save(&self, save: Duration) -> Duration {
        self.evaluation.saturating_add(save)
    }

    /// Cost of one whole training of `iterations` iterations from scratch,
    /// including the evaluations `eval` charges for it.
    pub fn training(&self, iterations: u64, eval: EvalSchedule) -> Duration {
        duration(self.training_nanos(0, iterations, eval))
    }

    /// Cost of continuing a training that has done `done` iterations by
    /// `more` iterations, including the evaluations `eval` charges for them
    /// (and its end-of-training evaluation).
    pub fn continuation(&self, done: u64, more: u64, eval: EvalSchedule) -> Duration {
        duration(self.training_nanos(done, more, eval))
    }

    /// `u128` version of [`continuation`](Self::continuation).
    pub(crate) fn training_nanos(&self, done: u64, more: u64, eval: EvalSchedule) -> u128 {
        let total = done.saturating_add(more);
        let evals = eval.evaluations(done, total);
        u128::from(more)
            .saturating_mul(nanos(self.iteration))
            .saturating_add(u128::from(evals).saturating_mul(nanos(self.evaluation)))
    }
}

/// When the engine evaluates during a training, so the planner can charge
/// for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum EvalSchedule {
    /// No evaluation is charged to trainings (the final evaluation of the
    /// ticket still comes out of the reserve).
    Never,
    /// One evaluation at the end of every training, to score its ticket.
    #[default]
    EndOfTraining,
    /// An evaluation after every `n`-th iteration of a training (iteration
    /// counts restart at every training) and one at its end, unless the end
    /// falls on a multiple of `n`. Needed to detect the dense training's
    /// validation-loss plateau. `n` must be at least 1.
    Every(u64),
}

impl EvalSchedule {
    /// Evaluations charged when a training goes from `done` to `total`
    /// iterations: the periodic ones in `(done, total]` plus the
    /// end-of-training one.
    ///
    /// The end-of-training evaluation is charged whenever the training has
    /// any iteration at all (`total > 0`), even if `total == done`: a plan
    /// that ends the current training now still pays to score it. A training
    /// with no iteration at all (skipped) costs nothing.
    /// `Every(0)` is rejected by the planner; here it counts as
    /// `EndOfTraining`.
    pub fn evaluations(self, done: u64, total: u64) -> u64 {
        let total = total.max(done);
        if total == 0 {
            return 0;
        }
        match self {
            EvalSchedule::Never => 0,
            EvalSchedule::EndOfTraining | EvalSchedule::Every(0) => 1,
            EvalSchedule::Every(n) => {
                let periodic = total / n - done / n;
                periodic + u64::from(!total.is_multiple_of(n))
            }
        }
    }
}

/// The smallest budget that can hold a run of one pruning round.
///
/// That is: the profiling extras (one evaluation and one prune+rewind
/// measured besides the plan), the dense training of
/// `max(min_iterations, profiling_iterations)` iterations (profiling
/// iterations are its first iterations, they count), one prune+rewind, the
/// final training of `min_iterations`, the evaluations `eval` charges for
/// both trainings, and the `reserve` for the final evaluation and save.
///
/// A smaller budget makes [`plan`](crate::plan) fail with
/// [`BudgetError::BudgetTooSmall`](crate::BudgetError::BudgetTooSmall);
/// [`check_budget`] turns this number into that error up front.
pub fn minimum_budget(
    costs: &CostModel,
    min_iterations: u64,
    profiling_iterations: u64,
    eval: EvalSchedule,
    reserve: Duration,
) -> Duration {
    let dense = min_iterations.max(profiling_iterations);
    let total = nanos(costs.evaluation)
        .saturating_add(nanos(costs.prune_rewind))
        .saturating_add(costs.training_nanos(0, dense, eval))
        .saturating_add(nanos(costs.prune_rewind))
        .saturating_add(costs.training_nanos(0, min_iterations, eval))
        .saturating_add(nanos(reserve));
    duration(total)
}

/// `Ok(())` if `budget` is at least `minimum`, otherwise
/// [`BudgetError::BudgetTooSmall`](crate::BudgetError::BudgetTooSmall)
/// naming `minimum`.
pub fn check_budget(budget: Duration, minimum: Duration) -> Result<(), crate::BudgetError> {
    if budget >= minimum {
        Ok(())
    } else {
        Err(crate::BudgetError::BudgetTooSmall { budget, minimum })
    }
}

/// A duration in nanoseconds, exactly.
pub(crate) fn nanos(d: Duration) -> u128 {
    d.as_nanos()
}

/// Nanoseconds back to a duration, saturating at [`Duration::MAX`].
pub(crate) fn duration(n: u128) -> Duration {
    const NANOS_PER_SEC: u128 = 1_000_000_000;
    let secs = n / NANOS_PER_SEC;
    match u64::try_from(secs) {
        // The remainder is below 10^9, so it fits in a u32.
        Ok(secs) => Duration::new(secs, (n % NANOS_PER_SEC) as u32),
        Err(_) => Duration::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn evaluation_counts() {
        use EvalSchedule::*;
        assert_eq!(Never.evaluations(0, 100), 0);
        assert_eq!(EndOfTraining.evaluations(0, 100), 1);
        assert_eq!(EndOfTraining.evaluations(0, 0), 0);
        assert_eq!(EndOfTraining.evaluations(7, 7), 1);
        assert_eq!(Every(10).evaluations(0, 100), 10);
        assert_eq!(Every(10).evaluations(0, 105), 11);
        assert_eq!(Every(10).evaluations(25, 40), 2);
        assert_eq!(Every(10).evaluations(25, 25), 1);
        assert_eq!(Every(10).evaluations(30, 30), 0);
        assert_eq!(Every(0).evaluations(0, 5), 1);
    }

    #[test]
    fn training_costs() {
        let c = CostModel::new(ms(2), ms(10), ms(30));
        assert_eq!(c.training(100, EvalSchedule::EndOfTraining), ms(210));
        assert_eq!(
            c.continuation(50, 50, EvalSchedule::Every(20)),
            ms(100 + 30)
        );
        assert_eq!(c.reserve_with_save(ms(5)), ms(15));
    }

    #[test]
    fn minimum_budget_adds_up() {
        let c = CostModel::new(ms(1), ms(10), ms(20));
        // profiling extras 30 + dense 100+10 + prune 20 + final 100+10 + reserve 50
        let m = minimum_budget(&c, 100, 20, EvalSchedule::EndOfTraining, ms(50));
        assert_eq!(m, ms(320));
        // Profiling longer than j_min lengthens the dense training.
        let m = minimum_budget(&c, 100, 150, EvalSchedule::EndOfTraining, ms(50));
        assert_eq!(m, ms(370));
        assert!(check_budget(ms(320), ms(320)).is_ok());
        assert!(check_budget(ms(319), ms(320)).is_err());
    }

    #[test]
    fn nanos_round_trip_and_saturate() {
        let d = Duration::new(12, 345);
        assert_eq!(duration(nanos(d)), d);
        assert_eq!(duration(u128::MAX), Duration::MAX);
    }
}
