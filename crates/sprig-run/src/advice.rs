//! Which method the evaluation tables say wins in a user's regime: what `sprig plan`
//! shows, and what `sprig prune --method auto` (the default) runs.
//!
//! The rule, applied to the standard tables in `docs/results/` as committed when the
//! binary was built:
//! 1. The rows of the same model on the same data set (on a user's own data set: the same
//!    model on any data set), of the methods a user can run — the default budgeted method,
//!    `one_shot`, `gmp`, `truncated_imp` — with a budget.
//! 2. The regime: the rows at the target sparsity nearest the user's, then at the budget
//!    nearest the user's (by ratio).
//! 3. The budgeted ticket runs unless one of the others beats it there by more than the
//!    pooled standard deviation of the seeds (a tie goes to the ticket, which is what
//!    Sprig exists to find); then that method runs.
//!
//! No row for the model, or no row of the default budgeted method in the regime (only
//! ablations or other policies there): budgeted, since nothing shows it beaten.

use std::fmt;

use sprig_models::Architecture;
use sprig_report::{GroupSummary, Outcome, RunResult, summarise, verdict};

use crate::config::{Dataset, Method};

/// The standard tables, read when the binary is built.
const TABLES: [&str; 3] = [
    include_str!("../../../docs/results/vision.json"),
    include_str!("../../../docs/results/text.json"),
    include_str!("../../../docs/results/audio.json"),
];

/// The methods `--method auto` chooses among, by their names in result files.
const RUNNABLE: [(&str, Method); 4] = [
    ("budgeted", Method::Budgeted),
    ("one_shot", Method::OneShot),
    ("gmp", Method::Gmp),
    ("truncated_imp", Method::TruncatedImp),
];

/// The tables' answer for one regime.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// The method to run.
    pub method: Method,
    /// The rows it was chosen from (data set, model, budget, target sparsity), if any.
    pub regime: Option<Regime>,
}

/// The table rows of the regime nearest the user's.
#[derive(Debug, Clone, PartialEq)]
pub struct Regime {
    /// Data set and model of the rows.
    pub dataset: String,
    /// The model.
    pub model: String,
    /// Their budget, seconds.
    pub budget_s: f64,
    /// Their target sparsity.
    pub target_sparsity: f64,
    /// Each runnable method's mean ± std test accuracy (fractions) and seeds there.
    pub methods: Vec<(String, f64, f64, usize)>,
    /// The budgeted row against the best of the others, as the table's last column says.
    pub verdict: Option<String>,
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(r) = &self.regime else {
            return write!(
                f,
                "the evaluation tables have no runs of this model: --method auto runs {}",
                self.method
            );
        };
        writeln!(
            f,
            "the evaluation tables, nearest regime ({} / {}, {} s, target sparsity {}):",
            r.dataset, r.model, r.budget_s, r.target_sparsity
        )?;
        for (method, mean, std, seeds) in &r.methods {
            writeln!(
                f,
                "  {method}: {:.2} ± {:.2} % test accuracy ({seeds} seed(s))",
                100.0 * mean,
                100.0 * std
            )?;
        }
        if let Some(v) = &r.verdict {
            writeln!(f, "  budgeted {v}")?;
        }
        write!(f, "--method auto runs {}", self.method)
    }
}

/// The advice for `model` on `dataset` with a budget of `budget_s` seconds and a target
/// sparsity of `target`, from the committed tables (see the module's rule).
pub fn advise(dataset: Dataset, model: Architecture, budget_s: f64, target: f64) -> Advice {
    let rows: Vec<RunResult> = TABLES
        .iter()
        .filter_map(|text| serde_json::from_str::<Vec<RunResult>>(text).ok())
        .flatten()
        .collect();
    advise_from(&rows, dataset, model, budget_s, target)
}

/// [`advise`] on given rows.
pub fn advise_from(
    rows: &[RunResult],
    dataset: Dataset,
    model: Architecture,
    budget_s: f64,
    target: f64,
) -> Advice {
    let candidates: Vec<&RunResult> = rows
        .iter()
        .filter(|r| {
            r.model == model.name()
                && (dataset.is_own() || r.dataset == dataset.name())
                && r.budget_s.is_some()
                && r.target_sparsity > 0.0
                && runnable(r).is_some()
        })
        .collect();
    let by_target = |r: &RunResult| (r.target_sparsity - target).abs();
    let closest_target = nearest(&candidates, by_target);
    let at_target: Vec<&RunResult> = candidates
        .into_iter()
        .filter(|r| by_target(r) == closest_target)
        .collect();
    let by_budget = |r: &RunResult| (r.budget_s.unwrap_or(1.0) / budget_s).ln().abs();
    let closest_budget = nearest(&at_target, by_budget);
    let regime: Vec<RunResult> = at_target
        .into_iter()
        .filter(|r| by_budget(r) == closest_budget)
        .cloned()
        .collect();
    let groups = summarise(&regime);
    let Some(first) = groups.first() else {
        return Advice {
            method: Method::Budgeted,
            regime: None,
        };
    };
    let judged = groups
        .iter()
        .find(|g| g.config.method == "budgeted")
        .and_then(|b| verdict(b, &groups));
    let method = judged
        .as_ref()
        .filter(|v| v.outcome == Outcome::LosesTo)
        .and_then(|v| RUNNABLE.iter().find(|(name, _)| *name == v.baseline))
        .map_or(Method::Budgeted, |(_, m)| *m);
    Advice {
        method,
        regime: Some(Regime {
            dataset: first.config.dataset.clone(),
            model: first.config.model.clone(),
            budget_s: first.config.budget_s.unwrap_or_default(),
            target_sparsity: first.config.target_sparsity,
            methods: groups.iter().map(method_row).collect(),
            verdict: judged.map(|v| v.to_string()),
        }),
    }
}

