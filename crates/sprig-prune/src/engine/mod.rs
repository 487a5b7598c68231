//! The lottery-ticket searches, independent of Burn: time-budgeted IMP, unconstrained IMP,
//! gradual magnitude pruning, and single trainings for the baselines.

mod budgeted;
mod checkpoint;
mod fixed;
mod gradual;
mod imp;
mod observer;
mod record;
mod slowdown;
mod trainee;

pub use budgeted::{BudgetedConfig, plan_budgeted, run_budgeted, run_budgeted_observed};
pub use checkpoint::{Checkpoint, CheckpointState};
pub use fixed::{TrainOnce, TrainOnceOutcome, TrainingLength, train_once, train_once_observed};
pub use gradual::{GmpOutcome, GradualPruning, run_gmp};
pub use imp::{ImpConfig, ImpOutcome, run_imp};
pub use observer::{NoObserver, Observer, Step};
pub use record::{BudgetedOutcome, RoundRecord, StopReason};
pub use slowdown::{Divergence, Faults, Faulty, Slowdown};
pub use trainee::{Evaluation, Trainee};
