//! The learning rate within one training.

use serde::{Deserialize, Serialize};

/// How the learning rate moves within one training of `length` iterations.
///
/// The length is the plan's: when a re-plan shortens or lengthens the training, the
/// schedule stretches from the iterations already done, so a linear decay still reaches
/// zero when the training ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LrSchedule {
    /// The base rate throughout, as in the LTH paper.
    Constant,
    /// Linear decay from the base rate to zero at the end of the training: the
    /// budget-aware schedule of Li, Yumer & Ramanan, "Budgeted Training" (ICLR 2020), who
    /// find it the best schedule when the number of iterations is fixed in advance.
    #[default]
    LinearDecay,
}

impl LrSchedule {
    /// Every schedule, in the order tables list them.
    pub const ALL: [LrSchedule; 2] = [LrSchedule::LinearDecay, LrSchedule::Constant];

    /// The name used in configs and result files.
    pub fn name(self) -> &'static str {
        match self {
            LrSchedule::Constant => "constant",
            LrSchedule::LinearDecay => "linear_decay",
        }
    }

    /// The rate for iteration `done` (0-based) of a training of `length` iterations.
    /// Iterations past the planned length (the plan was shortened under them) get the
    /// rate of the last planned iteration rather than zero or a negative rate.
    pub fn rate(self, base: f64, done: u64, length: u64) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::LinearDecay => {
                let length = length.max(1);
                let remaining = length.saturating_sub(done).max(1);
                base * remaining as f64 / length as f64
            }
        }
    }
}

impl std::fmt::Display for LrSchedule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for LrSchedule {
    type Err = String;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        LrSchedule::ALL
            .into_iter()
            .find(|s| s.name() == name.trim())
            .ok_or_else(|| {
                format!("unknown learning-rate schedule `{name}`: known are constant, linear_decay")
            })
    }
}

#[cfg(test)]
mod tests {
    use super::LrSchedule;

    #[test]
    fn linear_decay_ends_near_zero_and_never_below() {
        let s = LrSchedule::LinearDecay;
        assert_eq!(s.rate(1.0, 0, 100), 1.0);
        assert!((s.rate(1.0, 50, 100) - 0.5).abs() < 1e-12);
        assert!((s.rate(1.0, 99, 100) - 0.01).abs() < 1e-12);
        assert!(s.rate(1.0, 150, 100) > 0.0);
        assert_eq!(LrSchedule::Constant.rate(0.3, 99, 100), 0.3);
    }

    #[test]
    fn names_round_trip() {
        for s in LrSchedule::ALL {
            assert_eq!(s.name().parse::<LrSchedule>(), Ok(s));
        }
        assert!("cosine".parse::<LrSchedule>().is_err());
    }
}
