//! The built-in policies as one serialisable value.

use serde::{Deserialize, Serialize};

use super::{ConvergencePolicy, FixedRounds, MaxRounds, PlanContext, RoundPolicy};
use crate::BudgetError;

/// Any of the built-in policies, chosen at run time (e.g. from a command
/// line) and saved with the plan as executed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum BuiltinPolicy {
    /// [`ConvergencePolicy`], the default.
    Convergence(ConvergencePolicy),
    /// [`FixedRounds`].
    Fixed(FixedRounds),
    /// [`MaxRounds`].
    Max(MaxRounds),
}

impl Default for BuiltinPolicy {
    fn default() -> Self {
        BuiltinPolicy::Convergence(ConvergencePolicy::default())
    }
}

impl RoundPolicy for BuiltinPolicy {
    fn choose(&self, ctx: &PlanContext<'_>) -> Result<Option<Vec<u64>>, BudgetError> {
        match self {
            BuiltinPolicy::Convergence(p) => p.choose(ctx),
            BuiltinPolicy::Fixed(p) => p.choose(ctx),
            BuiltinPolicy::Max(p) => p.choose(ctx),
        }
    }
}
