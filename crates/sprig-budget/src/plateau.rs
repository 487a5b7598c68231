//! Detecting when the dense training has converged.
//!
//! The default policy gives every training about as many iterations as the
//! dense one needed, so the dense training must find out when it is done:
//! like LTH's early-stopping iteration, when the validation loss stops
//! improving. [`PlateauDetector`] is that test, on the losses of the
//! periodic evaluations.

use serde::{Deserialize, Serialize};

use crate::BudgetError;

/// Declares a plateau when the validation loss has not improved by more
/// than a relative `min_improvement` for `patience` evaluations in a row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlateauDetector {
    patience: u32,
    min_improvement: f64,
    best: Option<(u64, f64)>,
    stale: u32,
    converged_at: Option<u64>,
}

impl PlateauDetector {
    /// Patience 5 evaluations, 0.1 % relative improvement.
    pub const DEFAULT: (u32, f64) = (5, 1e-3);

    /// A detector; errors if `patience` is 0 or `min_improvement` is NaN or
    /// negative.
    pub fn new(patience: u32, min_improvement: f64) -> Result<Self, BudgetError> {
        if patience == 0 {
            return Err(BudgetError::InvalidPlateauConfig(
                "patience must be at least 1",
            ));
        }
        if !(min_improvement >= 0.0 && min_improvement.is_finite()) {
            return Err(BudgetError::InvalidPlateauConfig(
                "min_improvement must be a finite number ≥ 0",
            ));
        }
        Ok(Self {
            patience,
            min_improvement,
            best: None,
            stale: 0,
            converged_at: None,
        })
    }

    /// Records the validation loss measured after `iteration` iterations
    /// and returns whether the training has converged (it stays converged).
    /// A NaN or infinite loss counts as no improvement.
    pub fn observe(&mut self, iteration: u64, validation_loss: f64) -> bool {
        if self.converged_at.is_some() {
            return true;
        }
        let improved = validation_loss.is_finite()
            && match self.best {
                None => true,
                Some((_, best)) => validation_loss < best - self.min_improvement * best.abs(),
            };
        if improved {
            self.best = Some((iteration, validation_loss));
            self.stale = 0;
        } else {
            self.stale += 1;
            if self.stale >= self.patience {
                self.converged_at = Some(iteration);
            }
        }
        self.converged_at.is_some()
    }

    /// Whether a plateau has been detected.
    pub fn is_converged(&self) -> bool {
        self.converged_at.is_some()
    }

    /// The iteration at which the plateau was detected (what the training
    /// actually needed, patience included): a good value for
    /// [`Replanner::record_convergence`](crate::Replanner::record_convergence).
    pub fn converged_at(&self) -> Option<u64> {
        self.converged_at
    }

    /// The iteration with the lowest validation loss so far (LTH's
    /// early-stopping iteration) and that loss.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.best
    }
}

impl Default for PlateauDetector {
    fn default() -> Self {
        Self {
            patience: Self::DEFAULT.0,
            min_improvement: Self::DEFAULT.1,
            best: None,
            stale: 0,
            converged_at: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_a_plateau() {
        let mut p = PlateauDetector::new(2, 0.01).unwrap();
        assert!(!p.observe(100, 1.0));
        assert!(!p.observe(200, 0.5));
        assert!(!p.observe(300, 0.499)); // < 1 % better: stale 1
        assert!(!p.observe(400, 0.3)); // better: reset
        assert!(!p.observe(500, f64::NAN)); // stale 1
        assert!(p.observe(600, 0.31)); // stale 2: converged
        assert!(p.observe(700, 0.1));
        assert_eq!(p.converged_at(), Some(600));
        assert_eq!(p.best(), Some((400, 0.3)));
        assert!(p.is_converged());
    }

    #[test]
    fn bad_settings() {
        assert!(PlateauDetector::new(0, 0.1).is_err());
        assert!(PlateauDetector::new(1, -0.1).is_err());
        assert!(PlateauDetector::new(1, f64::NAN).is_err());
        assert!(!PlateauDetector::default().is_converged());
    }
}
