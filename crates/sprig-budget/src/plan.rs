//! The planner: from where the run stands to a schedule for the rest of it.
//!
//! A run is a chain of trainings and prunes:
//!
//! ```text
//! training 0 (dense) → prune 1 → training 1 → prune 2 → … → prune R → training R (final ticket)
//! ```
//!
//! [`plan`] is called at the start (after profiling) and again after every
//! round with the actual elapsed time, fresh costs and the sparsity actually
//! reached. It asks a [`RoundPolicy`] for the schedule it prefers, checks it,
//! and falls back to smaller schedules when time is short, so that the
//! expected finish never passes T − reserve and a completed plan always
//! ends at s*.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sprig_mask::rate::{per_round_rate_from, sparsity_schedule};

use crate::cost::{duration, nanos};
use crate::policy::{PlanContext, RoundPolicy, largest_where};
use crate::{BudgetError, ConvergencePolicy, CostModel, EvalSchedule};

/// The most pruning rounds a plan may have. Far beyond useful (a gentle
/// 20 % rate reaches 99.9999 % sparsity in 62 rounds); it bounds the size of
/// plans and the planner's work.
pub const MAX_ROUNDS: u32 = 1000;

/// Default of [`PlanInput::sparsity_tolerance`].
pub const DEFAULT_SPARSITY_TOLERANCE: f64 = 1e-6;

/// Where the run stands, and the rules its plan must follow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanInput {
    /// The wall-clock budget T for the whole run, end to end.
    pub budget: Duration,
    /// Time since the start of the run (the origin of the budget).
    pub elapsed: Duration,
    /// Current cost estimates.
    pub costs: CostModel,
    /// Target sparsity s*, in `[0, 1)`.
    pub target_sparsity: f64,
    /// Sparsity reached so far (0 before the first prune), in `[0, 1)`.
    pub current_sparsity: f64,
    /// Prunes done so far; the current training is training number
    /// `rounds_done` (0 = the dense training).
    pub rounds_done: u32,
    /// Iterations already done in the current training (for the dense
    /// training this includes the profiling iterations).
    pub iterations_done: u64,
    /// j_min: minimum iterations per training, at least 1.
    pub min_iterations: u64,
    /// Time kept free at the end for the final evaluation and saving.
    /// Plans finish by T − reserve.
    pub reserve: Duration,
    /// Iterations the dense training needed to converge, once known.
    pub dense_convergence: Option<u64>,
    /// What one iteration of the dense training cost, once timed: a policy may give a
    /// training the time a number of dense iterations took, which buys more iterations
    /// where a sparser round's step is cheaper (sparse products).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_iteration: Option<Duration>,
    /// Optional cap on the iterations of any one training (≥ `min_iterations`).
    pub max_iterations_per_training: Option<u64>,
    /// Which evaluations trainings are charged for.
    pub eval: EvalSchedule,
    /// The target counts as reached when `current_sparsity ≥ s* − tolerance`.
    /// Masks prune whole weights, so the sparsity reached is a multiple of
    /// 1/N for N prunable weights; set the tolerance to about 1/N so a
    /// rounding shortfall does not trigger an extra round.
    pub sparsity_tolerance: f64,
}

impl PlanInput {
    /// An input for the start of a run: nothing elapsed, dense, no prune
    /// done, no reserve, no cap, convergence unknown, one evaluation per
    /// training, default tolerance. Set the other fields with struct-update
    /// syntax.
    pub fn new(
        budget: Duration,
        costs: CostModel,
        target_sparsity: f64,
        min_iterations: u64,
    ) -> Self {
        Self {
            budget,
            elapsed: Duration::ZERO,
            costs,
            target_sparsity,
            current_sparsity: 0.0,
            rounds_done: 0,
            iterations_done: 0,
            min_iterations,
            reserve: Duration::ZERO,
            dense_convergence: None,
            dense_iteration: None,
            max_iterations_per_training: None,
            eval: EvalSchedule::EndOfTraining,
            sparsity_tolerance: DEFAULT_SPARSITY_TOLERANCE,
        }
    }

    /// T − reserve: the time by which all planned work must be done.
    pub fn cutoff(&self) -> Duration {
        self.budget.saturating_sub(self.reserve)
    }