/// The smallest `distance` of a row of `pool` (infinite for none).
fn nearest(pool: &[&RunResult], distance: impl Fn(&RunResult) -> f64) -> f64 {
    pool.iter()
        .map(|r| distance(r))
        .min_by(|a, b| a.total_cmp(b))
        .unwrap_or(f64::INFINITY)
}

/// The runnable method of a row: the budgeted method only as run by default.
fn runnable(row: &RunResult) -> Option<Method> {
    RUNNABLE
        .iter()
        .find(|(name, _)| *name == row.method)
        .filter(|(_, m)| *m != Method::Budgeted || row.default)
        .map(|(_, m)| *m)
}

fn method_row(g: &GroupSummary) -> (String, f64, f64, usize) {
    (
        g.config.method.clone(),
        g.test_accuracy.mean,
        g.test_accuracy.std,
        g.seeds.len(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(method: &str, budget: f64, target: f64, seed: u64, accuracy: f64) -> RunResult {
        RunResult {
            domain: "vision".into(),
            dataset: "mnist".into(),
            model: "lenet-300-100".into(),
            method: method.into(),
            seed,
            backend: "flex".into(),
            budget_s: Some(budget),
            time_used_s: budget,
            target_sparsity: target,
            sparsity: target,
            test_accuracy: accuracy,
            rounds: 1,
            lr_schedule: "linear_decay".into(),
            iterations: 1,
            default: method == "budgeted",
            ..RunResult::default()
        }
    }

    fn rows(method: &str, budget: f64, target: f64, accuracies: &[f64]) -> Vec<RunResult> {
        accuracies
            .iter()
            .enumerate()
            .map(|(seed, &a)| row(method, budget, target, seed as u64, a))
            .collect()
    }

    /// `table` advised for MNIST/LeNet at `budget` s and `target`.
    fn check(table: &[Vec<RunResult>], budget: f64, target: f64, expect: Method) {
        let rows: Vec<RunResult> = table.iter().flatten().cloned().collect();
        let advice = advise_from(
            &rows,
            Dataset::Mnist,
            Architecture::Lenet300100,
            budget,
            target,
        );
        assert_eq!(advice.method, expect, "{advice}");
    }

    #[test]
    fn the_ticket_runs_unless_a_baseline_beats_it_beyond_the_noise() {
        let high = [
            rows("budgeted", 120.0, 0.982, &[0.975, 0.976, 0.977]),
            rows("gmp", 120.0, 0.982, &[0.980, 0.981, 0.982]),
            rows("one_shot", 120.0, 0.982, &[0.960, 0.961, 0.962]),
        ];
        let mild = [
            rows("budgeted", 120.0, 0.9, &[0.984, 0.985, 0.986]),
            rows("one_shot", 120.0, 0.9, &[0.983, 0.985, 0.987]),
        ];
        let table: Vec<Vec<RunResult>> = high.iter().chain(&mild).cloned().collect();
        // GMP beats the ticket at 0.982: it runs there and nearby.
        check(&table, 120.0, 0.982, Method::Gmp);
        check(&table, 60.0, 0.97, Method::Gmp);
        // A tie at 0.9 goes to the ticket.
        check(&table, 120.0, 0.85, Method::Budgeted);
        // No runs of the model: the ticket.
        check(&[], 120.0, 0.9, Method::Budgeted);
        // Baselines but no row of the default budgeted method (an ablation or another
        // policy): nothing shows the ticket beaten, so it runs.
        let mut ablation = rows("budgeted", 120.0, 0.9, &[0.970, 0.971, 0.972]);
        ablation.iter_mut().for_each(|r| r.default = false);
        let undated = [
            ablation,
            rows("one_shot", 120.0, 0.9, &[0.983, 0.985, 0.987]),
        ];
        check(&undated, 120.0, 0.9, Method::Budgeted);
        // Only a random control beats the ticket: controls are not methods to run.
        let controls = [
            rows("budgeted", 120.0, 0.9, &[0.984, 0.985, 0.986]),
            rows("random_reinit", 120.0, 0.9, &[0.990, 0.991, 0.992]),
        ];
        check(&controls, 120.0, 0.9, Method::Budgeted);
    }

    #[test]
    fn the_committed_tables_give_advice_that_says_where_it_comes_from() {
        let advice = advise(Dataset::Mnist, Architecture::Lenet300100, 120.0, 0.9);
        let text = advice.to_string();
        assert!(text.contains("--method auto runs"), "{text}");
        assert!(
            advice.regime.is_some(),
            "the vision table has LeNet rows: {text}"
        );
    }
}
