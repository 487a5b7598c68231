//! Time-budgeted iterative magnitude pruning: profile → plan → rounds with re-planning →
//! final ticket (`docs/algorithm.md`).
//!
//! Every step that costs time is gated by the [`Deadline`], so the run ends within the
//! budget plus at most one iteration; the final evaluation and the save are paid for by
//! the reserve the plan keeps free.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sprig_budget::{
    BuiltinPolicy, Clock, Deadline, EvalSchedule, IterationProfiler, Plan, PlanRecord,
    PlateauDetector, ProfilerConfig, RankingStop, Replanner, RunConfig,
};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, Snapshot, prune_to_sparsity};

use crate::PruneError;
use crate::{
    BudgetedOutcome, Checkpoint, CheckpointState, Distillation, Evaluation, NoObserver, Observer,
    RoundRecord, Step, StopReason, Trainee,
};

/// The settings of one budgeted run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetedConfig {
    /// Wall-clock budget, end to end, from the clock's origin.
    pub budget: Duration,
    /// Target sparsity over the prunable weights, in [0, 1).
    pub target_sparsity: f64,
    /// Global or per-tensor magnitude ranking.
    pub scope: Scope,
    /// Per-layer-kind rate multipliers.
    pub rates: LayerRates,
    /// Minimum iterations of any training.
    pub min_iterations: u64,
    /// Validate every this many iterations (model selection and the dense plateau).
    pub eval_every: u64,
    /// Evaluations without improvement of the validation loss before the dense training
    /// counts as converged.
    pub patience: u32,
    /// Time kept free for saving the ticket (the final evaluation is added to it).
    pub save_reserve: Duration,
    /// Rewind to the weights after this many iterations of the dense training
    /// (0 = θ0, as in the LTH paper; k > 0 = late rewinding).
    pub rewind_iteration: u64,
    /// Who chooses the number of rounds.
    pub policy: BuiltinPolicy,
    /// Where the final training starts: the rewind point (a lottery ticket) or the
    /// weights the last prune ranked.
    #[serde(default)]
    pub final_start: FinalStart,
    /// The final training also learns from the dense training's selected weights
    /// (knowledge distillation); `None` trains on the labels alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<Distillation>,
}

/// The weights the final training (the one after the last prune) starts from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalStart {
    /// The rewind point: θ0, or the dense training's weights at `rewind_iteration`. The
    /// result is a lottery ticket: its mask trains from those initial weights.
    #[default]
    RewindPoint,
    /// The weights the last prune ranked, under the final mask, with a fresh optimiser and
    /// learning-rate schedule: learning-rate rewinding (Renda, Frankle & Carbin, ICLR
    /// 2020), which at equal retraining time scores above weight rewinding. Not a ticket
    /// in the LTH sense: its initial weights are the ones the final training started from.
    LastRanking,
}

impl BudgetedConfig {
    /// LTH-style defaults for a budget and a target: global magnitude pruning with uniform
    /// rates, validation every 500 iterations, rewinding to θ0.
    pub fn new(budget: Duration, target_sparsity: f64) -> Self {
        Self {
            budget,
            target_sparsity,
            scope: Scope::Global,
            rates: LayerRates::uniform(),
            min_iterations: 100,
            eval_every: 500,
            patience: 4,
            save_reserve: Duration::from_millis(500),
            rewind_iteration: 0,
            policy: BuiltinPolicy::default(),
            final_start: FinalStart::RewindPoint,
            distill: None,
        }
    }
}

/// The best weights of the current training, by validation accuracy.
#[derive(Debug)]
struct Selected {
    iteration: u64,
    evaluation: Evaluation,
    weights: Snapshot,
}

/// The early stop of a ranking training: the mask of the previous check and its target.
struct RankingCheck {
    stop: RankingStop,
    previous: Option<(MaskSet, f64)>,
}