    /// Time left for planned work: T − reserve − elapsed (0 if past).
    pub fn available(&self) -> Duration {
        self.cutoff().saturating_sub(self.elapsed)
    }

    /// Whether s* is reached within the tolerance: no more prunes needed.
    pub fn target_reached(&self) -> bool {
        self.current_sparsity >= self.target_sparsity - self.sparsity_tolerance
    }

    /// Checks every field; the planner does this first.
    pub fn validate(&self) -> Result<(), BudgetError> {
        if !(0.0..1.0).contains(&self.target_sparsity) {
            return Err(BudgetError::InvalidTargetSparsity(self.target_sparsity));
        }
        if !(0.0..1.0).contains(&self.current_sparsity) {
            return Err(BudgetError::InvalidCurrentSparsity(self.current_sparsity));
        }
        if !(0.0..1.0).contains(&self.sparsity_tolerance) {
            return Err(BudgetError::InvalidTolerance(self.sparsity_tolerance));
        }
        if self.costs.iteration.is_zero() {
            return Err(BudgetError::ZeroIterationCost);
        }
        if self.min_iterations == 0 {
            return Err(BudgetError::ZeroMinIterations);
        }
        if let Some(cap) = self.max_iterations_per_training
            && cap < self.min_iterations
        {
            return Err(BudgetError::CapBelowMinimum {
                cap,
                min: self.min_iterations,
            });
        }
        if self.eval == EvalSchedule::Every(0) {
            return Err(BudgetError::ZeroEvalInterval);
        }
        Ok(())
    }
}

/// What kind of plan the planner could make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PlanKind {
    /// Every remaining training reaches `j_min` iterations (the current
    /// one counting `iterations_done`).
    Regular,
    /// Not even one more round with `j_min` trainings fits (only after the
    /// first prune). The current training ends now (`trainings[0] == 0`),
    /// the next prune goes straight to s*, and the final ticket trains for
    /// what is left (possibly fewer than `j_min` iterations). If s* is
    /// already reached, the final ticket just trains for what is left.
    ///
    /// "Prune now" scores the most recently *trained* weights. When the
    /// plan was made right after a rewind (`iterations_done == 0`), those
    /// are the weights from before that rewind: keep them (or their
    /// scores) until the new training has trained, or re-plan only when a
    /// training ends.
    Squeezed,
    /// Nothing more fits: stop now and finalise the best valid ticket so far.
    Finalise,
}

/// The schedule for the rest of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Regular, squeezed or finalise.
    pub kind: PlanKind,
    /// R: prunes still to do.
    pub rounds: u32,
    /// Iterations of each remaining training; `rounds + 1` entries.
    ///
    /// `trainings[0]` is how many **more** iterations the *current*
    /// training (training number `rounds_done`, whose `iterations_done`
    /// iterations are already done) should run; 0 means it ends now and the
    /// next step is a prune (or, with `rounds == 0`, finalising).
    /// `trainings[i]` for `i ≥ 1` is the full length of the training that
    /// follows the i-th remaining prune; the last entry trains the final
    /// ticket.
    pub trainings: Vec<u64>,
    /// Per-round rate p: the fraction of still-alive weights each remaining
    /// prune removes, 1 − ((1 − s*)/(1 − s_cur))^(1/R); 0 when R = 0.
    pub rate: f64,
    /// Cumulative sparsity to reach with each remaining prune; `rounds`
    /// entries, the last one exactly s*.
    pub sparsity_after_round: Vec<f64>,
    /// Sparsity of the final ticket if the plan runs to completion: s*, or
    /// the current sparsity when no prune is left.
    pub final_sparsity: f64,
    /// When the plan is expected to finish, measured from the start of the
    /// run, without the reserve. Never after `cutoff`, except for a
    /// [`PlanKind::Finalise`] plan made after a step overran the cutoff: that
    /// plan adds nothing and its expected finish is simply `elapsed`.
    pub expected_finish: Duration,
    /// T − reserve.
    pub cutoff: Duration,
}

impl Plan {
    /// Iterations the plan still trains, over all remaining trainings.
    pub fn total_iterations(&self) -> u64 {
        self.trainings.iter().fold(0, |a, &b| a.saturating_add(b))
    }

