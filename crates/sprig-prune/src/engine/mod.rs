//! The time-budgeted lottery-ticket search, independent of Burn.

mod budgeted;
mod record;
mod trainee;

pub use budgeted::{BudgetedConfig, run_budgeted};
pub use record::{BudgetedOutcome, RoundRecord, StopReason};
pub use trainee::{Evaluation, Trainee};