/// State of the run between steps.
struct Run<'a, T: Trainee, C: Clock, O: Observer + ?Sized> {
    trainee: &'a mut T,
    observer: &'a mut O,
    config: &'a BudgetedConfig,
    deadline: Deadline<&'a C>,
    profiler: IterationProfiler,
    masks: MaskSet,
    rewind_point: Snapshot,
    /// Weights at the end of the last training that trained: what the next prune scores.
    last_trained: Option<Snapshot>,
    /// The dense training's selected weights, kept when the final training distils.
    teacher: Option<Snapshot>,
    round: u32,
    iterations: u64,
    selected: Option<Selected>,
    rounds: Vec<RoundRecord>,
    prunes: u32,
    /// Why a training stopped early other than by the deadline (interrupted, diverged).
    stop: Option<StopReason>,
}

/// Runs time-budgeted IMP on `trainee`, pruning the tensors of `masks` (dense at the
/// start, with their layer kinds). The clock's origin is the start of the run: create it
/// when the user's budget starts counting.
///
/// # Errors
/// A budget too small for profiling, one round and the reserve is
/// [`PruneError::Budget`] naming the smallest workable budget; trainee and mask errors
/// are passed on.
pub fn run_budgeted<T: Trainee, C: Clock>(
    trainee: &mut T,
    masks: MaskSet,
    clock: &C,
    config: &BudgetedConfig,
) -> Result<BudgetedOutcome, PruneError> {
    run_budgeted_observed(trainee, masks, clock, config, &mut NoObserver, None)
}

/// [`run_budgeted`] that tells `observer` what happens (progress, a [`Checkpoint`] after
/// every finished training, a stop request) and, given a checkpoint of the same run,
/// continues after it instead of starting over.
///
/// A resumed run's clock must start where the checkpoint's was
/// ([`CheckpointState::elapsed`]): the budget left is what the checkpoint left. Its
/// trainee starts from the checkpoint's weights; the order of its training batches is
/// the trainee's, so a resumed run is not bit-identical to an uninterrupted one.
///
/// # Errors
/// As [`run_budgeted`]; a checkpoint of another model, budget or target is
/// [`PruneError::Config`]; an error of the observer's checkpoint ends the run.
pub fn run_budgeted_observed<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    masks: MaskSet,
    clock: &C,
    config: &BudgetedConfig,
    observer: &mut O,
    resume: Option<Checkpoint>,
) -> Result<BudgetedOutcome, PruneError> {
    let _run = tracing::info_span!(
        "budgeted_run",
        budget_s = config.budget.as_secs_f64(),
        target = config.target_sparsity
    )
    .entered();
    if let Some(distillation) = &config.distill {
        distillation.check()?;
    }
    if let Some(checkpoint) = resume {
        return resume_budgeted(trainee, masks, clock, config, observer, checkpoint);
    }
    let Profiled {
        profiler,
        rewind_point,
        profiling,
        evaluation,
        trained,
        reserve,
        mut replanner,
        plan,
    } = profile(trainee, &masks, clock, config, observer)?;
    let mut run = Run {
        trainee,
        observer,
        config,
        deadline: Deadline::new(clock, config.budget, reserve),
        profiler,
        masks,
        rewind_point,
        last_trained: None,
        teacher: None,
        round: 0,
        iterations: profiling,
        selected: Some(Selected {
            iteration: profiling,
            evaluation,
            weights: trained,
        }),
        rounds: Vec::new(),
        prunes: 0,
        stop: None,
    };
    let stop = run.rounds(plan, &mut replanner, false)?;
    run.outcome(replanner, stop, clock)
}

/// The plan a budgeted run would start with, and what it was made from: the first
/// iterations of the dense training profiled as [`run_budgeted`] does, then the planner.
/// Nothing is pruned; the trainee is left partly trained.
///
/// # Errors
/// As [`run_budgeted`]: a budget too small names the smallest workable one.
pub fn plan_budgeted<T: Trainee, C: Clock>(
    trainee: &mut T,
    masks: &MaskSet,
    clock: &C,
    config: &BudgetedConfig,
) -> Result<PlanRecord, PruneError> {
    let profiled = profile(trainee, masks, clock, config, &mut NoObserver)?;
    profiled
        .replanner
        .history()
        .last()
        .cloned()
        .ok_or_else(|| PruneError::Config("the planner made no plan".into()))
}

