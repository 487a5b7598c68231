//! The default policy: trainings as long as the dense one needed, rounds
//! up to a gentle rate, spare time into longer trainings.

use serde::{Deserialize, Serialize};

use super::{PlanContext, RoundPolicy, largest_where};
use crate::BudgetError;

/// The default round policy, after the lottery-ticket papers: every
/// training gets about as many iterations as the dense network needed to
/// converge, and rounds are added only until the per-round rate is gentle.
///
/// With j* = the dense convergence iterations (or `j_min` while unknown),
/// clamped to `[j_min, cap]`, and R_g = the round count whose rate from the
/// current sparsity to s* is closest to `gentle_rate` (0.2 → 10 rounds for
/// s* = 0.9, rate ≈ 0.2057):
///
/// 1. **Rounds.** R = the largest R ≤ R_g for which the current training
///    plus R × (prune + training of j*) fits. LTH found 10–20 % per round
///    best and 40 %+ clearly worse, so more rounds than R_g buy nothing.
/// 2. **Lengths.** All trainings after the dense one (and the current one,
///    if it is one of those) get the same length j ≥ j*:
///    * if R = R_g, j is as long as the time allows (spare time goes into
///      longer trainings, never into more rounds);
///    * if R < R_g, j is as long as the time allows *but* the total number
///      of iterations stays at most what R + 1 rounds of j* would train.
///      Without that limit, adding a round (which costs a prune and an
///      evaluation) would lower the total number of iterations, so a larger
///      budget could train less. With it, the run finishes up to one prune
///      plus one evaluation early.
/// 3. **Short time.** If not even one round of j* fits, one round with the
///    longest trainings in `[j_min, j*)` that fit; if those do not fit,
///    `None` (the planner falls back).
///
/// **The dense training before its convergence is known.** j* is the length
/// of [`EXPLORE_ROUNDS`] + 1 equal trainings filling the time left, and the
/// dense training is one of the uniform trainings: it may take up to a third
/// of the budget to show how long this network needs. The engine trains it
/// until the validation loss plateaus or this cap is hit, then reports the
/// iterations it took (see
/// [`Replanner::record_convergence`](crate::Replanner::record_convergence);
/// hitting the cap reports the cap: the network needs at least that) and
/// re-plans: from then on the dense training is fixed at max(that, j_min)
/// and the later trainings follow the rules above.
///
/// Why the dense training gets a third: at only 1/(R_g + 1) of the time it
/// does not converge in a short budget, every later training stays far from
/// convergence, and one-shot pruning wins; short trainings cost more accuracy
/// than a steep rate does.
///
/// With s* already reached (R = 0), the final ticket trains for all the
/// time left, up to the cap.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConvergencePolicy {
    /// The per-round rate considered gentle enough; in `(0, 1)`.
    pub gentle_rate: f64,
    /// Share of the iterations that fit in the time left reserved for the final training
    /// (the one whose weights are returned), in `[0, 1)`. 0 gives every training after
    /// the dense one the same length; above 0, trainings before the last stop at the
    /// dense convergence j* (they only have to rank the weights for the next prune) and
    /// the final training gets the rest, at least this share and at least j*.
    #[serde(default)]
    pub final_share: f64,
    /// Early stop of the ranking trainings (every training before the last but the dense
    /// one): stop once the mask the next prune would give keeps at least this share of
    /// the survivors of the previous check's (Early-Bird tickets, You et al., ICLR 2020:
    /// the ranking settles long before the loss does). The time saved goes to the final
    /// training. `None` trains them for j*. Applied by the training engine, which sees the
    /// weights; the planner still budgets j* for each.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_overlap: Option<f64>,
    /// Early stop of the ranking trainings measured on what the next prune removes: stop
    /// once at least this share of the weights it would remove are ones the previous
    /// check's prune would remove too. The survivors' overlap
    /// ([`ranking_overlap`](Self::ranking_overlap)) depends on the per-round rate: two
    /// prunes of 10 % share at least 8/9 of their survivors however differently they
    /// rank, so an overlap of 0.9 stops a ranking at its second check. Early-Bird's
    /// threshold (a mask distance of 0.1 for channel prunes of 30–70 %) is about this
    /// share at 0.9. Not with `ranking_overlap`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_agreement: Option<f64>,
    /// Ranking trainings resume from the last trained weights, pruned, instead of
    /// rewinding (with a fresh learning-rate schedule: "learning-rate rewinding", Renda
    /// et al., ICLR 2020); only the final training rewinds, so the ticket is still the
    /// mask applied to the rewind point. A ranking training then only has to adapt the
    /// survivors, not re-learn the task, and stops early at a much lower cost.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub ranking_resumes: bool,
    /// With a final share: the length of a ranking training as a share of j*, in
    /// `(0, 1]` (`None` = 1). A ranking training that resumes from trained weights needs
    /// far fewer iterations than one from θ0; planning it shorter buys more rounds at a
    /// gentler rate within the same time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking_share: Option<f64>,
    /// With a final share: the final training takes at most the time this many times j*
    /// dense iterations took (`None` = no limit), at least 1: cap × j* iterations at the
    /// dense step's cost, more where the sparse rounds' step is cheaper. A final training
    /// stretched over all the time left spends most of it at a high learning rate past its
    /// best validation point; a capped one decays to zero where the ticket has converged.
    /// The time it frees lengthens the ranking trainings (up to j*); what is left after
    /// that is not spent: the run ends early.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_cap: Option<f64>,
    /// With a final cap: the cap shapes the plans while rounds remain (the time it frees
    /// lengthens the rankings), but the final training itself takes all the time left.
    /// Without it, a run whose rounds and capped final fit early ends early — on a fast
    /// machine after about half its budget, with a shorter final training than a slow
    /// machine would give it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_takes_rest: bool,
    /// With a final share: once the dense training's convergence j* is known, it trains
    /// on for this share of j* more (`None`: it stops at j*). Its learning rate decays
    /// to zero at the planned end, and before j* is known that end is a third of the
    /// budget away: without a cool-down the dense training stops at its plateau at
    /// nearly the full rate, and the faster the step, the further away that end and the
    /// less trained the weights the first prune ranks. j* itself (ranking lengths, the
    /// final cap) stays the plateau.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_cooldown: Option<f64>,
}

