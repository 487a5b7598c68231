//! Robust measurement of per-iteration, evaluation and prune+rewind costs.
//!
//! The first iterations of a run are slow for reasons that do not last
//! (kernel compilation, autotuning, cold caches, allocator growth), and any
//! later one can be hit by a stray hiccup (a GC pause in another process, a
//! page fault). A plan built on a mean would be thrown off by both, so the
//! profiler skips a warm-up and estimates by the median (or a trimmed mean)
//! of a window of recent samples. The window also makes re-measurement after
//! each round follow a machine that slows down for good.

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::cost::{duration, nanos};
use crate::{BudgetError, CostModel};

/// How a set of duration samples is reduced to one estimate.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub enum Estimator {
    /// The median (upper median for an even count): ignores up to half the
    /// samples being outliers.
    #[default]
    Median,
    /// The mean after dropping the `trim` fraction of samples at each end
    /// (`trim` in `[0, 0.5)`; 0 is the plain mean). Smoother than the median
    /// when timings are bimodal, still robust to a few outliers.
    TrimmedMean {
        /// Fraction dropped at each end.
        trim: f64,
    },
}

impl Estimator {
    /// Reduces `samples` to one duration; `None` when there are none.
    ///
    /// The slice is reordered. An invalid trim (NaN, outside `[0, 0.5)`)
    /// falls back to the median rather than panicking;
    /// [`IterationProfiler::new`] rejects it up front.
    pub fn estimate(self, samples: &mut [Duration]) -> Option<Duration> {
        if samples.is_empty() {
            return None;
        }
        match self {
            Estimator::TrimmedMean { trim } if (0.0..0.5).contains(&trim) => {
                samples.sort_unstable();
                // Truncation is intended: drop whole samples only.
                let cut = (samples.len() as f64 * trim) as usize;
                let kept = &samples[cut..samples.len() - cut];
                let sum: u128 = kept.iter().map(|d| nanos(*d)).sum();
                Some(duration(sum / kept.len() as u128))
            }
            _ => {
                let mid = samples.len() / 2;
                let (_, median, _) = samples.select_nth_unstable(mid);
                Some(*median)
            }
        }
    }
}

/// Settings of an [`IterationProfiler`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProfilerConfig {
    /// Iterations at the very start that are recorded as seen but never
    /// used for the estimate.
    pub warmup: usize,
    /// Samples (after warm-up) needed before [`IterationProfiler::estimate`]
    /// answers. At least 1.
    pub min_samples: usize,
    /// Only the most recent `window` samples are kept and used, so the
    /// estimate follows lasting changes of speed. At least `min_samples`.
    pub window: usize,
    /// How samples are reduced to one estimate.
    pub estimator: Estimator,
}

impl Default for ProfilerConfig {
    /// Warm-up 5, 10 samples needed, window of 64, median.
    fn default() -> Self {
        Self {
            warmup: 5,
            min_samples: 10,
            window: 64,
            estimator: Estimator::Median,
        }
    }
}

impl ProfilerConfig {
    /// Iterations of the dense training spent profiling before the first
    /// plan can be made: `warmup + min_samples`.
    pub fn profiling_iterations(&self) -> u64 {
        u64::try_from(self.warmup.saturating_add(self.min_samples)).unwrap_or(u64::MAX)
    }

    fn validate(&self) -> Result<(), BudgetError> {
        if self.min_samples == 0 {
            return Err(BudgetError::InvalidProfilerConfig(
                "min_samples must be at least 1",
            ));
        }
        if self.window < self.min_samples {
            return Err(BudgetError::InvalidProfilerConfig(
                "window must hold at least min_samples samples",
            ));
        }
        if let Estimator::TrimmedMean { trim } = self.estimator
            && !(0.0..0.5).contains(&trim)
        {
            return Err(BudgetError::InvalidProfilerConfig(
                "trimmed-mean trim must be in [0, 0.5)",
            ));
        }
        Ok(())
    }
}

/// Records how long iterations, evaluations and prune+rewinds take and
/// estimates their costs.
///
/// Profiling is not a separate phase: the dense training's first
/// iterations are recorded as they run (they count as training), and the
/// engine keeps recording every iteration so the estimate is fresh when it
/// re-plans after each round.
#[derive(Debug, Clone)]
pub struct IterationProfiler {
    config: ProfilerConfig,
    seen: u64,
    iterations: VecDeque<Duration>,
    /// How many of the oldest `iterations` were timed before the step last changed
    /// ([`step_changed`](IterationProfiler::step_changed)): dropped once `min_samples`
    /// newer ones are in.
    stale: usize,
    evaluations: VecDeque<Duration>,
    prune_rewinds: VecDeque<Duration>,
}

impl Default for IterationProfiler {
    fn default() -> Self {
        Self::from_valid(ProfilerConfig::default())
    }
}

impl IterationProfiler {
    /// A profiler with the given settings; errors if `min_samples` is 0,
    /// `window < min_samples` or a trimmed-mean trim is outside `[0, 0.5)`.
    pub fn new(config: ProfilerConfig) -> Result<Self, BudgetError> {
        config.validate()?;
        Ok(Self::from_valid(config))
    }