/// What profiling the start of the dense training gives.
struct Profiled {
    profiler: IterationProfiler,
    rewind_point: Snapshot,
    profiling: u64,
    evaluation: Evaluation,
    trained: Snapshot,
    reserve: std::time::Duration,
    replanner: Replanner<BuiltinPolicy>,
    plan: Plan,
}

/// Profiles the first iterations of the dense training, one evaluation and a trial
/// prune + rewind (discarded), and makes the first plan.
fn profile<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    masks: &MaskSet,
    clock: &C,
    config: &BudgetedConfig,
    observer: &mut O,
) -> Result<Profiled, PruneError> {
    let theta0 = trainee.weights()?;
    let params = theta0.params();
    masks.validate_with(&params, |_, _| false)?;
    let mut profiler = IterationProfiler::default();
    let profiling = profiler.config().profiling_iterations();

    // Profile: the first iterations of the dense training, timed one by one.
    trainee.start_training(masks, profiling)?;
    let mut rewind_point = theta0.clone();
    for iteration in 1..=profiling {
        let started = clock.now();
        let loss = trainee.step()?;
        profiler.record_iteration(clock.now().saturating_sub(started));
        if iteration == config.rewind_iteration {
            rewind_point = trainee.weights()?;
        }
        observer.step(&Step {
            round: 0,
            iteration,
            planned: profiling,
            sparsity: 0.0,
            loss,
            elapsed: clock.now(),
            budget: config.budget,
        });
    }
    let started = clock.now();
    let evaluation = trainee.validate()?;
    profiler.record_evaluation(clock.now().saturating_sub(started));
    // A trial prune and rewind, discarded, to know what one costs.
    let started = clock.now();
    let trained = trainee.weights()?;
    let mut trial = masks.clone();
    let first = config.target_sparsity.min(0.2);
    prune_to_sparsity(
        &mut trial,
        &Scores::magnitude(&trained),
        config.scope,
        &config.rates,
        first,
    )?;
    let _ = rewind_point.masked(&trial)?;
    trainee.load_weights(&trained)?;
    profiler.record_prune_rewind(clock.now().saturating_sub(started));

    let costs = profiler.cost_model()?;
    let reserve = costs.reserve_with_save(config.save_reserve);
    let prunable = masks.total().max(1);
    let run_config = RunConfig {
        eval: EvalSchedule::Every(config.eval_every.max(1)),
        sparsity_tolerance: 0.5 / prunable as f64,
        ..RunConfig::new(
            config.budget,
            config.target_sparsity,
            config.min_iterations,
            reserve,
        )
    };
    let mut replanner = Replanner::new(run_config, config.policy)?;
    replanner.record_iterations(profiling);
    let plan = replanner.plan(clock.now(), costs)?;
    Ok(Profiled {
        profiler,
        rewind_point,
        profiling,
        evaluation,
        trained,
        reserve,
        replanner,
        plan,
    })
}