/// Rounds assumed while the dense convergence is unknown: the dense training
/// gets the share of a run of this many rounds of equal trainings.
pub const EXPLORE_ROUNDS: u32 = 2;

impl ConvergencePolicy {
    /// The LTH default: 20 % of the remaining weights per round.
    pub const DEFAULT_GENTLE_RATE: f64 = 0.2;

    /// A policy with the given gentle rate (validated when planning) and equal
    /// trainings after the dense one.
    pub fn new(gentle_rate: f64) -> Self {
        Self {
            gentle_rate,
            final_share: 0.0,
            ranking_overlap: None,
            ranking_agreement: None,
            ranking_resumes: false,
            ranking_share: None,
            final_cap: None,
            final_takes_rest: false,
            dense_cooldown: None,
        }
    }

    /// The same policy with `share` of the time left reserved for the final training.
    pub fn with_final_share(self, share: f64) -> Self {
        Self {
            final_share: share,
            ..self
        }
    }

    /// The same policy with ranking trainings stopped at a mask overlap of `overlap`
    /// between successive checks (validated when planning: in `(0, 1]`).
    pub fn with_ranking_overlap(self, overlap: f64) -> Self {
        Self {
            ranking_overlap: Some(overlap),
            ..self
        }
    }

    /// The same policy with ranking trainings stopped once the prunes of successive checks
    /// remove `agreement` of the same weights (validated when planning: in `(0, 1]`).
    pub fn with_ranking_agreement(self, agreement: f64) -> Self {
        Self {
            ranking_agreement: Some(agreement),
            ..self
        }
    }

