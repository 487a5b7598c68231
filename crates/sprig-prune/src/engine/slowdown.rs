//! An injected slowdown, to check on the real clock that the deadline holds when the
//! machine gets slower mid-run (another tenant, thermal throttling): every iteration of a
//! later training sleeps so that it takes `factor` times as long as it really did.

use std::str::FromStr;
use std::time::Instant;

use serde::{Deserialize, Serialize};
use sprig_mask::{MaskSet, Snapshot};

use super::{Evaluation, Trainee};
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

/// A [`Trainee`] that sleeps after each iteration of its slowed trainings.
#[derive(Debug)]
pub struct Slowed<'a, T> {
    inner: &'a mut T,
    slowdown: Slowdown,
    trainings: u32,
}

impl<'a, T: Trainee> Slowed<'a, T> {
    /// Wraps `inner`; trainings are counted from now.
    pub fn new(inner: &'a mut T, slowdown: Slowdown) -> Self {
        Self {
            inner,
            slowdown,
            trainings: 0,
        }
    }
}

impl<T: Trainee> Trainee for Slowed<'_, T> {
    fn weights(&self) -> Result<Snapshot, PruneError> {
        self.inner.weights()
    }

    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        self.inner.load_weights(weights)
    }

    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError> {
        self.trainings += 1;
        self.inner.start_training(masks, iterations)
    }

    fn set_training_length(&mut self, iterations: u64) {
        self.inner.set_training_length(iterations);
    }

    fn step(&mut self) -> Result<f64, PruneError> {
        let started = Instant::now();
        let loss = self.inner.step()?;
        if self.trainings > self.slowdown.after_trainings {
            std::thread::sleep(started.elapsed().mul_f64(self.slowdown.factor - 1.0));
        }
        Ok(loss)
    }

    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        self.inner.validate()
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
    }
}