/// Continues a run from `checkpoint` (see [`run_budgeted_observed`]).
fn resume_budgeted<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    masks: MaskSet,
    clock: &C,
    config: &BudgetedConfig,
    observer: &mut O,
    checkpoint: Checkpoint,
) -> Result<BudgetedOutcome, PruneError> {
    let Checkpoint {
        masks: saved,
        rewind_point,
        trained,
        teacher,
        state,
    } = checkpoint;
    let tensors = |m: &MaskSet| {
        m.iter()
            .map(|(name, e)| (name.to_owned(), e.kind().to_owned(), e.mask().len()))
            .collect::<Vec<_>>()
    };
    if tensors(&saved) != tensors(&masks) {
        return Err(PruneError::Config(
            "the checkpoint's masks are not of this model's prunable tensors".into(),
        ));
    }
    let run_config = &state.run_config;
    if run_config.budget != config.budget || run_config.target_sparsity != config.target_sparsity {
        return Err(PruneError::Config(format!(
            "the checkpoint is of a run with a budget of {:?} and a target sparsity of {}, \
             not {:?} and {}: resume with the options it was started with",
            run_config.budget, run_config.target_sparsity, config.budget, config.target_sparsity
        )));
    }
    saved.validate_with(&trainee.weights()?.params(), |_, _| false)?;
    if config.distill.is_some() && teacher.is_none() {
        return Err(PruneError::Config(
            "the checkpoint holds no teacher for the distillation: it is of a run started \
             without it; resume with the options it was started with"
                .into(),
        ));
    }
    trainee.load_weights(&trained)?;
    let profiler = IterationProfiler::resumed(ProfilerConfig::default(), &state.costs)?;
    let reserve = run_config.reserve;
    let mut replanner = Replanner::resume(
        state.run_config.clone(),
        config.policy,
        state.progress,
        state.plans,
    )?;
    tracing::info!(
        round = state.progress.rounds_done,
        elapsed_s = state.elapsed.as_secs_f64(),
        "resuming after the checkpoint"
    );
    let mut run = Run {
        trainee,
        observer,
        config,
        deadline: Deadline::new(clock, config.budget, reserve),
        profiler,
        masks: saved,
        rewind_point,
        last_trained: Some(trained),
        teacher,
        round: state.progress.rounds_done,
        iterations: state.progress.iterations_done,
        selected: None,
        rounds: state.rounds,
        prunes: state.prunes,
        stop: None,
    };
    let stop = run.rounds(state.plan, &mut replanner, true)?;
    run.outcome(replanner, stop, clock)
}