    /// The same policy with ranking trainings planned at `share` of j*.
    pub fn with_ranking_share(self, share: f64) -> Self {
        Self {
            ranking_share: Some(share),
            ..self
        }
    }

    /// The same policy with the final training at most `cap` × j*.
    pub fn with_final_cap(self, cap: f64) -> Self {
        Self {
            final_cap: Some(cap),
            ..self
        }
    }

    /// The same policy with the final training taking all the time left once it starts
    /// (see [`final_takes_rest`](Self::final_takes_rest)).
    pub fn with_final_taking_rest(self) -> Self {
        Self {
            final_takes_rest: true,
            ..self
        }
    }

    /// The same policy with the dense training going on for `share` × j* once j* is known
    /// (validated when planning: finite, ≥ 0).
    pub fn with_dense_cooldown(self, share: f64) -> Self {
        Self {
            dense_cooldown: Some(share),
            ..self
        }
    }

    /// The same policy with ranking trainings resuming from the trained weights.
    pub fn with_ranking_resumes(self) -> Self {
        Self {
            ranking_resumes: true,
            ..self
        }
    }
}

impl Default for ConvergencePolicy {
    fn default() -> Self {
        Self::new(Self::DEFAULT_GENTLE_RATE)
    }
}

impl RoundPolicy for ConvergencePolicy {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        let gentle = ctx.rounds_for_rate(self.gentle_rate)?;
        if let Some(cap) = self.final_cap
            && !(cap >= 1.0 && cap.is_finite())
        {
            return Err(BudgetError::InvalidPolicy(format!(
                "the final training's cap must be at least 1 × j*, not {cap}"
            )));
        }
        if ctx.target_reached() {
            let longest = ctx.longest_final();
            return Ok(match self.final_cap {
                None => longest.map(|x| vec![x]),
                Some(_) if self.final_takes_rest => longest.map(|x| vec![x]),
                Some(cap) => {
                    // The final training is the current one: stop it at the cap, but never
                    // below `j_min`.
                    let total = capped(ctx, Shape::of(ctx).j_star, cap);
                    let lo = ctx
                        .input()
                        .min_iterations
                        .saturating_sub(ctx.input().iterations_done);
                    longest.map(|x| vec![x.min(ctx.more_to_reach(total)).max(lo)])
                }
            });
        }
        let shape = Shape::exploring(ctx);
        let j_star = shape.j_star;
        if !(0.0..1.0).contains(&self.final_share) {
            return Err(BudgetError::InvalidPolicy(format!(
                "the final share must be in [0, 1), not {}",
                self.final_share
            )));
        }
        if let Some(overlap) = self.ranking_overlap
            && !(overlap > 0.0 && overlap <= 1.0)
        {
            return Err(BudgetError::InvalidPolicy(format!(
                "the ranking overlap must be in (0, 1], not {overlap}"
            )));
        }
        if let Some(agreement) = self.ranking_agreement
            && !(agreement > 0.0 && agreement <= 1.0)
        {
            return Err(BudgetError::InvalidPolicy(format!(
                "the ranking agreement must be in (0, 1], not {agreement}"
            )));
        }
        if self.ranking_overlap.is_some() && self.ranking_agreement.is_some() {
            return Err(BudgetError::InvalidPolicy(
                "a ranking training stops at a mask overlap or at an agreement of the removals, \
                 not both"
                    .into(),
            ));
        }
        if let Some(share) = self.ranking_share
            && !(share > 0.0 && share <= 1.0)
        {
            return Err(BudgetError::InvalidPolicy(format!(
                "the ranking share must be in (0, 1], not {share}"
            )));
        }
        if let Some(share) = self.dense_cooldown
            && !(share >= 0.0 && share.is_finite())
        {
            return Err(BudgetError::InvalidPolicy(format!(
                "the dense training's cool-down must be a finite share of j* ≥ 0, not {share}"
            )));
        }
        if self.final_share > 0.0 {
            let input = ctx.input();
            // The dense training's length: j* (its plateau, or the exploring share while
            // the plateau is unknown), plus the cool-down once j* is known.
            let dense = match (input.dense_convergence, self.dense_cooldown) {
                (Some(_), Some(share)) if input.rounds_done == 0 => {
                    j_star.saturating_add((share * j_star as f64) as u64)
                }
                _ => j_star,
            };
            let ranking = ((self.ranking_share.unwrap_or(1.0) * j_star as f64) as u64).clamp(
                ctx.input().min_iterations,
                j_star.max(ctx.input().min_iterations),
            );
            let cap = self.final_cap.map(|cap| capped(ctx, j_star, cap));
            return Ok(final_heavy(
                ctx,
                shape,
                dense,
                ranking,
                gentle,
                self.final_share,
                cap,
            ));
        }
        let Some(rounds) =
            largest_where(1, u64::from(gentle), |r| shape.fits(ctx, r as u32, j_star))
        else {
            let j_min = ctx.input().min_iterations;
            let j = largest_where(j_min, j_star, |j| shape.fits(ctx, 1, j));
            return Ok(j.map(|j| shape.schedule(ctx, 1, j)));
        };
        let rounds = rounds as u32;
        let limit = (rounds < gentle).then(|| shape.total(ctx, rounds + 1, j_star));
        let j = shape.longest(ctx, rounds, |j| {
            limit.is_none_or(|l| shape.total(ctx, rounds, j) <= l)
        });
        Ok(Some(shape.schedule(ctx, rounds, j)))
    }
}

