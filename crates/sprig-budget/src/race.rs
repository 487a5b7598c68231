//! Choosing where to train by timing it: a few steps of the run's own training on every
//! candidate (the compiled backends, for `--backend auto`), the fastest wins.
//!
//! Under a wall-clock budget the fastest backend buys the most iterations, and which one
//! is fastest depends on the model (LibTorch's convolutions, a pure-Rust backend's small
//! matrix products), so it is measured, not tabulated. The race's own time is charged to
//! the budget, so it is kept short: a candidate far slower than one already timed is left
//! before its timed steps, and a candidate that cannot step at all is left with its error.

use std::fmt::Display;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::Clock;

/// How a [`Race`] times each candidate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RaceConfig {
    /// Untimed steps first: kernel compilation, autotuning and a trainer's own thread
    /// probe make the first steps slower than the rest.
    pub warm_up: u32,
    /// Timed steps after the warm-up; the candidate's time is their median.
    pub timed: u32,
    /// A candidate is left once its steps so far took longer than this many times the
    /// whole race of the quickest candidate timed before it…
    pub patience: f64,
    /// …or than this, whichever is longer (a first step's one-off costs are not slowness).
    pub min_patience: Duration,
    /// The preferred candidate (the default backend) wins unless another one's step is
    /// shorter by more than this share of it: a few steps' medians differ by a few percent
    /// between runs, and a choice that flips on noise would make reruns differ.
    pub margin: f64,
}

impl Default for RaceConfig {
    fn default() -> Self {
        Self {
            warm_up: 5,
            timed: 5,
            patience: 3.0,
            min_patience: Duration::from_secs(1),
            margin: 0.1,
        }
    }
}

/// One candidate's part in a race.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Lap<C> {
    /// What was timed.
    pub candidate: C,
    /// The median of its timed steps in milliseconds; `None` when it was left first.
    pub step_ms: Option<f64>,
    /// Steps it took, warm-up included.
    pub steps: u32,
    /// Seconds it spent in the race (its steps).
    pub spent_s: f64,
    /// Why it has no time: too slow, or the error it stopped with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left: Option<String>,
}

/// Times candidates one after the other and names the fastest.
#[derive(Debug, Clone)]
pub struct Race<C> {
    config: RaceConfig,
    preferred: C,
    laps: Vec<Lap<C>>,
    /// The shortest time a candidate took to finish its warm-up and timed steps.
    quickest: Option<Duration>,
}

/// A finished race: the winner and every lap, in the order they ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RaceResult<C> {
    /// The candidate to use.
    pub winner: C,
    /// Every candidate's lap.
    pub laps: Vec<Lap<C>>,
}

impl<C: Clone + PartialEq> Race<C> {
    /// A race in which `preferred` wins ties within [`RaceConfig::margin`].
    pub fn new(config: RaceConfig, preferred: C) -> Self {
        Self {
            config,
            preferred,
            laps: Vec::new(),
            quickest: None,
        }
    }

    /// Times `candidate`: `step` takes one training step on it. A step's error leaves the
    /// candidate (recorded in its lap), it does not end the race.
    pub fn run<E: Display>(
        &mut self,
        candidate: C,
        clock: &dyn Clock,
        mut step: impl FnMut() -> Result<(), E>,
    ) {
        let c = self.config;
        let limit = self
            .quickest
            .map(|q| q.mul_f64(c.patience).max(c.min_patience));
        let start = clock.now();
        let mut times = Vec::with_capacity(c.timed as usize);
        let mut steps = 0;
        let mut left = None;
        while steps < c.warm_up + c.timed {
            let before = clock.now();
            if let Err(e) = step() {
                left = Some(format!("its step failed: {e}"));
                break;
            }
            steps += 1;
            let now = clock.now();
            if steps > c.warm_up {
                times.push(now.saturating_sub(before));
            }
            if let Some(limit) = limit
                && steps < c.warm_up + c.timed
                && now.saturating_sub(start) > limit
            {
                left = Some(format!(
                    "left after {steps} step(s) taking {:.3} s, over {:.3} s ({}× the quickest candidate's race)",
                    now.saturating_sub(start).as_secs_f64(),
                    limit.as_secs_f64(),
                    c.patience
                ));
                break;
            }
        }
        let spent = clock.now().saturating_sub(start);
        let step_ms = match left {
            None => median(&mut times).map(|d| d.as_secs_f64() * 1e3),
            Some(_) => None,
        };
        if step_ms.is_some() {
            self.quickest = Some(self.quickest.map_or(spent, |q| q.min(spent)));
        }
        self.laps.push(Lap {
            candidate,
            step_ms,
            steps,
            spent_s: spent.as_secs_f64(),
            left,
        });
    }

    /// Records a candidate that could not be set up (its device, its model), with why.
    pub fn unavailable(&mut self, candidate: C, why: impl Display) {
        self.laps.push(Lap {
            candidate,
            step_ms: None,
            steps: 0,
            spent_s: 0.0,
            left: Some(format!("unavailable: {why}")),
        });
    }

