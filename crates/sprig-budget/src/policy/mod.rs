//! Round policies: how the time left is split into rounds and trainings.
//!
//! The planner owns the guarantees (fits the deadline, reaches s*, respects
//! `j_min` and the cap, falls back when time is short); a [`RoundPolicy`]
//! only expresses a preference among the schedules that fit. That split lets
//! users swap the strategy — e.g. [`FixedRounds`]`(1)` for the one-shot
//! baseline in the same budget — without being able to break the deadline.

mod builtin;
mod context;
mod convergence;
mod fixed;
mod max;

use std::fmt;

pub use builtin::{BuiltinPolicy, RankingStop};
pub use context::PlanContext;
pub use convergence::{ConvergencePolicy, EXPLORE_ROUNDS};
pub use fixed::FixedRounds;
pub use max::MaxRounds;

use crate::BudgetError;

/// A strategy that chooses how many rounds remain and how long each
/// training is.
pub trait RoundPolicy: fmt::Debug {
    /// The preferred schedule, as the iterations of each remaining training
    /// (see [`Plan::trainings`](crate::Plan::trainings): entry 0 is *more*
    /// iterations for the current training, entry i ≥ 1 the length of the
    /// training after the i-th remaining prune, so R = len − 1).
    ///
    /// Return `Ok(None)` when no schedule the policy likes fits; the
    /// planner then falls back to the minimal one, a squeezed one, or an
    /// error (see [`plan_with`](crate::plan_with)). A returned schedule must
    /// fit in [`PlanContext::available`] and follow the planner's rules, or
    /// planning fails with [`BudgetError::InvalidSchedule`]. Errors are for
    /// invalid policy settings.
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError>;
}

impl<P: RoundPolicy + ?Sized> RoundPolicy for &P {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        (**self).choose(ctx)
    }
}

impl<P: RoundPolicy + ?Sized> RoundPolicy for Box<P> {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        (**self).choose(ctx)
    }
}

/// The largest `x` in `lo..=hi` for which `pred(x)` holds, assuming `pred`
/// is monotone (true up to some point, false after); `None` if `pred(lo)`
/// is false or `lo > hi`. Binary search: at most 64 calls of `pred`.
pub fn largest_where(lo: u64, hi: u64, pred: impl Fn(u64) -> bool) -> Option<u64> {
    if lo > hi || !pred(lo) {
        return None;
    }
    if pred(hi) {
        return Some(hi);
    }
    // Invariant: pred(good) holds, pred(bad) does not.
    let (mut good, mut bad) = (lo, hi);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if pred(mid) {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Some(good)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn largest_where_finds_the_edge() {
        assert_eq!(largest_where(0, 100, |x| x <= 37), Some(37));
        assert_eq!(largest_where(5, 100, |x| x <= 3), None);
        assert_eq!(largest_where(0, u64::MAX, |_| true), Some(u64::MAX));
        assert_eq!(
            largest_where(0, u64::MAX, |x| x < 1 << 40),
            Some((1 << 40) - 1)
        );
        assert_eq!(largest_where(9, 3, |_| true), None);
        assert_eq!(largest_where(3, 3, |_| true), Some(3));
    }
}
