//! As many rounds as fit: the gentlest rate the budget allows.

use serde::{Deserialize, Serialize};

use super::convergence::Shape;
use super::{PlanContext, RoundPolicy, largest_where};
use crate::BudgetError;
use crate::plan::MAX_ROUNDS;

/// As many rounds as fit (up to [`MAX_ROUNDS`](crate::MAX_ROUNDS)), every
/// training at least as long as the dense training needed to converge (or
/// `j_min` while unknown), spare time spread over the trainings.
///
/// The gentlest rate the budget allows; useful to study whether rates below
/// the LTH sweet spot still help. Trainings are shaped as in
/// [`ConvergencePolicy`](crate::ConvergencePolicy). When not even one round
/// of that length fits it returns `None` and the planner falls back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MaxRounds;

impl RoundPolicy for MaxRounds {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        if ctx.target_reached() {
            return Ok(ctx.longest_final().map(|x| vec![x]));
        }
        let shape = Shape::of(ctx);
        let Some(rounds) = largest_where(1, u64::from(MAX_ROUNDS), |r| {
            shape.fits(ctx, r as u32, shape.j_star)
        }) else {
            return Ok(None);
        };
        let rounds = rounds as u32;
        let j = shape.longest(ctx, rounds, |_| true);
        Ok(Some(shape.schedule(ctx, rounds, j)))
    }
}
