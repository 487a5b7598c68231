//! Gradual magnitude pruning (GMP; Zhu & Gupta, "To prune, or not to prune", 2017): one
//! training whose mask tightens on a cubic schedule from its starting sparsity to the
//! target, then trains on at the final mask. It is what TF Model Optimization's
//! `PolynomialDecay`, torch.ao's `CubicSL` and SparseML's `GMPruningModifier` run, and the
//! method a practitioner reaches for instead of IMP. Its result is trained sparse weights,
//! not a ticket: nothing is rewound.

use serde::{Deserialize, Serialize};
use sprig_budget::Clock;
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, prune_to_sparsity};

use crate::PruneError;
use crate::fixed::train_loop;
use crate::{Observer, TrainOnce, TrainOnceOutcome, Trainee};

/// The pruning schedule of a GMP training.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GradualPruning {
    /// Sparsity over the prunable weights at the end of the ramp, in `[0, 1)`.
    pub target_sparsity: f64,
    /// Global or per-tensor magnitude ranking.
    pub scope: Scope,
    /// Per-layer-kind rate multipliers.
    pub rates: LayerRates,
    /// Prune every this many iterations.
    pub prune_every: u64,
    /// Share of the training's planned iterations at which the ramp reaches the target;
    /// the rest trains at the final mask. In `(0, 1]`.
    pub ramp_end: f64,
}

impl GradualPruning {
    /// TF-MOT's default pruning frequency.
    pub const PRUNE_EVERY: u64 = 100;
    /// The ramp ends at three quarters of the training, as in Gale, Elsen & Hooker, "The
    /// State of Sparsity in Deep Neural Networks" (2019), whose tuned GMP runs end pruning
    /// at 100k of 128k steps (78 %): the last quarter recovers at the final mask while
    /// the learning rate decays.
    pub const RAMP_END: f64 = 0.75;

    /// The defaults above for a target, scope and rates.
    pub fn new(target_sparsity: f64, scope: Scope, rates: LayerRates) -> Self {
        Self {
            target_sparsity,
            scope,
            rates,
            prune_every: Self::PRUNE_EVERY,
            ramp_end: Self::RAMP_END,
        }
    }

    /// Zhu & Gupta's eq. (1): `s_t = s_f + (s_i − s_f)(1 − t / T)³` for iteration `t` of
    /// a ramp of `T = ramp_end × planned` iterations starting at sparsity `s_i`; `s_f`
    /// from `T` on. Steep at first, while redundant weights abound; gentle at the end.
    pub fn sparsity_at(&self, initial: f64, iteration: u64, planned: u64) -> f64 {
        let ramp = (self.ramp_end * planned as f64).max(1.0);
        let left = (1.0 - iteration as f64 / ramp).max(0.0);
        self.target_sparsity + (initial - self.target_sparsity) * left.powi(3)
    }

    /// Whether `iteration` is one the schedule prunes at.
    pub fn prunes_at(&self, iteration: u64) -> bool {
        iteration.is_multiple_of(self.prune_every.max(1))
    }

    /// Whether `masks` have reached the target (within half a weight).
    pub fn reached(&self, masks: &MaskSet) -> bool {
        let half_weight = 0.5 / masks.total().max(1) as f64;
        masks.sparsity() + half_weight >= self.target_sparsity
    }

    /// Prunes the trainee's current weights to the schedule's sparsity at `iteration` of
    /// `planned`; true if the mask changed.
    pub(crate) fn tighten<T: Trainee>(
        &self,
        trainee: &mut T,
        masks: &mut MaskSet,
        initial: f64,
        iteration: u64,
        planned: u64,
    ) -> Result<bool, PruneError> {
        if self.reached(masks) {
            return Ok(false);
        }
        let wanted = self.sparsity_at(initial, iteration, planned);
        self.prune_to(trainee, masks, wanted)
    }

    /// Prunes straight to the target (a training cut short before its ramp ended).
    pub(crate) fn finish<T: Trainee>(
        &self,
        trainee: &mut T,
        masks: &mut MaskSet,
    ) -> Result<bool, PruneError> {
        self.prune_to(trainee, masks, self.target_sparsity)
    }

    fn prune_to<T: Trainee>(
        &self,
        trainee: &mut T,
        masks: &mut MaskSet,
        sparsity: f64,
    ) -> Result<bool, PruneError> {
        let before = masks.pruned();
        let scores = Scores::magnitude(&trainee.weights()?);
        prune_to_sparsity(masks, &scores, self.scope, &self.rates, sparsity)?;
        if masks.pruned() == before {
            return Ok(false);
        }
        trainee.update_masks(masks)?;
        Ok(true)
    }
}

/// What [`run_gmp`] returns.
#[derive(Debug, Clone)]
pub struct GmpOutcome {
    /// The final mask.
    pub masks: MaskSet,
    /// The training: its selected weights are at the final mask.
    pub training: TrainOnceOutcome,
}

/// Trains `trainee` once from its current weights for `settings.length` (a wall-clock
/// budget: the iteration count is estimated from the measured iterations and re-estimated
/// at every validation, so the ramp ends on time), pruning on `schedule` from `masks`.
/// The weights validation selects are taken from after the ramp; a training the deadline
/// cuts short before the ramp ends is pruned to the target at once.
///
/// # Errors
/// Mask and trainee errors pass on; a NaN loss before any eligible validation.
pub fn run_gmp<T: Trainee, C: Clock, O: Observer + ?Sized>(
    trainee: &mut T,
    mut masks: MaskSet,
    clock: &C,
    settings: &TrainOnce,
    schedule: &GradualPruning,
    observer: &mut O,
) -> Result<GmpOutcome, PruneError> {
    if !(0.0..1.0).contains(&schedule.target_sparsity)
        || schedule.ramp_end <= 0.0
        || schedule.ramp_end > 1.0
        || schedule.ramp_end.is_nan()
    {
        return Err(PruneError::Config(format!(
            "gradual pruning needs a target sparsity in [0, 1) and a ramp end in (0, 1], \
             not {} and {}",
            schedule.target_sparsity, schedule.ramp_end
        )));
    }
    let training = train_loop(
        trainee,
        &mut masks,
        clock,
        settings,
        Some(schedule),
        observer,
    )?;
    Ok(GmpOutcome { masks, training })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gmp(target: f64) -> GradualPruning {
        GradualPruning::new(target, Scope::Global, LayerRates::uniform())
    }

    #[test]
    fn the_cubic_ramp_starts_steep_and_ends_at_the_target() {
        let g = gmp(0.9);
        // Planned 1,000 iterations: the ramp is 750 long.
        let check = |t: u64, expected: f64| {
            let s = g.sparsity_at(0.0, t, 1000);
            assert!((s - expected).abs() < 1e-12, "t={t}: {s} vs {expected}");
        };
        check(0, 0.0);
        check(375, 0.9 * (1.0 - 0.5f64.powi(3)));
        check(750, 0.9);
        check(1000, 0.9);
        // Steep at first: the first half of the ramp does 7/8 of the pruning.
        let (a, b) = (g.sparsity_at(0.0, 100, 1000), g.sparsity_at(0.0, 700, 1000));
        assert!(a > 0.9 * 0.3 && b - g.sparsity_at(0.0, 600, 1000) < 0.01);
        // From a sparse start the ramp goes from there.
        assert!((g.sparsity_at(0.5, 0, 1000) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn prunes_every_hundred_iterations() {
        let g = gmp(0.5);
        assert!(g.prunes_at(100) && g.prunes_at(300));
        assert!(!g.prunes_at(150) && !g.prunes_at(1));
    }
}
