//! Why a budgeted run stopped: the scheduler's answer, recorded with every result.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Why a run stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// Every planned round ran and the final ticket was trained.
    Completed,
    /// The deadline arrived; the best valid ticket so far was finalised.
    Deadline,
    /// The planner found nothing more fits; the ticket so far was finalised.
    Finalised,
    /// The caller asked the run to stop (Ctrl-C); the best valid ticket so far was kept.
    Interrupted,
    /// A training's loss became NaN or infinite; the round stopped and the last good
    /// ticket was kept.
    Diverged,
}

impl StopReason {
    /// The name in result files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Completed => "completed",
            Self::Deadline => "deadline",
            Self::Finalised => "finalised",
            Self::Interrupted => "interrupted",
            Self::Diverged => "diverged",
        }
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_files_and_reports_use_the_same_name() {
        for reason in [
            StopReason::Completed,
            StopReason::Deadline,
            StopReason::Finalised,
            StopReason::Interrupted,
            StopReason::Diverged,
        ] {
            let json = serde_json::to_string(&reason).unwrap();
            assert_eq!(json, format!("\"{reason}\""));
            assert_eq!(serde_json::from_str::<StopReason>(&json).unwrap(), reason);
        }
    }
}
