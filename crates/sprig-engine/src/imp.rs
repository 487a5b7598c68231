//! Unconstrained iterative magnitude pruning, as in the LTH paper: a fixed number of
//! iterations per training and a fixed schedule of rounds, whatever the time.

use serde::{Deserialize, Serialize};
use sprig_budget::Clock;
use sprig_mask::{
    LayerRates, MaskSet, Scope, Scores, per_round_rate, prune_to_round, prune_to_sparsity,
};

use crate::PruneError;
use crate::{
    RoundRecord, StopReason, TrainOnce, TrainOnceOutcome, Trainee, TrainingLength, train_once,
};

/// Settings of [`run_imp`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImpConfig {
    /// Target sparsity, reached after `rounds` prunes.
    pub target_sparsity: f64,
    /// Pruning rounds (the LTH paper prunes 20% of the fully-connected weights per round).
    pub rounds: u32,
    /// Iterations of every training.
    pub iterations: u64,
    /// Validate every this many iterations (model selection).
    pub eval_every: u64,
    /// Global or per-tensor ranking.
    pub scope: Scope,
    /// Per-layer-kind rate multipliers.
    pub rates: LayerRates,
}

/// The ticket of an unconstrained IMP run.
#[derive(Debug, Clone)]
pub struct ImpOutcome {
    /// The final mask.
    pub masks: MaskSet,
    /// The last training (of the final ticket).
    pub last: TrainOnceOutcome,
    /// Every training, in order (training 0 is dense).
    pub rounds: Vec<RoundRecord>,
}

/// Runs IMP on `trainee` from its current weights θ0: `rounds + 1` trainings of
/// `iterations` each, pruning `p = 1 − (1 − s*)^(1/rounds)` of the survivors after each
/// training but the last and rewinding the survivors to θ0.
///
/// # Errors
/// Mask, rate and trainee errors pass on.
pub fn run_imp<T: Trainee, C: Clock>(
    trainee: &mut T,
    mut masks: MaskSet,
    clock: &C,
    config: &ImpConfig,
) -> Result<ImpOutcome, PruneError> {
    let theta0 = trainee.weights()?;
    let rate = per_round_rate(config.target_sparsity, config.rounds.max(1))?;
    let settings = TrainOnce {
        eval_every: config.eval_every,
        ..TrainOnce::new(TrainingLength::Iterations(config.iterations))
    };
    let mut rounds = Vec::new();
    let mut round = 0;
    loop {
        let outcome = train_once(trainee, &masks, clock, &settings)?;
        rounds.push(RoundRecord {
            round,
            sparsity: masks.sparsity(),
            iterations: outcome.iterations,
            validation: outcome.validation,
            selected_iteration: outcome.selected_iteration,
            ended_at: outcome.time_used,
        });
        if round == config.rounds {
            return Ok(ImpOutcome {
                masks,
                last: TrainOnceOutcome {
                    stop: StopReason::Completed,
                    ..outcome
                },
                rounds,
            });
        }
        round += 1;
        let scores = Scores::magnitude(&outcome.trained);
        let (scope, rates) = (config.scope, &config.rates);
        if round == config.rounds {
            // Exactly s* at the end, whatever the per-kind multipliers did on the way.
            prune_to_sparsity(&mut masks, &scores, scope, rates, config.target_sparsity)?;
        } else {
            prune_to_round(&mut masks, &scores, scope, rates, rate, round)?;
        }
        trainee.load_weights(&theta0.masked(&masks)?)?;
    }
}
