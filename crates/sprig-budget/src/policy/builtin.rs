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

impl BuiltinPolicy {
    /// When a ranking training may stop early, if the policy says so (see
    /// [`ConvergencePolicy::ranking_overlap`] and
    /// [`ConvergencePolicy::ranking_agreement`]).
    pub fn ranking_stop(&self) -> Option<RankingStop> {
        match self {
            BuiltinPolicy::Convergence(p) => p
                .ranking_overlap
                .map(RankingStop::Survivors)
                .or(p.ranking_agreement.map(RankingStop::Removals)),
            BuiltinPolicy::Fixed(_) | BuiltinPolicy::Max(_) => None,
        }
    }

    /// Whether ranking trainings resume from the trained weights instead of rewinding
    /// (see [`ConvergencePolicy::ranking_resumes`]).
    pub fn ranking_resumes(&self) -> bool {
        match self {
            BuiltinPolicy::Convergence(p) => p.ranking_resumes,
            BuiltinPolicy::Fixed(_) | BuiltinPolicy::Max(_) => false,
        }
    }
}

/// The test that stops a ranking training once the mask the next prune would give has
/// settled between two checks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RankingStop {
    /// The two masks keep at least this share of their survivors in common.
    Survivors(f64),
    /// The two prunes remove at least this share of the same weights.
    Removals(f64),
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