    /// The laps so far, in the order they ran.
    pub fn laps(&self) -> &[Lap<C>] {
        &self.laps
    }

    /// The winner: the candidate with the shortest step, or the preferred one when its
    /// step is within the margin of that; `None` when no candidate was timed.
    pub fn finish(self) -> Option<RaceResult<C>> {
        let timed = || {
            self.laps
                .iter()
                .filter_map(|l| l.step_ms.map(|ms| (l.candidate.clone(), ms)))
        };
        let (fastest, best) = timed().min_by(|a, b| a.1.total_cmp(&b.1))?;
        let preferred = timed().find(|(c, _)| *c == self.preferred);
        let winner = match preferred {
            Some((p, ms)) if ms <= best * (1.0 + self.config.margin) => p,
            _ => fastest,
        };
        Some(RaceResult {
            winner,
            laps: self.laps,
        })
    }
}

fn median(times: &mut [Duration]) -> Option<Duration> {
    crate::Estimator::Median.estimate(times)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FakeClock;

    /// A fake profiler: every candidate's step takes a fixed time on the fake clock (its
    /// first step `first` instead), or fails.
    #[derive(Clone, Copy)]
    enum Fake {
        Steps { first_ms: u64, ms: u64 },
        Fails,
    }

    /// Races `(name, fake)` candidates in order, `preferred` first-choice; returns the
    /// winner and, per candidate, its step time or why it was left (abridged).
    fn race(preferred: &str, candidates: &[(&'static str, Fake)]) -> String {
        let clock = FakeClock::new();
        let mut race = Race::new(RaceConfig::default(), preferred);
        for &(name, fake) in candidates {
            let mut n = 0;
            race.run(name, &clock, || {
                n += 1;
                match fake {
                    Fake::Fails => Err("no device"),
                    Fake::Steps { first_ms, ms } => {
                        let ms = if n == 1 { first_ms } else { ms };
                        clock.advance(Duration::from_millis(ms));
                        Ok(())
                    }
                }
            });
        }
        let result = race.finish();
        let laps = result.as_ref().map_or(Vec::new(), |r| {
            r.laps
                .iter()
                .map(|l| match (&l.step_ms, &l.left) {
                    (Some(ms), _) => format!("{} {ms}ms/{}", l.candidate, l.steps),
                    (None, Some(why)) => format!(
                        "{} left after {} ({})",
                        l.candidate,
                        l.steps,
                        why.split(':')
                            .next()
                            .unwrap_or(why)
                            .split(" after")
                            .next()
                            .unwrap_or("")
                    ),
                    (None, None) => format!("{} ?", l.candidate),
                })
                .collect()
        });
        match result {
            Some(r) => format!("{} <- {}", r.winner, laps.join(", ")),
            None => "none".into(),
        }
    }

    fn steps(first_ms: u64, ms: u64) -> Fake {
        Fake::Steps { first_ms, ms }
    }

    #[test]
    fn the_fastest_wins_unless_the_preferred_is_within_the_margin() {
        #[rustfmt::skip]
        let cases: &[(&[(&'static str, Fake)], &str)] = &[
            // Conv-2 on this machine: LibTorch's convolutions win by a wide margin;
            // ndarray's first step alone outlasts three times flex's whole race.
            (&[("flex", steps(400, 243)), ("ndarray", steps(10_000, 10_000)), ("tch-cpu", steps(300, 110))],
             "tch-cpu <- flex 243ms/10, ndarray left after 1 (left), tch-cpu 110ms/10"),
            // LeNet-300-100: within 10 % of each other, the default stays.
            (&[("flex", steps(5, 1)), ("ndarray", steps(5, 1)), ("tch-cpu", steps(150, 1))],
             "flex <- flex 1ms/10, ndarray 1ms/10, tch-cpu 1ms/10"),
            (&[("flex", steps(20, 100)), ("tch-cpu", steps(20, 91))],
             "flex <- flex 100ms/10, tch-cpu 91ms/10"),
            (&[("flex", steps(20, 100)), ("tch-cpu", steps(20, 89))],
             "tch-cpu <- flex 100ms/10, tch-cpu 89ms/10"),
            // A slow first step (LibTorch's start-up) is not slowness: under a second.
            (&[("flex", steps(14, 14)), ("tch-cpu", steps(900, 9))],
             "tch-cpu <- flex 14ms/10, tch-cpu 9ms/10"),
            // Only flex compiled.
            (&[("flex", steps(36, 36))], "flex <- flex 36ms/10"),
            // The preferred one failing leaves the others.
            (&[("flex", Fake::Fails), ("tch-cpu", steps(50, 50))],
             "tch-cpu <- flex left after 0 (its step failed), tch-cpu 50ms/10"),
            (&[("flex", Fake::Fails)], "none"),
        ];
        for (candidates, expect) in cases {
            assert_eq!(race("flex", candidates), *expect);
        }
    }
}
