//! Whether a budgeted row really beats what a user could get otherwise in the same time:
//! its mean test accuracy against the best same-budget baseline's, judged by the seeds'
//! pooled standard deviation.

use std::fmt;

use crate::GroupSummary;

/// The methods a budgeted ticket is compared with: every sparse alternative a user could
/// run in the same budget (dense is the reference, not an alternative).
pub const BASELINES: [&str; 5] = [
    "one_shot",
    "gmp",
    "random_prune",
    "random_reinit",
    "truncated_imp",
];

/// How a difference of means compares with the seeds' spread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Higher by more than the pooled standard deviation.
    Beats,
    /// Within one pooled standard deviation: a tie.
    WithinNoise,
    /// Lower by more than the pooled standard deviation.
    LosesTo,
    /// One side has a single seed: no spread to judge by.
    TooFewSeeds,
}

/// A budgeted row against its best same-budget baseline.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The baseline's method name.
    pub baseline: String,
    /// The baseline's variant, where it tells rows of one method apart (GMP's ramp).
    pub baseline_variant: Option<String>,
    /// Mean test accuracy of the row minus the baseline's, in fractions.
    pub difference: f64,
    /// Pooled sample standard deviation of the two groups' test accuracies.
    pub pooled_std: f64,
    /// What the difference means.
    pub outcome: Outcome,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let baseline = match &self.baseline_variant {
            Some(variant) => format!("{} ({variant})", self.baseline),
            None => self.baseline.clone(),
        };
        let what = match self.outcome {
            Outcome::Beats => format!("beats {baseline}"),
            Outcome::WithinNoise => format!("within noise of {baseline}"),
            Outcome::LosesTo => format!("loses to {baseline}"),
            Outcome::TooFewSeeds => format!("one seed: no verdict against {baseline}"),
        };
        let points = 100.0 * self.difference;
        match self.outcome {
            // A single seed has no spread: a pooled std of zero would read as a judgement.
            Outcome::TooFewSeeds => write!(f, "{what} ({points:+.2} points)"),
            _ => write!(
                f,
                "{what} ({points:+.2} points, pooled std {:.2})",
                100.0 * self.pooled_std
            ),
        }
    }
}

/// Pooled sample standard deviation of two groups of `n` values with sample standard
/// deviations `s`; `None` when either group has a single value.
pub fn pooled_std((n1, s1): (usize, f64), (n2, s2): (usize, f64)) -> Option<f64> {
    if n1 < 2 || n2 < 2 {
        return None;
    }
    let (n1, n2) = (n1 as f64, n2 as f64);
    Some((((n1 - 1.0) * s1 * s1 + (n2 - 1.0) * s2 * s2) / (n1 + n2 - 2.0)).sqrt())
}

/// Whether `baseline` ran under the same conditions as `subject`: data set and split,
/// model, backend, budget and target sparsity.
pub fn same_conditions(subject: &GroupSummary, baseline: &GroupSummary) -> bool {
    let (a, b) = (&subject.config, &baseline.config);
    a.dataset == b.dataset
        && a.model == b.model
        && a.backend == b.backend
        && a.budget_s == b.budget_s
        && a.target_sparsity == b.target_sparsity
        && a.split == b.split
}

/// `subject` (a budgeted row) against the same-budget baseline of `groups` with the
/// highest mean test accuracy; `None` if it is not a budgeted row or has no baseline.
pub fn verdict(subject: &GroupSummary, groups: &[GroupSummary]) -> Option<Verdict> {
    if subject.config.method != "budgeted" {
        return None;
    }
    let best = groups
        .iter()
        .filter(|g| BASELINES.contains(&g.config.method.as_str()) && same_conditions(subject, g))
        .max_by(|a, b| a.test_accuracy.mean.total_cmp(&b.test_accuracy.mean))?;
    let mut verdict = compare(subject, best);
    // A random control's variant is its ticket's round policy, the subject's own: only
    // the other baselines' variants (GMP's ramp, truncated IMP's rounds) tell rows apart.
    if best.config.method.starts_with("random_") {
        verdict.baseline_variant = None;
    }
    Some(verdict)
}

/// `subject` against `other`: the difference of their mean test accuracies, judged by
/// the pooled standard deviation of their seeds.
pub fn compare(subject: &GroupSummary, other: &GroupSummary) -> Verdict {
    let difference = subject.test_accuracy.mean - other.test_accuracy.mean;
    let pooled = pooled_std(
        (subject.seeds.len(), subject.test_accuracy.std),
        (other.seeds.len(), other.test_accuracy.std),
    );
    let outcome = match pooled {
        None => Outcome::TooFewSeeds,
        Some(p) if difference > p => Outcome::Beats,
        Some(p) if difference < -p => Outcome::LosesTo,
        Some(_) => Outcome::WithinNoise,
    };
    Verdict {
        baseline: other.config.method.clone(),
        baseline_variant: other.config.variant.clone(),
        difference,
        pooled_std: pooled.unwrap_or(0.0),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_variant_is_named() {
        let verdict = |variant: Option<&str>| Verdict {
            baseline: "gmp".into(),
            baseline_variant: variant.map(Into::into),
            difference: 0.001,
            pooled_std: 0.002,
            outcome: Outcome::WithinNoise,
        };
        assert_eq!(
            verdict(None).to_string(),
            "within noise of gmp (+0.10 points, pooled std 0.20)"
        );
        assert_eq!(
            verdict(Some("ramp ends at 0.5 of the training")).to_string(),
            "within noise of gmp (ramp ends at 0.5 of the training) (+0.10 points, pooled std 0.20)"
        );
    }

    #[test]
    fn pooled_std_weights_each_group_by_its_degrees_of_freedom() {
        assert_eq!(pooled_std((1, 0.0), (5, 1.0)), None);
        let equal = pooled_std((5, 0.3), (5, 0.4)).unwrap();
        assert!((equal - (0.125f64).sqrt()).abs() < 1e-12, "{equal}");
        let unequal = pooled_std((3, 1.0), (5, 2.0)).unwrap();
        assert!((unequal - ((2.0 + 16.0) / 6.0f64).sqrt()).abs() < 1e-12);
    }
}