impl<T: Trainee, C: Clock, O: Observer + ?Sized> Run<'_, T, C, O> {
    /// The ticket as the run left it.
    fn outcome(
        self,
        replanner: Replanner<BuiltinPolicy>,
        stop: StopReason,
        clock: &C,
    ) -> Result<BudgetedOutcome, PruneError> {
        let time_used = clock.now();
        Ok(BudgetedOutcome {
            initial: self.rewind_point.masked(&self.masks)?,
            trained: self.trainee.weights()?,
            masks: self.masks,
            rounds: self.rounds,
            plans: replanner.into_history(),
            prunes: self.prunes,
            stop,
            time_used,
        })
    }

    /// Hands the observer everything needed to continue after the finished training.
    /// Returns how long that took (it is charged to the prune that follows).
    fn checkpoint(
        &mut self,
        plan: &Plan,
        replanner: &Replanner<BuiltinPolicy>,
    ) -> Result<std::time::Duration, PruneError> {
        let Some(trained) = &self.last_trained else {
            return Ok(std::time::Duration::ZERO);
        };
        let started = self.deadline.elapsed();
        let checkpoint = Checkpoint {
            masks: self.masks.clone(),
            rewind_point: self.rewind_point.clone(),
            trained: trained.clone(),
            teacher: self.teacher.clone(),
            state: CheckpointState {
                elapsed: started,
                run_config: replanner.config().clone(),
                progress: *replanner.progress(),
                plan: plan.clone(),
                plans: replanner.history().to_vec(),
                rounds: self.rounds.clone(),
                prunes: self.prunes,
                costs: self.profiler.cost_model()?,
            },
        };
        self.observer.training_finished(&checkpoint)?;
        Ok(self.deadline.elapsed().saturating_sub(started))
    }

    /// Trains, prunes and rewinds as the plan says, re-planning after every prune. A
    /// resumed run starts at the prune after its checkpoint's training.
    fn rounds(
        &mut self,
        mut plan: Plan,
        replanner: &mut Replanner<BuiltinPolicy>,
        mut resuming: bool,
    ) -> Result<StopReason, PruneError> {
        loop {
            if !resuming {
                let completed = self.train(&mut plan, replanner)?;
                if !completed {
                    if let Some(stop) = self.stop.take() {
                        return Ok(stop);
                    }
                    // A final training the deadline cut keeps what it selected; a training
                    // before a prune still owes the target.
                    if self.short_of_target(replanner) {
                        self.finish_pruned(replanner)?;
                    }
                    return Ok(StopReason::Deadline);
                }
                if self.round == 0 && replanner.progress().dense_convergence.is_none() {
                    // The dense training hit its cap before its validation loss settled: the
                    // network needs at least that many iterations, and later trainings get them.
                    replanner.record_convergence(self.iterations);
                }
            }
            let Some(target) = plan.next_sparsity() else {
                return Ok(StopReason::Completed);
            };
            let saving = if resuming {
                std::time::Duration::ZERO
            } else {
                self.checkpoint(&plan, replanner)?
            };
            resuming = false;
            let prune_cost = self.profiler.prune_rewind_estimate().unwrap_or_default();
            if !self.deadline.may_start(prune_cost) {
                self.finish_pruned(replanner)?;
                return Ok(StopReason::Deadline);
            }
            let started = self.deadline.elapsed();
            let scores = match &self.last_trained {
                Some(weights) => Scores::magnitude(weights),
                None => Scores::magnitude(&self.trainee.weights()?),
            };
            let c = self.config;
            prune_to_sparsity(&mut self.masks, &scores, c.scope, &c.rates, target)?;
            let pruning = self.deadline.elapsed().saturating_sub(started) + saving;
            replanner.record_prune(self.masks.sparsity())?;
            // A sparser step may be cheaper (sparse products): time the new round afresh.
            self.profiler.step_changed();
            self.prunes += 1;
            self.round += 1;
            self.iterations = 0;
            self.selected = None;
            plan = replanner.plan(self.deadline.elapsed(), self.profiler.cost_model()?)?;
            // A ranking training may resume from the weights it just ranked, as the policy
            // says; the final training starts where `final_start` says.
            let started = self.deadline.elapsed();
            let is_final = plan.next_sparsity().is_none();
            let resumes = if is_final {
                c.final_start == FinalStart::LastRanking
            } else {
                c.policy.ranking_resumes()
            };
            let start = match &self.last_trained {
                Some(weights) if resumes => weights.masked(&self.masks)?,
                _ => self.rewind_point.masked(&self.masks)?,
            };
            self.trainee.load_weights(&start)?;
            if is_final && resumes {
                // The result's initial weights are the ones its final training starts from.
                self.rewind_point = start;
            }
            self.profiler
                .record_prune_rewind(pruning + self.deadline.elapsed().saturating_sub(started));
            if is_final
                && !plan.is_finalise()
                && let (Some(distillation), Some(teacher)) = (c.distill, &self.teacher)
            {
                // The teacher's outputs cost time (the trainee may compute them now):
                // the final training is planned on what is left after them.
                self.trainee.set_teacher(Some((teacher, distillation)))?;
                plan = replanner.plan(self.deadline.elapsed(), self.profiler.cost_model()?)?;
            }
            if plan.is_finalise() {
                self.finish_pruned(replanner)?;
                return Ok(StopReason::Finalised);
            }
            self.trainee
                .start_training(&self.masks, plan.trainings[0])?;
        }
    }

    /// Ends a run that has no time left to train: the ticket is the trained weights pruned
    /// to the target sparsity. A user who asked for a sparsity (or a file size) gets it,
    /// whatever the machine did to the plan; the prune's time is kept free by `train`.
    fn finish_pruned(
        &mut self,
        replanner: &mut Replanner<BuiltinPolicy>,
    ) -> Result<(), PruneError> {
        let weights = match self.last_trained.take() {
            Some(weights) => weights,
            None => self.trainee.weights()?,
        };
        if self.short_of_target(replanner) {
            let c = self.config;
            let scores = Scores::magnitude(&weights);
            prune_to_sparsity(
                &mut self.masks,
                &scores,
                c.scope,
                &c.rates,
                c.target_sparsity,
            )?;
            replanner.record_prune(self.masks.sparsity())?;
            self.prunes += 1;
            self.round += 1;
        }
        self.trainee.load_weights(&weights.masked(&self.masks)?)?;
        self.last_trained = Some(weights);
        Ok(())
    }

    /// Whether the masks are still short of the target sparsity (beyond the rounding of
    /// whole weights).
    fn short_of_target(&self, replanner: &Replanner<BuiltinPolicy>) -> bool {
        let tolerance = replanner.config().sparsity_tolerance;
        self.masks.sparsity() < self.config.target_sparsity - tolerance
    }

    /// Runs the current training for what the plan gives it; returns false if the deadline
    /// stopped it. Ends by loading the weights validation selected.
    fn train(
        &mut self,
        plan: &mut Plan,
        replanner: &mut Replanner<BuiltinPolicy>,
    ) -> Result<bool, PruneError> {
        let every = self.config.eval_every.max(1);
        let mut plateau = (self.round == 0 && replanner.progress().dense_convergence.is_none())
            .then(|| PlateauDetector::new(self.config.patience, 1e-3))
            .transpose()?;
        // A ranking training (neither the dense one nor the last) may stop once the mask
        // the next prune would give has settled.
        let mut ranking = (self.round > 0)
            .then(|| self.config.policy.ranking_stop())
            .flatten()
            .map(|stop| RankingCheck {
                stop,
                previous: None,
            });
        let mut end = self.iterations + plan.trainings[0];
        self.trainee.set_training_length(end);
        let sparsity = self.masks.sparsity();
        let _span = tracing::info_span!("training", round = self.round, sparsity).entered();
        let mut completed = true;
        let mut diverged = None;
        while self.iterations < end {
            if self.observer.should_stop() {
                self.stop = Some(StopReason::Interrupted);
                completed = false;
                break;
            }
            let mut expected = self.profiler.estimate().unwrap_or_default();
            if plan.next_sparsity().is_some() {
                // A prune follows: its time stays free, so a training the deadline cuts can
                // still end in a ticket at the target (`finish_pruned`).
                expected += self.profiler.prune_rewind_estimate().unwrap_or_default();
            }
            if !self.deadline.may_start_iteration(expected) {
                completed = false;
                break;
            }
            let started = self.deadline.elapsed();
            let loss = match self.trainee.step() {
                Ok(loss) if loss.is_finite() => loss,
                Ok(value) => {
                    diverged = Some(self.diverged(PruneError::NonFiniteLoss {
                        value,
                        iteration: self.iterations + 1,
                        advice: String::new(),
                    }));
                    break;
                }
                Err(e @ PruneError::NonFiniteLoss { .. }) => {
                    diverged = Some(self.diverged(e));
                    break;
                }
                Err(e) => return Err(e),
            };
            self.profiler
                .record_iteration(self.deadline.elapsed().saturating_sub(started));
            self.iterations += 1;
            replanner.record_iterations(1);
            let step = Step {
                round: self.round,
                iteration: self.iterations,
                planned: end,
                sparsity,
                loss,
                elapsed: self.deadline.elapsed(),
                budget: self.config.budget,
            };
            self.observer.step(&step);
            if self.round == 0 && self.iterations == self.config.rewind_iteration {
                self.rewind_point = self.trainee.weights()?;
            }
            if !self.iterations.is_multiple_of(every) {
                continue;
            }
            let Some(evaluation) = self.validate()? else {
                completed = false;
                break;
            };
            self.observer.validated(&step, &evaluation);
            if let Some(detector) = plateau.as_mut()
                && detector.observe(self.iterations, evaluation.loss)
            {
                let converged = detector.converged_at().unwrap_or(self.iterations);
                replanner.record_convergence(converged);
                plateau = None;
            }
            if let (Some(check), Some(target)) = (ranking.as_mut(), plan.next_sparsity())
                && self.mask_settled(check, target)?
            {
                tracing::debug!(
                    round = self.round,
                    iteration = self.iterations,
                    "ranking settled; training stops early"
                );
                break;
            }
            // Re-plan at every validation, not only between rounds: a long training on a
            // machine that slowed down must shrink in time for the rounds after it. A plan
            // that would give up the remaining rounds is not taken mid-training; the
            // deadline still guards the end.
            let next = replanner.plan(self.deadline.elapsed(), self.profiler.cost_model()?)?;
            if !next.is_finalise() || plan.next_sparsity().is_none() {
                *plan = next;
                end = self.iterations + plan.trainings[0];
                self.trainee.set_training_length(end);
            }
        }
        if let Some(error) = diverged {
            return self.keep_last_good(error);
        }
        if self.iterations == 0 {
            // A training the plan squeezed to nothing: the next prune scores the weights
            // of the last training that did train.
            return Ok(completed);
        }
        let trained_since_check = self
            .selected
            .as_ref()
            .is_none_or(|s| s.iteration != self.iterations);
        if trained_since_check && self.validate()?.is_none() {
            completed = false;
        }
        if let Some(best) = self.selected.take() {
            let current = best.iteration == self.iterations;
            self.keep(best, !current)?;
        }
        Ok(completed)
    }

    /// Ends the current training with `best`: its weights loaded (when `load`), its record
    /// kept, and what the next prune scores.
    fn keep(&mut self, best: Selected, load: bool) -> Result<(), PruneError> {
        if load {
            self.trainee.load_weights(&best.weights)?;
        }
        self.rounds.push(RoundRecord {
            round: self.round,
            sparsity: self.masks.sparsity(),
            iterations: self.iterations,
            validation: best.evaluation,
            selected_iteration: best.iteration,
            ended_at: self.deadline.elapsed(),
        });
        if self.round == 0 && self.config.distill.is_some() {
            self.teacher = Some(best.weights.clone());
        }
        self.last_trained = Some(best.weights);
        Ok(())
    }

    /// Notes a diverged training (NaN or infinite loss): the round stops and the run ends
    /// with the last good ticket.
    fn diverged(&mut self, error: PruneError) -> PruneError {
        tracing::warn!(round = self.round, iteration = self.iterations, %error,
            "training diverged: stopping the round, keeping the last good ticket");
        self.stop = Some(StopReason::Diverged);
        error
    }

    /// After a diverged training: loads the best weights validation saw in it, or else the
    /// last finished training's (pruned to the current mask). With neither there is no
    /// ticket, and the divergence is the run's error.
    fn keep_last_good(&mut self, error: PruneError) -> Result<bool, PruneError> {
        if let Some(best) = self.selected.take() {
            // Always loaded: a step that returned a NaN loss may have changed the weights.
            self.keep(best, true)?;
        } else if let Some(weights) = &self.last_trained {
            self.trainee.load_weights(&weights.masked(&self.masks)?)?;
        } else {
            return Err(error);
        }
        Ok(false)
    }

    /// Whether the mask a prune to `target` would give from the current weights agrees
    /// with the previous check's as much as `check.stop` asks.
    fn mask_settled(&mut self, check: &mut RankingCheck, target: f64) -> Result<bool, PruneError> {
        let mut candidate = self.masks.clone();
        let c = self.config;
        let scores = Scores::magnitude(&self.trainee.weights()?);
        prune_to_sparsity(&mut candidate, &scores, c.scope, &c.rates, target)?;
        // Re-planning may change the next target between checks: masks of different
        // targets are not compared.
        let (agreement, threshold) = match (&check.previous, check.stop) {
            (Some((previous, at)), RankingStop::Survivors(threshold)) if *at == target => {
                (candidate.kept_in_common(previous)?, threshold)
            }
            (Some((previous, at)), RankingStop::Removals(threshold)) if *at == target => (
                candidate.removed_in_common(previous, &self.masks)?,
                threshold,
            ),
            _ => (0.0, 1.0),
        };
        tracing::debug!(
            round = self.round,
            iteration = self.iterations,
            agreement,
            "mask agreement with the previous check"
        );
        let settled = agreement >= threshold;
        check.previous = Some((candidate, target));
        Ok(settled)
    }

    /// Validates if the deadline allows it, keeping the weights if they are the best of
    /// this training; `None` if there was no time.
    fn validate(&mut self) -> Result<Option<Evaluation>, PruneError> {
        let cost = self.profiler.evaluation_estimate().unwrap_or_default();
        if !self.deadline.may_start(cost) {
            return Ok(None);
        }
        let started = self.deadline.elapsed();
        let evaluation = self.trainee.validate()?;
        self.profiler
            .record_evaluation(self.deadline.elapsed().saturating_sub(started));
        let better = self
            .selected
            .as_ref()
            .is_none_or(|s| evaluation.accuracy > s.evaluation.accuracy);
        if better {
            self.selected = Some(Selected {
                iteration: self.iterations,
                evaluation,
                weights: self.trainee.weights()?,
            });
        }
        Ok(Some(evaluation))
    }
}