    fn from_valid(config: ProfilerConfig) -> Self {
        Self {
            config,
            seen: 0,
            iterations: VecDeque::with_capacity(config.window),
            stale: 0,
            evaluations: VecDeque::new(),
            prune_rewinds: VecDeque::new(),
        }
    }

    /// A profiler for a run resumed from a checkpoint: its windows start with the costs
    /// measured before the interruption (`min_samples` iteration samples, one of each other
    /// kind) and no warm-up, so the first plan after resuming needs no profiling; fresh
    /// samples push the saved ones out of the window as the run goes on.
    pub fn resumed(config: ProfilerConfig, costs: &CostModel) -> Result<Self, BudgetError> {
        let mut profiler = Self::new(config)?;
        profiler.seen = u64::try_from(config.warmup).unwrap_or(u64::MAX);
        for _ in 0..config.min_samples {
            profiler.record_iteration(costs.iteration);
        }
        profiler.record_evaluation(costs.evaluation);
        profiler.record_prune_rewind(costs.prune_rewind);
        Ok(profiler)
    }

    /// The settings in use.
    pub fn config(&self) -> &ProfilerConfig {
        &self.config
    }

    /// Records the duration of one training iteration.
    pub fn record_iteration(&mut self, d: Duration) {
        self.seen = self.seen.saturating_add(1);
        if self.seen <= self.config.warmup as u64 {
            return;
        }
        if self.iterations.len() == self.config.window {
            self.stale = self.stale.saturating_sub(1);
        }
        push_bounded(&mut self.iterations, d, self.config.window);
        if self.stale > 0 && self.iterations.len() - self.stale >= self.config.min_samples {
            self.iterations.drain(..self.stale);
            self.stale = 0;
        }
    }

    /// Says that an iteration costs something else from now on (a prune: a sparser
    /// round's step is cheaper where layers compute with the surviving weights): the
    /// samples so far still answer until `min_samples` new ones are in, then only the new
    /// ones count, so the plan spends the time the cheaper rounds free.
    pub fn step_changed(&mut self) {
        self.stale = self.iterations.len();
    }

    /// Records the duration of one evaluation.
    pub fn record_evaluation(&mut self, d: Duration) {
        push_bounded(&mut self.evaluations, d, self.config.window);
    }

    /// Records the duration of one prune + rewind.
    pub fn record_prune_rewind(&mut self, d: Duration) {
        push_bounded(&mut self.prune_rewinds, d, self.config.window);
    }

    /// Iterations recorded so far, warm-up included.
    pub fn iterations_seen(&self) -> u64 {
        self.seen
    }

    /// Iteration samples currently usable for the estimate (after warm-up,
    /// at most `window`).
    pub fn samples(&self) -> usize {
        self.iterations.len()
    }

    /// Whether [`estimate`](Self::estimate) has enough samples to answer.
    pub fn has_enough_samples(&self) -> bool {
        self.iterations.len() >= self.config.min_samples
    }

    /// Estimated time per iteration, t_e; `None` until `min_samples`
    /// iterations past the warm-up have been recorded.
    pub fn estimate(&self) -> Option<Duration> {
        if !self.has_enough_samples() {
            return None;
        }
        estimate_of(&self.iterations, self.config.estimator)
    }

    /// Estimated cost of one evaluation; `None` before the first one.
    pub fn evaluation_estimate(&self) -> Option<Duration> {
        estimate_of(&self.evaluations, self.config.estimator)
    }

    /// Estimated cost of one prune + rewind; `None` before the first one.
    pub fn prune_rewind_estimate(&self) -> Option<Duration> {
        estimate_of(&self.prune_rewinds, self.config.estimator)
    }

    /// The three estimates as a [`CostModel`] for the planner.
    ///
    /// Errors with [`BudgetError::NotEnoughSamples`] naming the first cost
    /// that is not known yet. During profiling the engine should therefore
    /// time one evaluation and one prune+rewind (a trial prune whose mask is
    /// thrown away) besides the iterations; [`minimum_budget`](crate::minimum_budget)
    /// charges for both.
    pub fn cost_model(&self) -> Result<CostModel, BudgetError> {
        let iteration = self.estimate().ok_or(BudgetError::NotEnoughSamples {
            what: "iteration",
            have: self.iterations.len(),
            need: self.config.min_samples,
        })?;
        let evaluation = self
            .evaluation_estimate()
            .ok_or(BudgetError::NotEnoughSamples {
                what: "evaluation",
                have: 0,
                need: 1,
            })?;
        let prune_rewind = self
            .prune_rewind_estimate()
            .ok_or(BudgetError::NotEnoughSamples {
                what: "prune+rewind",
                have: 0,
                need: 1,
            })?;
        Ok(CostModel {
            iteration,
            evaluation,
            prune_rewind,
        })
    }
}

fn push_bounded(samples: &mut VecDeque<Duration>, d: Duration, window: usize) {
    if samples.len() >= window.max(1) {
        samples.pop_front();
    }
    samples.push_back(d);
}