/// The final training's limit: the time `cap` × j* dense iterations took, in iterations
/// of the current step. Where a sparser round's step is cheaper (sparse products) the
/// time the cheaper steps free goes into the final training instead of ending the run
/// early; a limit in iterations alone would hand that time back unused.
fn capped(ctx: &PlanContext<'_>, j_star: u64, cap: f64) -> u64 {
    ctx.in_dense_time((cap * j_star as f64) as u64)
}

/// The schedule `[current, r × (R − 1), F]` with ranking trainings of r iterations, the
/// final training F ≥ max(j*, share × the iterations that fit), the most rounds R ≤
/// `gentle` that fit, and F stretched to fill the time; one round with F ≥ j* if the
/// share does not fit even then; `None` if not even that fits. With a `cap` on F, the
/// ranking trainings are lengthened (up to j*) into the time the cap frees.
fn final_heavy(
    ctx: &PlanContext<'_>,
    shape: Shape,
    dense: u64,
    ranking: u64,
    gentle: u32,
    share: f64,
    cap: Option<u64>,
) -> Option<Vec<u64>> {
    let j_star = shape.j_star;
    let bound = ctx.iteration_bound();
    let ceiling = cap.unwrap_or(u64::MAX).min(ctx.training_cap()).max(j_star);
    let reserved = ((share * bound as f64) as u64).max(j_star).min(ceiling);
    let schedule = |rounds: u32, ranking: u64, last: u64| {
        // The dense training is never a ranking training: it runs to its plateau (and
        // its cool-down).
        let first = if ctx.input().rounds_done == 0 {
            ctx.more_to_reach(dense)
        } else {
            shape.first(ctx, ranking)
        };
        let mut v = PlanContext::uniform(first, rounds - 1, ranking);
        v.push(last);
        v
    };
    // If even one round cannot leave the reserved share to the final training (the
    // current training is long), one round with the longest final training that fits.
    let rounds = largest_where(1, u64::from(gentle), |r| {
        ctx.fits(&schedule(r as u32, ranking, reserved))
    })
    .or_else(|| ctx.fits(&schedule(1, ranking, j_star)).then_some(1))? as u32;
    let hi = ceiling.min(bound).max(reserved);
    // The longest final training that fits: at least the share when the share decided
    // the rounds, at least j* when the fallback did.
    let last = largest_where(j_star, hi, |f| ctx.fits(&schedule(rounds, ranking, f)))?;
    let ranking = match cap {
        Some(_) => largest_where(ranking, j_star.max(ranking), |r| {
            ctx.fits(&schedule(rounds, r, last))
        })
        .unwrap_or(ranking),
        None => ranking,
    };
    Some(schedule(rounds, ranking, last))
}

