//! What a policy may ask about the situation it plans for.

use std::time::Duration;

use sprig_mask::rate::rounds_for_rate;

use crate::cost::{duration, nanos};
use crate::plan::MAX_ROUNDS;
use crate::{BudgetError, PlanInput};

/// A validated [`PlanInput`] plus the cost arithmetic policies need.
///
/// Costs follow one convention everywhere: a schedule `[first, j1, …, jR]`
/// costs the continuation of the current training by `first` iterations,
/// then R × (one prune+rewind + a training of `ji` iterations), each
/// training with the evaluations its [`EvalSchedule`](crate::EvalSchedule)
/// charges.
#[derive(Debug, Clone, Copy)]
pub struct PlanContext<'a> {
    input: &'a PlanInput,
    /// Nanoseconds left before the cutoff; `None` once past it, when
    /// nothing fits, not even a schedule of zero cost.
    available: Option<u128>,
}

impl<'a> PlanContext<'a> {
    /// A context for `input`, which the planner has already validated.
    pub(crate) fn new(input: &'a PlanInput) -> Self {
        let past = input.elapsed > input.cutoff();
        Self {
            input,
            available: (!past).then(|| nanos(input.available())),
        }
    }

    /// The situation being planned for.
    pub fn input(&self) -> &'a PlanInput {
        self.input
    }

    /// Time left for planned work: T − reserve − elapsed (0 once past the
    /// cutoff; then nothing fits, not even a schedule that costs nothing).
    pub fn available(&self) -> Duration {
        duration(self.available.unwrap_or(0))
    }

    /// Whether s* is reached (within the tolerance): the plan must have 0
    /// rounds then, at least 1 otherwise.
    pub fn target_reached(&self) -> bool {
        self.input.target_reached()
    }

    /// The most iterations any one training may have: the cap, or
    /// `u64::MAX` without one.
    pub fn training_cap(&self) -> u64 {
        self.input.max_iterations_per_training.unwrap_or(u64::MAX)
    }

    /// An upper bound on the iterations that could fit in the time left
    /// (ignoring every other cost): a safe upper end for searches.
    pub fn iteration_bound(&self) -> u64 {
        let per = nanos(self.input.costs.iteration).max(1);
        u64::try_from(self.available.unwrap_or(0) / per).unwrap_or(u64::MAX)
    }

    /// How many iterations at the current step's cost take the time `iterations` dense
    /// iterations took: more once a sparser round's step is cheaper, never fewer (a
    /// machine that slows down does not shorten a training promised in iterations);
    /// `iterations` itself until the dense step has been timed.
    pub fn in_dense_time(&self, iterations: u64) -> u64 {
        let Some(dense) = self.input.dense_iteration else {
            return iterations;
        };
        let now = nanos(self.input.costs.iteration).max(1);
        let scaled = u128::from(iterations).saturating_mul(nanos(dense)) / now;
        u64::try_from(scaled).unwrap_or(u64::MAX).max(iterations)
    }

    /// The round count (at least 1, at most [`MAX_ROUNDS`]; 0 when s* is
    /// reached) whose per-round rate from the current sparsity to s* is
    /// closest to `rate`. See [`rounds_for_rate`](sprig_mask::rate::rounds_for_rate).
    ///
    /// Errors if `rate` is NaN or outside `(0, 1)`.
    pub fn rounds_for_rate(&self, rate: f64) -> Result<u32, BudgetError> {
        if !(rate > 0.0 && rate < 1.0) {
            return Err(BudgetError::InvalidRate(rate));
        }
        if self.target_reached() {
            return Ok(0);
        }
        Ok(rounds_for_rate(
            self.input.current_sparsity,
            self.input.target_sparsity,
            rate,
            MAX_ROUNDS,
        ))
    }

    /// More iterations the current training needs to reach `total`
    /// (clamped to the cap); 0 if it is already there.
    pub fn more_to_reach(&self, total: u64) -> u64 {
        total
            .min(self.training_cap())
            .saturating_sub(self.input.iterations_done)
    }

    /// Cost of a schedule `[first, j1, …, jR]` (see the type docs).
    pub fn cost(&self, trainings: &[u64]) -> Duration {
        duration(self.cost_nanos(trainings))
    }

    /// Whether a schedule fits in the time left.
    pub fn fits(&self, trainings: &[u64]) -> bool {
        self.available
            .is_some_and(|a| self.cost_nanos(trainings) <= a)
    }

    /// Cost of `[first, later, later, …]` with `rounds` trainings of `later`
    /// iterations, computed in constant time.
    pub fn cost_uniform(&self, first: u64, rounds: u32, later: u64) -> Duration {
        duration(self.uniform_nanos(first, rounds, later))
    }

    /// Whether `[first, later × rounds]` fits in the time left.
    pub fn fits_uniform(&self, first: u64, rounds: u32, later: u64) -> bool {
        self.available
            .is_some_and(|a| self.uniform_nanos(first, rounds, later) <= a)
    }

    /// `[first, later × rounds]` as a schedule vector.
    pub fn uniform(first: u64, rounds: u32, later: u64) -> Vec<u64> {
        let mut v = Vec::with_capacity(rounds as usize + 1);
        v.push(first);
        v.extend(std::iter::repeat_n(later, rounds as usize));
        v
    }

    /// The longest continuation of the current training alone (for R = 0,
    /// the final ticket) that fits and reaches `j_min`, within the cap.
    pub fn longest_final(&self) -> Option<u64> {
        let d = self.input.iterations_done;
        let lo = self.input.min_iterations.saturating_sub(d);
        let hi = self
            .training_cap()
            .saturating_sub(d)
            .min(self.iteration_bound());
        crate::policy::largest_where(lo, hi, |x| self.fits(&[x]))
    }

    /// The smallest regular schedule: the current training up to `j_min`,
    /// then (if s* is not reached) one prune and a final training of
    /// `j_min`.
    pub fn minimal_schedule(&self) -> Vec<u64> {
        let first = self.more_to_reach(self.input.min_iterations);
        if self.target_reached() {
            vec![first]
        } else {
            vec![first, self.input.min_iterations]
        }
    }

    fn current_nanos(&self, first: u64) -> u128 {
        self.input
            .costs
            .training_nanos(self.input.iterations_done, first, self.input.eval)
    }

    fn round_nanos(&self, later: u64) -> u128 {
        nanos(self.input.costs.prune_rewind).saturating_add(self.input.costs.training_nanos(
            0,
            later,
            self.input.eval,
        ))
    }

    fn cost_nanos(&self, trainings: &[u64]) -> u128 {
        let Some((&first, later)) = trainings.split_first() else {
            return 0;
        };
        later.iter().fold(self.current_nanos(first), |acc, &j| {
            acc.saturating_add(self.round_nanos(j))
        })
    }

    fn uniform_nanos(&self, first: u64, rounds: u32, later: u64) -> u128 {
        self.current_nanos(first)
            .saturating_add(u128::from(rounds).saturating_mul(self.round_nanos(later)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CostModel, EvalSchedule};

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn costs_follow_the_convention() {
        let mut input = PlanInput::new(
            Duration::from_secs(1),
            CostModel::new(ms(1), ms(10), ms(20)),
            0.5,
            10,
        );
        input.iterations_done = 4;
        input.eval = EvalSchedule::EndOfTraining;
        let ctx = PlanContext::new(&input);
        // current: 6 iterations + end eval; one round: prune + 10 + eval.
        assert_eq!(ctx.cost(&[6, 10]), ms(6 + 10 + 20 + 10 + 10));
        assert_eq!(ctx.cost_uniform(6, 1, 10), ctx.cost(&[6, 10]));
        assert_eq!(
            ctx.cost(&PlanContext::uniform(6, 3, 10)),
            ctx.cost_uniform(6, 3, 10)
        );
        assert_eq!(ctx.minimal_schedule(), vec![6, 10]);
        assert_eq!(ctx.more_to_reach(3), 0);
        assert_eq!(ctx.iteration_bound(), 1000);
        assert_eq!(ctx.cost(&[]), Duration::ZERO);
        assert!(ctx.rounds_for_rate(f64::NAN).is_err());
        assert!(ctx.rounds_for_rate(1.0).is_err());
        assert_eq!(ctx.rounds_for_rate(0.2), Ok(3));
    }
}
