//! The lottery-ticket searches, independent of Burn: time-budgeted IMP, unconstrained IMP,
//! and single trainings for the baselines.

mod budgeted;
mod fixed;
mod imp;
mod record;
mod slowdown;
mod trainee;

pub use budgeted::{BudgetedConfig, run_budgeted};
pub use fixed::{TrainOnce, TrainOnceOutcome, TrainingLength, train_once};
pub use imp::{ImpConfig, ImpOutcome, run_imp};
pub use record::{BudgetedOutcome, RoundRecord, StopReason};
pub use slowdown::{Slowdown, Slowed};
pub use trainee::{Evaluation, Trainee};