/// Training lengths shared by the convergence-based policies.
#[derive(Debug, Clone, Copy)]
pub(super) struct Shape {
    /// Target length of a training: dense convergence (or j_min), clamped
    /// to [j_min, cap].
    pub(super) j_star: u64,
    /// Whether the current training takes the uniform length j (false only
    /// for the dense training once its convergence is known: it stays at
    /// j*).
    uniform_current: bool,
}

impl Shape {
    /// j* = the dense convergence, or `j_min` while it is unknown.
    pub(super) fn of(ctx: &PlanContext<'_>) -> Self {
        Self::with_unknown(ctx, ctx.input().min_iterations)
    }

    /// As [`Shape::of`], but while the dense convergence is unknown the dense
    /// training gets the share of a short run: EXPLORE_ROUNDS + 1 equal trainings.
    fn exploring(ctx: &PlanContext<'_>) -> Self {
        let input = ctx.input();
        let j_min = input.min_iterations;
        if input.rounds_done > 0 || input.dense_convergence.is_some() {
            return Self::of(ctx);
        }
        let hi = ctx.training_cap().min(ctx.iteration_bound()).max(j_min);
        let share = largest_where(j_min, hi, |j| {
            ctx.fits_uniform(ctx.more_to_reach(j), EXPLORE_ROUNDS, j)
        })
        .unwrap_or(j_min);
        Self::with_unknown(ctx, share)
    }

    fn with_unknown(ctx: &PlanContext<'_>, unknown: u64) -> Self {
        let input = ctx.input();
        let j_min = input.min_iterations;
        let j_star = input
            .dense_convergence
            .unwrap_or(unknown)
            .max(j_min)
            .min(ctx.training_cap());
        Self {
            j_star,
            uniform_current: !(input.rounds_done == 0 && input.dense_convergence.is_some()),
        }
    }

    /// More iterations for the current training when later ones have `j`.
    pub(super) fn first(&self, ctx: &PlanContext<'_>, j: u64) -> u64 {
        ctx.more_to_reach(if self.uniform_current { j } else { self.j_star })
    }

    pub(super) fn fits(&self, ctx: &PlanContext<'_>, rounds: u32, j: u64) -> bool {
        ctx.fits_uniform(self.first(ctx, j), rounds, j)
    }

    pub(super) fn total(&self, ctx: &PlanContext<'_>, rounds: u32, j: u64) -> u128 {
        u128::from(self.first(ctx, j)) + u128::from(rounds) * u128::from(j)
    }

    pub(super) fn schedule(&self, ctx: &PlanContext<'_>, rounds: u32, j: u64) -> Vec<u64> {
        PlanContext::uniform(self.first(ctx, j), rounds, j)
    }

    /// The longest j ≥ j* that fits with `rounds` rounds and satisfies
    /// `extra`; j* itself if nothing longer does.
    pub(super) fn longest(
        &self,
        ctx: &PlanContext<'_>,
        rounds: u32,
        extra: impl Fn(u64) -> bool,
    ) -> u64 {
        let hi = ctx
            .training_cap()
            .min(ctx.iteration_bound())
            .max(self.j_star);
        largest_where(self.j_star, hi, |j| self.fits(ctx, rounds, j) && extra(j))
            .unwrap_or(self.j_star)
    }
}
