//! Re-planning state: what the planner needs to remember between rounds.
//!
//! [`plan`](crate::plan) is a pure function of a [`PlanInput`]; a run has to
//! keep the parts that change (rounds done, sparsity reached, iterations in
//! the current training, dense convergence) and the parts that do not (the
//! budget, s*, j_min, …). [`Replanner`] keeps both, builds the input for
//! each re-plan, and records every plan with the input it came from, so the
//! engine can save the plan as executed.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::plan::DEFAULT_SPARSITY_TOLERANCE;
use crate::{
    BudgetError, ConvergencePolicy, CostModel, EvalSchedule, Plan, PlanInput, RoundPolicy,
    plan_with,
};

/// The fixed settings of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunConfig {
    /// The wall-clock budget T, end to end.
    pub budget: Duration,
    /// Target sparsity s*, in `[0, 1)`.
    pub target_sparsity: f64,
    /// j_min: minimum iterations per training.
    pub min_iterations: u64,
    /// Time kept at the end for the final evaluation and save.
    pub reserve: Duration,
    /// Optional cap on the iterations of any one training.
    pub max_iterations_per_training: Option<u64>,
    /// Which evaluations trainings are charged for.
    pub eval: EvalSchedule,
    /// See [`PlanInput::sparsity_tolerance`].
    pub sparsity_tolerance: f64,
}

impl RunConfig {
    /// Settings with no cap, one evaluation per training and the default
    /// sparsity tolerance.
    pub fn new(
        budget: Duration,
        target_sparsity: f64,
        min_iterations: u64,
        reserve: Duration,
    ) -> Self {
        Self {
            budget,
            target_sparsity,
            min_iterations,
            reserve,
            max_iterations_per_training: None,
            eval: EvalSchedule::EndOfTraining,
            sparsity_tolerance: DEFAULT_SPARSITY_TOLERANCE,
        }
    }
}

/// Where the run stands.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Progress {
    /// Prunes done; the current training is number `rounds_done`.
    pub rounds_done: u32,
    /// Sparsity actually reached by the last prune (0 before the first).
    pub current_sparsity: f64,
    /// Iterations done in the current training.
    pub iterations_done: u64,
    /// Iterations the dense training needed to converge, once known.
    pub dense_convergence: Option<u64>,
    /// The dense training's iteration cost, as the last plan made during it measured it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_iteration: Option<Duration>,
}

/// One plan and the input it was made from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanRecord {
    /// What the planner was told.
    pub input: PlanInput,
    /// What it answered.
    pub plan: Plan,
}

/// Keeps a run's progress and re-plans it on demand.
///
/// The engine tells it what happened ([`record_iterations`](Self::record_iterations),
/// [`record_convergence`](Self::record_convergence),
/// [`record_prune`](Self::record_prune)) and asks for a fresh plan with the
/// actual elapsed time and fresh costs ([`plan`](Self::plan)) at the start
/// and after every round.
#[derive(Debug, Clone)]
pub struct Replanner<P = ConvergencePolicy> {
    config: RunConfig,
    policy: P,
    progress: Progress,
    history: Vec<PlanRecord>,
}

impl<P: RoundPolicy> Replanner<P> {
    /// A re-planner for a run that has not started. Errors on an invalid
    /// target sparsity, zero `j_min`, a cap below `j_min`, `Every(0)`
    /// evaluations or a bad tolerance.
    pub fn new(config: RunConfig, policy: P) -> Result<Self, BudgetError> {
        let replanner = Self {
            config,
            policy,
            progress: Progress::default(),
            history: Vec::new(),
        };
        // Validate everything but the costs, which are not known yet.
        let placeholder = CostModel::new(Duration::from_nanos(1), Duration::ZERO, Duration::ZERO);
        replanner.input(Duration::ZERO, placeholder).validate()?;
        Ok(replanner)
    }

    /// A re-planner for a run resumed from a checkpoint: the settings, progress and plan
    /// history it had when the checkpoint was taken. Validated as [`new`](Self::new), and
    /// the progress must be possible (sparsity in `[0, 1)`).
    pub fn resume(
        config: RunConfig,
        policy: P,
        progress: Progress,
        history: Vec<PlanRecord>,
    ) -> Result<Self, BudgetError> {
        let mut replanner = Self::new(config, policy)?;
        if !(0.0..1.0).contains(&progress.current_sparsity) {
            return Err(BudgetError::InvalidCurrentSparsity(
                progress.current_sparsity,
            ));
        }
        replanner.progress = progress;
        replanner.history = history;
        Ok(replanner)
    }

    /// The fixed settings.
    pub fn config(&self) -> &RunConfig {
        &self.config
    }

    /// The policy in use.
    pub fn policy(&self) -> &P {
        &self.policy
    }

    /// Where the run stands.
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Every plan made so far, oldest first, with its input.
    pub fn history(&self) -> &[PlanRecord] {
        &self.history
    }

    /// The latest plan, if any.
    pub fn last_plan(&self) -> Option<&Plan> {
        self.history.last().map(|r| &r.plan)
    }

    /// The history, for saving with the result.
    pub fn into_history(self) -> Vec<PlanRecord> {
        self.history
    }