    /// Whether the engine should stop and finalise the best ticket it has.
    pub fn is_finalise(&self) -> bool {
        self.kind == PlanKind::Finalise
    }

    /// Sparsity the next prune should reach, if a prune is left.
    pub fn next_sparsity(&self) -> Option<f64> {
        self.sparsity_after_round.first().copied()
    }
}

/// Plans the rest of the run with the default [`ConvergencePolicy`].
///
/// See [`plan_with`].
pub fn plan(input: &PlanInput) -> Result<Plan, BudgetError> {
    plan_with(input, &ConvergencePolicy::default())
}

/// Plans the rest of the run with the given round policy.
///
/// 1. Validates the input (bad sparsities, zero iteration cost, NaN, … are
///    errors).
/// 2. Asks the policy for a schedule and checks it against the rules: it
///    fits before T − reserve, has R ≥ 1 rounds while s* is not reached
///    (R = 0 once it is), at most [`MAX_ROUNDS`], every training reaches
///    `j_min` and respects the cap. A schedule that breaks them is
///    [`BudgetError::InvalidSchedule`].
/// 3. If the policy finds nothing, tries the minimal regular schedule: the
///    current training up to `j_min`, then one prune to s* and a final
///    training of `j_min` (or, with s* reached, just the current training up
///    to `j_min`).
/// 4. If that does not fit either:
///    * before the first prune (`rounds_done == 0`) the budget is too small:
///      [`BudgetError::BudgetTooSmall`] with the smallest budget under which
///      that minimal schedule would have fitted;
///    * after it, a [`PlanKind::Squeezed`] plan that prunes straight to s*
///      now and trains the final ticket with what is left (never more
///      iterations than the minimal regular schedule, so more time never
///      means fewer iterations), or [`PlanKind::Finalise`] if not even one
///      iteration fits.
pub fn plan_with<P: RoundPolicy + ?Sized>(
    input: &PlanInput,
    policy: &P,
) -> Result<Plan, BudgetError> {
    input.validate()?;
    let ctx = PlanContext::new(input);

    if let Some(trainings) = policy.choose(&ctx)? {
        check_schedule(&ctx, &trainings)?;
        return Ok(build(&ctx, PlanKind::Regular, trainings));
    }

    let minimal = ctx.minimal_schedule();
    if ctx.fits(&minimal) {
        return Ok(build(&ctx, PlanKind::Regular, minimal));
    }
    if input.rounds_done == 0 {
        let needed = nanos(input.elapsed)
            .saturating_add(nanos(ctx.cost(&minimal)))
            .saturating_add(nanos(input.reserve));
        return Err(BudgetError::BudgetTooSmall {
            budget: input.budget,
            minimum: duration(needed),
        });
    }
    Ok(squeezed(&ctx, &minimal))
}

/// The squeezed or finalise plan, once not even the minimal regular
/// schedule fits.
fn squeezed(ctx: &PlanContext<'_>, minimal: &[u64]) -> Plan {
    let limit = minimal
        .iter()
        .fold(0u64, |a, &b| a.saturating_add(b))
        .min(ctx.training_cap())
        .min(ctx.iteration_bound());
    let input = ctx.input();
    let schedule = if ctx.target_reached() {
        // Train the final ticket a little longer, up to what is left.
        let limit = limit.min(ctx.training_cap().saturating_sub(input.iterations_done));
        largest_where(1, limit, |y| ctx.fits(&[y])).map(|y| vec![y])
    } else {
        largest_where(1, limit, |y| ctx.fits(&[0, y])).map(|y| vec![0, y])
    };
    match schedule {
        Some(trainings) => build(ctx, PlanKind::Squeezed, trainings),
        None => Plan {
            kind: PlanKind::Finalise,
            rounds: 0,
            trainings: vec![0],
            rate: 0.0,
            sparsity_after_round: Vec::new(),
            final_sparsity: input.current_sparsity,
            expected_finish: input.elapsed,
            cutoff: input.cutoff(),
        },
    }
}

