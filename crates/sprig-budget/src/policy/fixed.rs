//! A fixed number of rounds: baselines such as one-shot pruning.

use serde::{Deserialize, Serialize};

use super::{PlanContext, RoundPolicy, largest_where};
use crate::BudgetError;
use crate::plan::MAX_ROUNDS;

/// R pruning rounds over the whole run, with every training (the dense one
/// included) of the same length, as long as the budget allows.
///
/// `FixedRounds(1)` is the one-shot baseline in the same budget: train,
/// prune straight to s*, rewind, train. The count is for the whole run, so
/// after k prunes R − k remain (at least 1 while s* is not reached). Fewer
/// rounds are planned only when R of them with `j_min` trainings do not fit.
/// Dense convergence is ignored. The round count must be in
/// `1..=`[`MAX_ROUNDS`](crate::MAX_ROUNDS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedRounds(pub u32);

impl RoundPolicy for FixedRounds {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        match self.0 {
            0 => return Err(BudgetError::ZeroRounds),
            r if r > MAX_ROUNDS => {
                return Err(BudgetError::TooManyRounds {
                    rounds: r,
                    max: MAX_ROUNDS,
                });
            }
            _ => {}
        }
        if ctx.target_reached() {
            return Ok(ctx.longest_final().map(|x| vec![x]));
        }
        let input = ctx.input();
        let j_min = input.min_iterations;
        let wanted = self.0.saturating_sub(input.rounds_done).max(1);
        let fits = |r: u32, j: u64| ctx.fits_uniform(ctx.more_to_reach(j), r, j);
        let Some(rounds) = largest_where(1, u64::from(wanted), |r| fits(r as u32, j_min)) else {
            return Ok(None);
        };
        let rounds = rounds as u32;
        let hi = ctx.training_cap().min(ctx.iteration_bound()).max(j_min);
        let j = largest_where(j_min, hi, |j| fits(rounds, j)).unwrap_or(j_min);
        Ok(Some(PlanContext::uniform(ctx.more_to_reach(j), rounds, j)))
    }
}