fn estimate_of(samples: &VecDeque<Duration>, estimator: Estimator) -> Option<Duration> {
    let mut v: Vec<Duration> = samples.iter().copied().collect();
    estimator.estimate(&mut v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    /// No warm-up, 3 samples to answer, a window of 8.
    fn small() -> IterationProfiler {
        IterationProfiler::new(ProfilerConfig {
            warmup: 0,
            min_samples: 3,
            window: 8,
            estimator: Estimator::Median,
        })
        .unwrap()
    }

    #[test]
    fn a_resumed_profiler_answers_at_once_and_then_follows_fresh_samples() {
        let config = ProfilerConfig::default();
        let costs = CostModel::new(ms(7), ms(30), ms(2));
        let mut p = IterationProfiler::resumed(config, &costs).unwrap();
        assert_eq!(p.cost_model().unwrap(), costs);
        // No warm-up after resuming: the first fresh sample already counts.
        for _ in 0..config.min_samples + 1 {
            p.record_iteration(ms(20));
        }
        assert_eq!(p.estimate(), Some(ms(20)));
    }

    #[test]
    fn warmup_is_skipped_and_median_used() {
        let mut p = IterationProfiler::default();
        for _ in 0..5 {
            p.record_iteration(ms(500));
        }
        assert_eq!(p.samples(), 0);
        for i in 0..9 {
            p.record_iteration(ms(10 + i));
        }
        assert!(!p.has_enough_samples());
        assert_eq!(p.estimate(), None);
        p.record_iteration(ms(1000));
        assert!(p.has_enough_samples());
        // samples 10..=18 and 1000: upper median of 10 values = 15.
        assert_eq!(p.estimate(), Some(ms(15)));
        assert_eq!(p.iterations_seen(), 15);
    }

    #[test]
    fn after_a_step_change_only_the_new_samples_count_once_there_are_enough() {
        let mut p = small();
        for _ in 0..8 {
            p.record_iteration(ms(10));
        }
        p.step_changed();
        // Too few new samples: the old ones still answer.
        for _ in 0..2 {
            p.record_iteration(ms(2));
        }
        assert_eq!(p.estimate(), Some(ms(10)));
        // min_samples new ones: the old are dropped, not outvoted slowly.
        p.record_iteration(ms(2));
        assert_eq!((p.estimate(), p.samples()), (Some(ms(2)), 3));
        // A change with nothing recorded since the last one keeps the samples meaningful.
        p.step_changed();
        p.step_changed();
        for _ in 0..3 {
            p.record_iteration(ms(1));
        }
        assert_eq!((p.estimate(), p.samples()), (Some(ms(1)), 3));
    }

    #[test]
    fn window_follows_a_lasting_slowdown() {
        let mut p = small();
        for _ in 0..20 {
            p.record_iteration(ms(1));
        }
        for _ in 0..8 {
            p.record_iteration(ms(4));
        }
        assert_eq!(p.estimate(), Some(ms(4)));
        assert_eq!(p.samples(), 8);
    }

    #[test]
    fn trimmed_mean_drops_the_tails() {
        let mut v = vec![ms(1), ms(10), ms(10), ms(10), ms(100)];
        assert_eq!(
            Estimator::TrimmedMean { trim: 0.2 }.estimate(&mut v),
            Some(ms(10))
        );
        let mut v = vec![ms(1), ms(3)];
        assert_eq!(
            Estimator::TrimmedMean { trim: 0.0 }.estimate(&mut v),
            Some(ms(2))
        );
        assert_eq!(Estimator::Median.estimate(&mut []), None);
    }

    #[test]
    fn cost_model_needs_all_three() {
        let mut p = IterationProfiler::new(ProfilerConfig {
            warmup: 1,
            min_samples: 2,
            window: 4,
            estimator: Estimator::Median,
        })
        .unwrap();
        for _ in 0..3 {
            p.record_iteration(ms(2));
        }
        assert!(matches!(
            p.cost_model(),
            Err(BudgetError::NotEnoughSamples {
                what: "evaluation",
                ..
            })
        ));
        p.record_evaluation(ms(20));
        assert!(matches!(
            p.cost_model(),
            Err(BudgetError::NotEnoughSamples {
                what: "prune+rewind",
                ..
            })
        ));
        p.record_prune_rewind(ms(7));
        assert_eq!(p.cost_model(), Ok(CostModel::new(ms(2), ms(20), ms(7))));
    }

    #[test]
    fn bad_configs_are_errors() {
        let bad = [
            ProfilerConfig {
                min_samples: 0,
                ..ProfilerConfig::default()
            },
            ProfilerConfig {
                window: 3,
                ..ProfilerConfig::default()
            },
            ProfilerConfig {
                estimator: Estimator::TrimmedMean { trim: 0.5 },
                ..ProfilerConfig::default()
            },
            ProfilerConfig {
                estimator: Estimator::TrimmedMean { trim: f64::NAN },
                ..ProfilerConfig::default()
            },
        ];
        for c in bad {
            assert!(IterationProfiler::new(c).is_err(), "{c:?}");
        }
        assert_eq!(ProfilerConfig::default().profiling_iterations(), 15);
    }
}
