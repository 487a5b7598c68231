//! One training under a fixed mask: the dense baseline, and the random-pruning and
//! random-reinitialisation controls, each given a wall-clock budget or an iteration count.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use sprig_budget::{Clock, Deadline, IterationProfiler};
use sprig_mask::{MaskSet, Snapshot};

use crate::PruneError;
use crate::{Evaluation, GradualPruning, NoObserver, Observer, Step, StopReason, Trainee};

/// How long one training runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrainingLength {
    /// Exactly this many iterations, whatever they cost.
    Iterations(u64),
    /// As many iterations as fit in this wall-clock time, end to end (with the same
    /// reserve for the final evaluation and save as a budgeted run).
    Budget(Duration),
}

/// Settings of [`train_once`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainOnce {
    /// How long.
    pub length: TrainingLength,
    /// Validate every this many iterations; the best validation accuracy is kept.
    pub eval_every: u64,
    /// Time kept free for saving, under a budget.
    pub save_reserve: Duration,
}

impl TrainOnce {
    /// A training of `length`, validating every 500 iterations, 500 ms kept for saving.
    pub fn new(length: TrainingLength) -> Self {
        Self {
            length,
            eval_every: 500,
            save_reserve: Duration::from_millis(500),
        }
    }
}

/// What [`train_once`] returns.
#[derive(Debug, Clone)]
pub struct TrainOnceOutcome {
    /// The selected weights (pruned entries exactly zero).
    pub trained: Snapshot,
    /// Their validation result.
    pub validation: Evaluation,
    /// Iteration they were taken at.
    pub selected_iteration: u64,
    /// Iterations trained.
    pub iterations: u64,
    /// Completed, or stopped by the deadline.
    pub stop: StopReason,
    /// Times the mask was tightened during the training (gradual pruning; 0 otherwise).
    pub prunes: u32,
    /// Wall time from the clock's origin to the end of training.
    pub time_used: Duration,
}

/// Trains `trainee` once under `masks` from its current weights, validating every
/// `eval_every` iterations and keeping the best weights. Under a budget the training
/// length (which the learning-rate schedule needs) is estimated from the measured
/// iterations and re-estimated at every validation, and every step is gated by the
/// deadline, as in the budgeted search.
///
/// A budget that holds no iteration gives the starting weights back, validated, with
/// [`StopReason::Deadline`].
///
/// # Errors
/// Trainee errors pass on.
pub fn train_once<T: Trainee, C: Clock>(
    trainee: &mut T,
    masks: &MaskSet,
    clock: &C,
    settings: &TrainOnce,
) -> Result<TrainOnceOutcome, PruneError> {
    train_once_observed(trainee, masks, clock, settings, &mut NoObserver)
}

/// [`train_once`] telling `observer` every step and validation (as round 0) and stopping
/// when it asks ([`StopReason::Interrupted`]). A NaN or infinite loss ends the training
/// with the best weights validation saw ([`StopReason::Diverged`]); before any validation
/// it is the error.
///
/// # Errors
/// Trainee errors pass on.
pub fn train_once_observed<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    masks: &MaskSet,
    clock: &C,
    settings: &TrainOnce,
    observer: &mut O,
) -> Result<TrainOnceOutcome, PruneError> {
    train_loop(trainee, &mut masks.clone(), clock, settings, None, observer)
}