fn build(ctx: &PlanContext<'_>, kind: PlanKind, trainings: Vec<u64>) -> Plan {
    let input = ctx.input();
    let rounds = u32::try_from(trainings.len().saturating_sub(1)).unwrap_or(u32::MAX);
    let (s, target) = (input.current_sparsity, input.target_sparsity);
    let expected = nanos(input.elapsed).saturating_add(nanos(ctx.cost(&trainings)));
    Plan {
        kind,
        rounds,
        rate: per_round_rate_from(s, target, rounds),
        sparsity_after_round: sparsity_schedule(s, target, rounds),
        final_sparsity: if rounds == 0 { s } else { target },
        trainings,
        expected_finish: duration(expected),
        cutoff: input.cutoff(),
    }
}

/// Enforces the planner's rules on a policy's schedule.
fn check_schedule(ctx: &PlanContext<'_>, trainings: &[u64]) -> Result<(), BudgetError> {
    let bad = |msg: String| Err(BudgetError::InvalidSchedule(msg));
    let input = ctx.input();
    let Some((&first, later)) = trainings.split_first() else {
        return bad("no trainings (need the current one at least)".into());
    };
    let rounds = later.len();
    if rounds > MAX_ROUNDS as usize {
        return bad(format!("{rounds} rounds, more than {MAX_ROUNDS}"));
    }
    if ctx.target_reached() && rounds != 0 {
        return bad(format!("{rounds} rounds although the target is reached"));
    }
    if !ctx.target_reached() && rounds == 0 {
        return bad("no round although the target is not reached".into());
    }
    let (j_min, cap) = (input.min_iterations, ctx.training_cap());
    let current_total = input.iterations_done.saturating_add(first);
    if current_total < j_min {
        return bad(format!(
            "current training ends at {current_total} iterations, below j_min = {j_min}"
        ));
    }
    if first > 0 && current_total > cap {
        return bad(format!(
            "current training runs to {current_total} iterations, above the cap {cap}"
        ));
    }
    if let Some(j) = later.iter().find(|&&j| j < j_min || j > cap) {
        return bad(format!(
            "a training of {j} iterations, outside [{j_min}, {cap}]"
        ));
    }
    if !ctx.fits(trainings) {
        return bad(format!(
            "needs {:?} but only {:?} are left",
            ctx.cost(trainings),
            ctx.available()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn input() -> PlanInput {
        PlanInput::new(
            Duration::from_secs(10),
            CostModel::new(ms(1), ms(10), ms(20)),
            0.9,
            100,
        )
    }

    #[derive(Debug)]
    struct Broken(Vec<u64>);
    impl RoundPolicy for Broken {
        fn choose(&self, _: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
            Ok(Some(self.0.clone()))
        }
    }

    #[test]
    fn broken_policies_are_caught() {
        let i = input();
        for s in [
            vec![],
            vec![100],
            vec![50, 100],
            vec![100, 50],
            vec![100, 1_000_000],
        ] {
            let r = plan_with(&i, &Broken(s.clone()));
            assert!(
                matches!(r, Err(BudgetError::InvalidSchedule(_))),
                "{s:?}: {r:?}"
            );
        }
        assert!(plan_with(&i, &Broken(vec![100, 100])).is_ok());
    }

    #[test]
    fn squeezed_then_finalise_after_first_prune() {
        let mut i = input();
        i.rounds_done = 1;
        i.current_sparsity = 0.5;
        // Minimal regular: 100 + 10 + 20 + 100 + 10 = 240 ms. Give 200 ms.
        i.elapsed = i.budget - ms(200);
        let p = plan(&i).unwrap();
        assert_eq!(p.kind, PlanKind::Squeezed);
        assert_eq!(p.trainings, vec![0, 170]);
        assert_eq!(p.sparsity_after_round, vec![0.9]);
        assert!(p.expected_finish <= p.cutoff);
        i.elapsed = i.budget - ms(30);
        let p = plan(&i).unwrap();
        assert!(p.is_finalise());
        assert_eq!(p.final_sparsity, 0.5);
        assert_eq!(p.expected_finish, i.elapsed);
    }

    #[test]
    fn too_small_before_first_prune() {
        let mut i = input();
        i.budget = ms(200);
        let e = plan(&i).unwrap_err();
        assert_eq!(
            e,
            BudgetError::BudgetTooSmall {
                budget: ms(200),
                minimum: ms(240)
            }
        );
    }
}