    /// The planner input for the current progress at `elapsed` with `costs`.
    pub fn input(&self, elapsed: Duration, costs: CostModel) -> PlanInput {
        PlanInput {
            budget: self.config.budget,
            elapsed,
            costs,
            target_sparsity: self.config.target_sparsity,
            current_sparsity: self.progress.current_sparsity,
            rounds_done: self.progress.rounds_done,
            iterations_done: self.progress.iterations_done,
            min_iterations: self.config.min_iterations,
            reserve: self.config.reserve,
            dense_convergence: self.progress.dense_convergence,
            dense_iteration: self.progress.dense_iteration,
            max_iterations_per_training: self.config.max_iterations_per_training,
            eval: self.config.eval,
            sparsity_tolerance: self.config.sparsity_tolerance,
        }
    }

    /// Plans the rest of the run from the current progress, the actual
    /// `elapsed` time and fresh `costs`, and records the plan.
    pub fn plan(&mut self, elapsed: Duration, costs: CostModel) -> Result<Plan, BudgetError> {
        if self.progress.rounds_done == 0 {
            self.progress.dense_iteration = Some(costs.iteration);
        }
        let input = self.input(elapsed, costs);
        let plan = plan_with(&input, &self.policy)?;
        self.history.push(PlanRecord {
            input,
            plan: plan.clone(),
        });
        Ok(plan)
    }

    /// Counts `n` more iterations of the current training.
    pub fn record_iterations(&mut self, n: u64) {
        self.progress.iterations_done = self.progress.iterations_done.saturating_add(n);
    }

    /// Records how many iterations the dense training needed to converge
    /// (its plateau, or the cap it hit without one). Only meaningful during
    /// the dense training: ignored after the first prune.
    pub fn record_convergence(&mut self, iterations: u64) {
        if self.progress.rounds_done == 0 {
            self.progress.dense_convergence = Some(iterations);
        }
    }

    /// Records a prune + rewind that reached `sparsity`: one more round
    /// done, a new training starts at 0 iterations. Errors (and changes
    /// nothing) if `sparsity` is NaN or outside `[0, 1)`.
    pub fn record_prune(&mut self, sparsity: f64) -> Result<(), BudgetError> {
        if !(0.0..1.0).contains(&sparsity) {
            return Err(BudgetError::InvalidCurrentSparsity(sparsity));
        }
        self.progress.rounds_done = self.progress.rounds_done.saturating_add(1);
        self.progress.current_sparsity = sparsity;
        self.progress.iterations_done = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PlanKind;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn a_resumed_replanner_continues_where_the_checkpoint_was() {
        let config = RunConfig::new(Duration::from_secs(10), 0.5, 100, ms(50));
        let mut r = Replanner::new(config.clone(), ConvergencePolicy::default()).unwrap();
        let costs = CostModel::new(ms(1), ms(10), ms(20));
        r.record_iterations(400);
        r.record_convergence(400);
        r.plan(ms(500), costs).unwrap();
        r.record_prune(0.2).unwrap();
        let (progress, history) = (*r.progress(), r.history().to_vec());
        let mut resumed = Replanner::resume(
            config.clone(),
            ConvergencePolicy::default(),
            progress,
            history,
        )
        .unwrap();
        assert_eq!(resumed.progress(), r.progress());
        assert_eq!(
            resumed.plan(ms(900), costs).unwrap(),
            r.plan(ms(900), costs).unwrap()
        );
        assert_eq!(resumed.history().len(), 2);
        let impossible = Progress {
            current_sparsity: 1.0,
            ..progress
        };
        assert!(
            Replanner::resume(config, ConvergencePolicy::default(), impossible, Vec::new())
                .is_err()
        );
    }

    #[test]
    fn tracks_progress_and_history() {
        let config = RunConfig::new(Duration::from_secs(10), 0.5, 100, ms(50));
        let mut r = Replanner::new(config, ConvergencePolicy::default()).unwrap();
        let costs = CostModel::new(ms(1), ms(10), ms(20));
        r.record_iterations(15);
        let p = r.plan(ms(60), costs).unwrap();
        assert_eq!(p.kind, PlanKind::Regular);
        // Dense convergence unknown: the dense training gets a short run's share.
        assert_eq!(p.rounds, crate::EXPLORE_ROUNDS);
        r.record_iterations(p.trainings[0]);
        r.record_convergence(400);
        r.record_prune(0.2).unwrap();
        assert!(r.record_prune(f64::NAN).is_err());
        r.record_convergence(7);
        assert_eq!(
            *r.progress(),
            Progress {
                rounds_done: 1,
                current_sparsity: 0.2,
                iterations_done: 0,
                dense_convergence: Some(400),
                // The step the plans during the dense training were made with.
                dense_iteration: Some(ms(1)),
            }
        );
        let p2 = r.plan(Duration::from_secs(3), costs).unwrap();
        assert_eq!(r.history().len(), 2);
        assert_eq!(r.last_plan(), Some(&p2));
        assert_eq!(r.history()[1].input.rounds_done, 1);
        assert_eq!(r.into_history().len(), 2);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        let ok = RunConfig::new(Duration::from_secs(1), 0.5, 10, ms(1));
        assert!(Replanner::new(ok.clone(), ConvergencePolicy::default()).is_ok());
        for bad in [
            RunConfig {
                target_sparsity: 1.0,
                ..ok.clone()
            },
            RunConfig {
                min_iterations: 0,
                ..ok.clone()
            },
            RunConfig {
                max_iterations_per_training: Some(5),
                ..ok.clone()
            },
            RunConfig {
                eval: EvalSchedule::Every(0),
                ..ok.clone()
            },
            RunConfig {
                sparsity_tolerance: f64::NAN,
                ..ok.clone()
            },
        ] {
            assert!(Replanner::new(bad, ConvergencePolicy::default()).is_err());
        }
    }
}
