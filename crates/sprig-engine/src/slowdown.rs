//! Injected faults, to check on a real run what tests check with fakes: a slowdown (the
//! deadline must hold when the machine gets slower mid-run — another tenant, thermal
//! throttling: every iteration of a later training sleeps so that it takes `factor` times
//! as long as it really did), and a diverging training (the loss of one iteration is NaN:
//! the round must stop and the last good ticket be kept).

use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sprig_mask::{MaskSet, Snapshot};

use super::{Distillation, Evaluation, Trainee};
use crate::PruneError;

/// From which training on, and by how much, iterations get slower.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    /// Trainings run at full speed before the slowdown (1: the dense training).
    pub after_trainings: u32,
    /// How many times longer every later iteration takes, in [1, 100].
    pub factor: f64,
}

impl FromStr for Slowdown {
    type Err = PruneError;

    /// `AFTER:FACTOR`, e.g. `1:2`: from the second training on, iterations take twice as long.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            PruneError::Config(format!(
                "slowdown `{text}` is not AFTER:FACTOR (trainings at full speed, then how many \
                 times slower, from 1 to 100), e.g. 1:2"
            ))
        };
        let (after, factor) = text.split_once(':').ok_or_else(bad)?;
        let after_trainings = after.trim().parse().map_err(|_| bad())?;
        let factor: f64 = factor.trim().parse().map_err(|_| bad())?;
        if !(1.0..=100.0).contains(&factor) {
            return Err(bad());
        }
        Ok(Self {
            after_trainings,
            factor,
        })
    }
}

/// The iteration whose loss is made NaN.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Divergence {
    /// The training (1: the dense one).
    pub training: u32,
    /// The iteration within it (1-based).
    pub iteration: u64,
}

impl FromStr for Divergence {
    type Err = PruneError;

    /// `TRAINING:ITERATION`, e.g. `2:10`: the 10th iteration of the second training.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || {
            PruneError::Config(format!(
                "divergence `{text}` is not TRAINING:ITERATION (both from 1), e.g. 2:10"
            ))
        };
        let (training, iteration) = text.split_once(':').ok_or_else(bad)?;
        let training: u32 = training.trim().parse().map_err(|_| bad())?;
        let iteration: u64 = iteration.trim().parse().map_err(|_| bad())?;
        if training == 0 || iteration == 0 {
            return Err(bad());
        }
        Ok(Self {
            training,
            iteration,
        })
    }
}

/// The faults to inject into a run (none by default).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Faults {
    /// Later trainings get slower.
    pub slowdown: Option<Slowdown>,
    /// One iteration's loss is NaN.
    pub divergence: Option<Divergence>,
}

impl Faults {
    /// Whether any fault is set.
    pub fn any(&self) -> bool {
        self.slowdown.is_some() || self.divergence.is_some()
    }
}

/// A [`Trainee`] with injected [`Faults`].
#[derive(Debug)]
pub struct Faulty<'a, T> {
    inner: &'a mut T,
    faults: Faults,
    trainings: u32,
    steps: u64,
}

impl<'a, T: Trainee> Faulty<'a, T> {
    /// Wraps `inner`; trainings are counted from now.
    pub fn new(inner: &'a mut T, faults: Faults) -> Self {
        Self {
            inner,
            faults,
            trainings: 0,
            steps: 0,
        }
    }
}

impl<T: Trainee> Trainee for Faulty<'_, T> {
    fn weights(&self) -> Result<Snapshot, PruneError> {
        self.inner.weights()
    }

    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        self.inner.load_weights(weights)
    }

    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError> {
        self.trainings += 1;
        self.steps = 0;
        self.inner.start_training(masks, iterations)
    }

    fn update_masks(&mut self, masks: &MaskSet) -> Result<(), PruneError> {
        self.inner.update_masks(masks)
    }

    fn set_training_length(&mut self, iterations: u64) {
        self.inner.set_training_length(iterations);
    }

    fn step(&mut self) -> Result<f64, PruneError> {
        self.steps += 1;
        if self.faults.divergence
            == Some(Divergence {
                training: self.trainings,
                iteration: self.steps,
            })
        {
            return Err(PruneError::NonFiniteLoss {
                value: f64::NAN,
                iteration: self.steps,
                advice: " (injected by --debug-diverge)".into(),
            });
        }
        let started = Instant::now();
        let loss = self.inner.step()?;
        if let Some(slowdown) = self.faults.slowdown
            && self.trainings > slowdown.after_trainings
        {
            std::thread::sleep(started.elapsed().mul_f64(slowdown.factor - 1.0));
        }
        Ok(loss)
    }

    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        self.inner.validate()
    }

    fn set_teacher(
        &mut self,
        teacher: Option<(&Snapshot, Distillation)>,
    ) -> Result<(), PruneError> {
        self.inner.set_teacher(teacher)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slowdowns_parse_or_say_how_to_write_them() {
        let s: Slowdown = "1:2".parse().unwrap();
        assert_eq!((s.after_trainings, s.factor), (1, 2.0));
        for bad in ["2", "1:0.5", "x:2", "1:inf", "1:", "1:1e300", "1:NaN"] {
            let message = bad.parse::<Slowdown>().unwrap_err().to_string();
            assert!(message.contains("AFTER:FACTOR"), "{message}");
        }
        let d: Divergence = "2:10".parse().unwrap();
        assert_eq!((d.training, d.iteration), (2, 10));
        for bad in ["2", "0:3", "2:0", "a:b"] {
            let message = bad.parse::<Divergence>().unwrap_err().to_string();
            assert!(message.contains("TRAINING:ITERATION"), "{message}");
        }
    }
}
