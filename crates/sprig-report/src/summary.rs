//! Runs grouped by configuration (everything but the seed), with mean ± std over seeds.

use std::cmp::Ordering;

use crate::RunResult;

/// Mean, sample standard deviation (n − 1; 0 for one value), minimum and maximum.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stat {
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation; 0 when there is one value.
    pub std: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

impl Stat {
    /// The statistics of `values` (finite ones only); `None` if there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let values: Vec<f64> = values.into_iter().filter(|v| v.is_finite()).collect();
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        let std = if n > 1 {
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        Some(Self {
            mean,
            std,
            min,
            max,
        })
    }
}

/// One configuration over its seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupSummary {
    /// A run of the group, for its configuration fields (seed and outcomes are the first
    /// run's and mean nothing here).
    pub config: RunResult,
    /// Seeds in the group.
    pub seeds: Vec<u64>,
    /// Test accuracy (fraction).
    pub test_accuracy: Stat,
    /// Achieved sparsity.
    pub sparsity: Stat,
    /// Wall time used, seconds.
    pub time_used_s: Stat,
    /// Time used over budget; `None` when unbudgeted.
    pub time_ratio: Option<Stat>,
    /// Pruning rounds.
    pub rounds: Stat,
    /// Training iterations, all trainings together; `None` when no run of the group
    /// recorded them (results written before they were).
    pub iterations: Option<Stat>,
    /// Sparsity of the embedding tables, for models that have them.
    pub embedding_sparsity: Option<Stat>,
}

/// The median of `values`: the mean of the middle two for an even count, NaN for none.
pub fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => 0.5 * (v[n / 2 - 1] + v[n / 2]),
    }
}

/// Whether two runs share a configuration (differ at most in seed and outcomes).
fn same_config(a: &RunResult, b: &RunResult) -> bool {
    a.domain == b.domain
        && a.dataset == b.dataset
        && a.model == b.model
        && a.method == b.method
        && a.backend == b.backend
        && a.budget_s == b.budget_s
        && a.target_sparsity == b.target_sparsity
        && a.lr_schedule == b.lr_schedule
        && a.variant == b.variant
        && a.split == b.split
}

/// Rank of a method in tables and legends: the reference first, then the method, then the
/// controls; unknown methods last.
pub(crate) fn method_rank(method: &str) -> usize {
    const ORDER: [&str; 8] = [
        "dense",
        "imp",
        "budgeted",
        "one_shot",
        "gmp",
        "truncated_imp",
        "random_prune",
        "random_reinit",
    ];
    ORDER
        .iter()
        .position(|m| *m == method)
        .unwrap_or(ORDER.len())
}

/// The table order: data set, model, budget (unbudgeted first), method, schedule, variant.
fn order(a: &RunResult, b: &RunResult) -> Ordering {
    let budget = |r: &RunResult| r.budget_s.unwrap_or(-1.0);
    (a.dataset.as_str(), a.model.as_str())
        .cmp(&(b.dataset.as_str(), b.model.as_str()))
        .then(budget(a).total_cmp(&budget(b)))
        .then(method_rank(&a.method).cmp(&method_rank(&b.method)))
        .then(a.method.cmp(&b.method))
        .then(a.target_sparsity.total_cmp(&b.target_sparsity))
        .then(a.lr_schedule.cmp(&b.lr_schedule))
        .then(a.variant.cmp(&b.variant))
}

/// Groups `runs` by configuration and summarises each group over its seeds, in table order.
pub fn summarise(runs: &[RunResult]) -> Vec<GroupSummary> {
    let mut groups: Vec<Vec<&RunResult>> = Vec::new();
    for run in runs {
        match groups.iter_mut().find(|g| same_config(g[0], run)) {
            Some(group) => group.push(run),
            None => groups.push(vec![run]),
        }
    }
    let mut summaries: Vec<GroupSummary> = groups
        .into_iter()
        .filter_map(|group| {
            let stat = |f: fn(&RunResult) -> f64| Stat::of(group.iter().map(|r| f(r)));
            Some(GroupSummary {
                config: group[0].clone(),
                seeds: group.iter().map(|r| r.seed).collect(),
                test_accuracy: stat(|r| r.test_accuracy)?,
                sparsity: stat(|r| r.sparsity)?,
                time_used_s: stat(|r| r.time_used_s)?,
                time_ratio: Stat::of(group.iter().filter_map(|r| r.time_ratio())),
                rounds: stat(|r| f64::from(r.rounds))?,
                iterations: Stat::of(
                    group
                        .iter()
                        .filter(|r| r.iterations > 0)
                        .map(|r| r.iterations as f64),
                ),
                embedding_sparsity: Stat::of(group.iter().filter_map(|r| r.embedding_sparsity)),
            })
        })
        .collect();
    summaries.sort_by(|a, b| order(&a.config, &b.config));
    summaries
}

#[cfg(test)]
mod tests {
    use super::median;

    #[test]
    fn medians_of_odd_even_and_empty_lists() {
        for (values, expected) in [
            (vec![3.0], 3.0),
            (vec![9.0, 1.0, 5.0], 5.0),
            (vec![4.0, 1.0, 2.0, 30.0], 3.0),
        ] {
            assert_eq!(median(&values), expected, "{values:?}");
        }
        assert!(median(&[]).is_nan());
    }
}