/// The loop of [`train_once_observed`]; with `gradual`, the masks tighten on its schedule
/// during the training (gradual magnitude pruning), and only weights under the final
/// mask are eligible for model selection.
pub(crate) fn train_loop<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    masks: &mut MaskSet,
    clock: &C,
    settings: &TrainOnce,
    gradual: Option<&GradualPruning>,
    observer: &mut O,
) -> Result<TrainOnceOutcome, PruneError> {
    let initial_sparsity = masks.sparsity();
    let mut sparsity = initial_sparsity;
    let mut prunes = 0;
    let _span = tracing::info_span!("training", round = 0, sparsity).entered();
    let at_target = |masks: &MaskSet| gradual.is_none_or(|g| g.reached(masks));
    let every = settings.eval_every.max(1);
    let mut profiler = IterationProfiler::default();
    let (budget, mut length) = match settings.length {
        TrainingLength::Iterations(n) => (None, n.max(1)),
        TrainingLength::Budget(b) => (Some(b), profiler.config().profiling_iterations()),
    };
    trainee.start_training(masks, length)?;
    let deadline = budget.map(|b| Deadline::new(clock, b, settings.save_reserve));
    let mut best: Option<(u64, Evaluation, Snapshot)> = None;
    let mut stop = StopReason::Completed;
    let mut done = 0;
    let may_start = |expected: Duration| deadline.as_ref().is_none_or(|d| d.may_start(expected));
    let mut diverged = None;
    while done < length {
        if observer.should_stop() {
            stop = StopReason::Interrupted;
            break;
        }
        let expected = profiler.estimate().unwrap_or_default();
        if !deadline
            .as_ref()
            .is_none_or(|d| d.may_start_iteration(expected))
        {
            stop = StopReason::Deadline;
            break;
        }
        let started = clock.now();
        let loss = match trainee.step() {
            Ok(loss) if loss.is_finite() => loss,
            Ok(value) => {
                diverged = Some(PruneError::NonFiniteLoss {
                    value,
                    iteration: done + 1,
                    advice: String::new(),
                });
                break;
            }
            Err(e @ PruneError::NonFiniteLoss { .. }) => {
                diverged = Some(e);
                break;
            }
            Err(e) => return Err(e),
        };
        profiler.record_iteration(clock.now().saturating_sub(started));
        done += 1;
        if let Some(g) = gradual
            && g.prunes_at(done)
            && g.tighten(trainee, masks, initial_sparsity, done, length)?
        {
            sparsity = masks.sparsity();
            prunes += 1;
            // Weights of a denser mask are not a valid result.
            best = None;
        }
        let step = Step {
            round: 0,
            iteration: done,
            planned: length,
            sparsity,
            loss,
            elapsed: clock.now(),
            budget: budget.unwrap_or_default(),
        };
        observer.step(&step);
        let profiled = budget.is_some() && done == profiler.config().profiling_iterations();
        if !done.is_multiple_of(every) && done != length && !profiled {
            continue;
        }
        if !may_start(profiler.evaluation_estimate().unwrap_or_default()) {
            stop = StopReason::Deadline;
            break;
        }
        let started = clock.now();
        let evaluation = trainee.validate()?;
        profiler.record_evaluation(clock.now().saturating_sub(started));
        observer.validated(&step, &evaluation);
        if at_target(masks)
            && best
                .as_ref()
                .is_none_or(|b| evaluation.accuracy > b.1.accuracy)
        {
            best = Some((done, evaluation, trainee.weights()?));
        }
        if let (Some(d), Some(iteration)) = (&deadline, profiler.estimate()) {
            // Re-estimate how many iterations the rest of the budget holds.
            let eval = profiler.evaluation_estimate().unwrap_or_default();
            let per_iteration = iteration.as_secs_f64() + eval.as_secs_f64() / every as f64;
            let left = d.cutoff().saturating_sub(d.elapsed()).as_secs_f64() - eval.as_secs_f64();
            let more = (left.max(0.0) / per_iteration.max(1e-9)) as u64;
            length = done + more;
            trainee.set_training_length(length);
        }
    }
    if let Some(error) = diverged {
        tracing::warn!(%error, "training diverged: keeping the best weights validation saw");
        if best.is_none() {
            return Err(error);
        }
        stop = StopReason::Diverged;
    }
    if let Some(g) = gradual
        && !g.reached(masks)
    {
        // The deadline came before the ramp ended: the result still has the target
        // sparsity, pruned at once from the last weights.
        if g.finish(trainee, masks)? {
            prunes += 1;
            best = None;
        }
    }
    let (selected_iteration, validation, trained) = match best {
        Some(b) => b,
        None => (done, trainee.validate()?, trainee.weights()?),
    };
    if selected_iteration != done {
        trainee.load_weights(&trained)?;
    }
    Ok(TrainOnceOutcome {
        trained,
        validation,
        selected_iteration,
        iterations: done,
        stop,
        prunes,
        time_used: clock.now(),
    })
}
