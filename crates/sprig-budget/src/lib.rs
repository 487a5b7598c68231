//! Wall-clock budget planning for Sprig's lottery-ticket search.
//!
//! Iterative magnitude pruning (IMP) trains a network, prunes the smallest
//! surviving weights, rewinds the survivors to their initial values and
//! repeats. Sprig runs it within a budget T the user sets, end to end. This
//! crate decides how: pure logic, no IO, no training backend.
//!
//! * [`IterationProfiler`] measures time per iteration robustly (warm-up
//!   skipped, median of a recent window) plus the cost of an evaluation and
//!   of a prune+rewind, giving a [`CostModel`].
//! * [`plan`] / [`plan_with`] turn the time left into R pruning rounds, the
//!   iterations of each training and the per-round rate
//!   p = 1 − ((1 − s*)/(1 − s))^(1/R), never planning past T − reserve.
//!   Who chooses R is a swappable [`RoundPolicy`]: the default
//!   [`ConvergencePolicy`] (trainings as long as the dense one needed,
//!   rounds up to a gentle 20 % rate, spare time into longer trainings),
//!   [`FixedRounds`] (e.g. one-shot) or [`MaxRounds`].
//! * [`Replanner`] keeps the run's progress and re-plans after every round
//!   from the actual elapsed time and fresh costs, so a machine that slows
//!   down gets fewer or shorter rounds at a larger rate while the deadline
//!   and s* still hold; when not even one round fits it plans a straight
//!   prune to s*, or says to finalise.
//! * [`Deadline`] gates every step: it may start only if it is expected to
//!   end by T − reserve, so a run ends at most one iteration past T.
//! * [`minimum_budget`] names the smallest workable budget;
//!   [`PlateauDetector`] finds the dense training's convergence.
//! * [`Race`] times a few steps on each candidate backend and names the
//!   fastest (`--backend auto`).
//! * [`Clock`] abstracts time: [`RealClock`] in production, [`FakeClock`]
//!   in tests and simulations.
//!
//! Every fallible function returns [`BudgetError`] instead of panicking;
//! plans, inputs and costs are `serde` (de)serialisable so the engine can
//! save the plan as executed ([`Replanner::history`]).
//!
//! # Example
//!
//! A plain loop — no training, the "work" is advancing a fake clock:
//!
//! ```
//! use std::time::Duration;
//! use sprig_budget::{
//!     Clock, ConvergencePolicy, CostModel, Deadline, FakeClock, PlanKind, Replanner, RunConfig,
//! };
//!
//! # fn main() -> Result<(), sprig_budget::BudgetError> {
//! let ms = Duration::from_millis;
//! let costs = CostModel::new(ms(2), ms(30), ms(10)); // as a profiler would measure them
//! let reserve = costs.reserve_with_save(ms(20)); // final evaluation + save
//! let config = RunConfig::new(Duration::from_secs(20), 0.9, 50, reserve);
//! let clock = FakeClock::new();
//! let deadline = Deadline::new(clock.clone(), config.budget, reserve);
//! let mut run = Replanner::new(config, ConvergencePolicy::default())?;
//!
//! let mut plan = run.plan(clock.now(), costs)?;
//! // The dense training's convergence is not known yet: it gets the share of a
//! // short run of `EXPLORE_ROUNDS` (2) rounds, so 2 rounds at rate 1 − 0.1^(1/2).
//! assert_eq!((plan.kind, plan.rounds), (PlanKind::Regular, 2));
//! loop {
//!     for _ in 0..plan.trainings[0] {
//!         if !deadline.may_start_iteration(costs.iteration) {
//!             break;
//!         }
//!         clock.advance(costs.iteration); // one training iteration
//!         run.record_iterations(1);
//!     }
//!     clock.advance(costs.evaluation); // score this ticket
//!     let Some(sparsity) = plan.next_sparsity() else { break }; // final ticket trained
//!     clock.advance(costs.prune_rewind); // prune to `sparsity`, rewind
//!     run.record_prune(sparsity)?;
//!     plan = run.plan(clock.now(), costs)?;
//!     if plan.is_finalise() {
//!         break;
//!     }
//! }
//! clock.advance(reserve); // final evaluation and save
//! assert_eq!(run.progress().current_sparsity, 0.9);
//! assert!(clock.now() <= Duration::from_secs(20));
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

// Compile and run the README's example too.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

mod clock;
mod cost;
mod deadline;
mod error;
mod plan;
mod plateau;
mod policy;
mod profile;
mod race;
mod replan;
mod stop;

pub use clock::{Clock, FakeClock, RealClock};
pub use cost::{CostModel, EvalSchedule, check_budget, minimum_budget};
pub use deadline::Deadline;
pub use error::BudgetError;
pub use plan::{
    DEFAULT_SPARSITY_TOLERANCE, MAX_ROUNDS, Plan, PlanInput, PlanKind, plan, plan_with,
};
pub use plateau::PlateauDetector;
pub use policy::{
    BuiltinPolicy, ConvergencePolicy, EXPLORE_ROUNDS, FixedRounds, MaxRounds, PlanContext,
    RankingStop, RoundPolicy, largest_where,
};
pub use profile::{Estimator, IterationProfiler, ProfilerConfig};
pub use race::{Lap, Race, RaceConfig, RaceResult};
pub use replan::{PlanRecord, Progress, Replanner, RunConfig};
pub use stop::StopReason;
