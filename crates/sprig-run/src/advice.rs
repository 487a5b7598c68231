//! Which method the evaluation tables say wins in a user's regime: what `sprig plan`
//! shows, and what `sprig prune --method auto` (the default) runs.
//!
//! The rule, applied to the tables in `docs/results/` as committed when the binary was
//! built:
//! 1. The rows of the same model on the same data set (on a user's own data set: the same
//!    model on any data set), of what a user can run — the default budgeted method, the
//!    default with an option the tables measure on its own (`--final-resumes`),
//!    `one_shot`, `gmp`, `truncated_imp` — with a budget. Where the in-progress tables
//!    (the current suite's sections being completed) and the standard tables (an earlier,
//!    complete grid) both hold a regime, the in-progress rows are the ones read.
//! 2. The regime: the rows at the target sparsity nearest the user's, then at the budget
//!    nearest the user's (by ratio).
//! 3. The default budgeted ticket runs unless alternatives under the same conditions
//!    (backend included) beat it there by more than the pooled standard deviation of the
//!    seeds (a tie goes to the ticket, which is what Sprig exists to find; a single seed
//!    has no spread and beats nothing); then the one of them with the highest mean test
//!    accuracy runs.
//!
//! No row for the model, or no row of the default budgeted method in the regime (only
//! ablations or other policies there): budgeted, since nothing shows it beaten.

use std::fmt;

use sprig_models::Architecture;
pub use sprig_report::DefaultOption;
use sprig_report::{
    GroupSummary, Outcome, RunResult, Verdict, compare, same_conditions, summarise,
};

use crate::config::{Dataset, Method};

/// The committed tables, read when the binary is built: the in-progress ones first, since
/// a regime's rows come from the first table that holds it.
const TABLES: [&str; 7] = [
    include_str!("../../../docs/results/in-progress/vision.json"),
    include_str!("../../../docs/results/in-progress/cifar10/vision.json"),
    include_str!("../../../docs/results/in-progress/text.json"),
    include_str!("../../../docs/results/in-progress/audio.json"),
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

/// What `--method auto` runs: a method, and for the budgeted one, an option on top of
/// its defaults.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The method.
    pub method: Method,
    /// The option the budgeted method runs with (`None`: its defaults).
    pub option: Option<DefaultOption>,
}

impl Choice {
    /// The default budgeted method.
    pub const TICKET: Self = Self {
        method: Method::Budgeted,
        option: None,
    };
}

impl From<Method> for Choice {
    /// The method with its defaults.
    fn from(method: Method) -> Self {
        Self {
            method,
            option: None,
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.option {
            Some(option) => write!(f, "{} {}", self.method, option.flag()),
            None => write!(f, "{}", self.method),
        }
    }
}

/// The tables' answer for one regime.
#[derive(Debug, Clone, PartialEq)]
pub struct Advice {
    /// What to run.
    pub choice: Choice,
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
    /// Each runnable choice's rows there.
    pub choices: Vec<ChoiceRows>,
    /// The default ticket against the alternative that runs instead, or else the one of
    /// the highest mean, as in "budgeted loses to gmp (…)".
    pub verdict: Option<String>,
}

/// The rows of one choice in a regime, summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct ChoiceRows {
    /// What a user runs to get them.
    pub choice: Choice,
    /// Mean test accuracy, a fraction.
    pub mean: f64,
    /// Its sample standard deviation over the seeds.
    pub std: f64,
    /// How many seeds.
    pub seeds: usize,
    /// The backend they ran on.
    pub backend: String,
    /// Their variant in the table, which tells two rows of one choice apart.
    pub variant: Option<String>,
}

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(r) = &self.regime else {
            return write!(
                f,
                "the evaluation tables have no runs of this model: --method auto runs {}",
                self.choice
            );
        };
        writeln!(
            f,
            "the evaluation tables, nearest regime ({} / {}, {} s, target sparsity {}):",
            r.dataset, r.model, r.budget_s, r.target_sparsity
        )?;
        for row in &r.choices {
            let repeated = r.choices.iter().filter(|o| o.choice == row.choice).count() > 1;
            let variant = match &row.variant {
                Some(v) if repeated => format!(" ({v})"),
                _ => String::new(),
            };
            writeln!(
                f,
                "  {}{variant}: {:.2} ± {:.2} % test accuracy ({} seed(s), {})",
                row.choice,
                100.0 * row.mean,
                100.0 * row.std,
                row.seeds,
                row.backend
            )?;
        }
        if let Some(v) = &r.verdict {
            writeln!(f, "  budgeted {v}")?;
        }
        write!(f, "--method auto runs {}", self.choice)
    }
}

/// The advice for `model` on `dataset` with a budget of `budget_s` seconds and a target
/// sparsity of `target`, from the committed tables (see the module's rule).
pub fn advise(dataset: Dataset, model: Architecture, budget_s: f64, target: f64) -> Advice {
    let tables: Vec<Vec<RunResult>> = TABLES
        .iter()
        .filter_map(|text| serde_json::from_str::<Vec<RunResult>>(text).ok())
        .collect();
    advise_from(
        &newest_per_regime(&tables),
        dataset,
        model,
        budget_s,
        target,
    )
}

/// The rows of `tables` (newest first), each regime's from the first table that holds it.
fn newest_per_regime(tables: &[Vec<RunResult>]) -> Vec<RunResult> {
    let regime = |r: &RunResult| {
        (
            r.dataset.clone(),
            r.model.clone(),
            r.budget_s.map(f64::to_bits),
            r.target_sparsity.to_bits(),
        )
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut rows = Vec::new();
    for table in tables {
        let fresh: Vec<&RunResult> = table
            .iter()
            .filter(|r| !seen.contains(&regime(r)))
            .collect();
        seen.extend(fresh.iter().map(|r| regime(r)));
        rows.extend(fresh.into_iter().cloned());
    }
    rows
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
            choice: Choice::TICKET,
            regime: None,
        };
    };
    // Every row of the regime is runnable (the candidates were), so every group has a choice.
    let runs: Vec<(Choice, &GroupSummary)> = groups
        .iter()
        .filter_map(|g| Some((runnable(&g.config)?, g)))
        .collect();
    let ticket = runs
        .iter()
        .find(|(c, _)| *c == Choice::TICKET)
        .map(|(_, g)| *g);
    let alternatives: Vec<(Choice, &GroupSummary, Verdict)> = ticket
        .map(|t| {
            runs.iter()
                .filter(|(c, g)| *c != Choice::TICKET && same_conditions(t, g))
                .map(|&(c, g)| {
                    let mut verdict = compare(t, g);
                    verdict.baseline = c.to_string();
                    verdict.baseline_variant = None;
                    (c, g, verdict)
                })
                .collect()
        })
        .unwrap_or_default();
    let by_mean = |a: &&(Choice, &GroupSummary, Verdict), b: &&(Choice, &GroupSummary, Verdict)| {
        a.1.test_accuracy.mean.total_cmp(&b.1.test_accuracy.mean)
    };
    let winner = alternatives
        .iter()
        .filter(|(_, _, v)| v.outcome == Outcome::LosesTo)
        .max_by(by_mean);
    let shown = winner.or_else(|| alternatives.iter().max_by(by_mean));
    let choice = winner.map_or(Choice::TICKET, |(c, _, _)| *c);
    Advice {
        choice,
        regime: Some(Regime {
            dataset: first.config.dataset.clone(),
            model: first.config.model.clone(),
            budget_s: first.config.budget_s.unwrap_or_default(),
            target_sparsity: first.config.target_sparsity,
            choices: runs.iter().map(|&(c, g)| choice_rows(c, g)).collect(),
            verdict: shown.map(|(_, _, v)| v.to_string()),
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

/// What a user runs to get a row: the budgeted method only as run by default or with one
/// option the tables measure.
fn runnable(row: &RunResult) -> Option<Choice> {
    let (_, method) = RUNNABLE.iter().find(|(name, _)| *name == row.method)?;
    match method {
        Method::Budgeted if row.default => Some(Choice::TICKET),
        Method::Budgeted => row.option.map(|option| Choice {
            method: Method::Budgeted,
            option: Some(option),
        }),
        &method => Some(method.into()),
    }
}

fn choice_rows(choice: Choice, g: &GroupSummary) -> ChoiceRows {
    ChoiceRows {
        choice,
        mean: g.test_accuracy.mean,
        std: g.test_accuracy.std,
        seeds: g.seeds.len(),
        backend: g.config.backend.clone(),
        variant: g.config.variant.clone(),
    }
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
    fn check(table: &[Vec<RunResult>], budget: f64, target: f64, expect: impl Into<Choice>) {
        let rows: Vec<RunResult> = table.iter().flatten().cloned().collect();
        let advice = advise_from(
            &rows,
            Dataset::Mnist,
            Architecture::Lenet300100,
            budget,
            target,
        );
        assert_eq!(advice.choice, expect.into(), "{advice}");
    }

    /// Rows of the default budgeted method with `option` on top.
    fn with_option(option: DefaultOption, mut rows: Vec<RunResult>) -> Vec<RunResult> {
        for r in &mut rows {
            r.default = false;
            r.option = Some(option);
            r.variant = Some(format!("with {}", option.flag()));
        }
        rows
    }

    #[test]
    fn an_option_of_the_ticket_runs_where_it_beats_the_ticket_beyond_the_noise() {
        let resumed = Choice {
            method: Method::Budgeted,
            option: Some(DefaultOption::FinalResumes),
        };
        let table = [
            rows(
                "budgeted",
                180.0,
                0.95,
                &[0.864, 0.858, 0.858, 0.788, 0.862],
            ),
            with_option(
                DefaultOption::FinalResumes,
                rows(
                    "budgeted",
                    180.0,
                    0.95,
                    &[0.884, 0.868, 0.868, 0.866, 0.870],
                ),
            ),
            rows("gmp", 180.0, 0.95, &[0.874, 0.862, 0.856, 0.788, 0.850]),
            // Rows at 0.9: the option ties the ticket, and a tie goes to the ticket.
            rows("budgeted", 180.0, 0.9, &[0.90, 0.91, 0.92]),
            with_option(
                DefaultOption::FinalResumes,
                rows("budgeted", 180.0, 0.9, &[0.905, 0.915, 0.925]),
            ),
        ];
        check(&table, 180.0, 0.95, resumed);
        check(&table, 180.0, 0.9, Method::Budgeted);
        // An ablation (another change on top) is no choice, however well it scores.
        let mut ablation = rows("budgeted", 180.0, 0.95, &[0.95, 0.96, 0.97]);
        for r in &mut ablation {
            r.default = false;
            r.variant = Some("rewound to iteration 500".into());
        }
        check(&[table[0].clone(), ablation], 180.0, 0.95, Method::Budgeted);
        // A single seed of a higher mean has no spread to judge by: it runs nowhere and
        // does not hide an alternative that beats the ticket.
        let lucky = rows("one_shot", 180.0, 0.95, &[0.90]);
        check(&[table.concat(), lucky.clone()], 180.0, 0.95, resumed);
        check(&[table[0].clone(), lucky], 180.0, 0.95, Method::Budgeted);
        // Rows on another backend are no comparison.
        let mut elsewhere = table[1].clone();
        elsewhere
            .iter_mut()
            .for_each(|r| r.backend = "tch-cpu".into());
        check(
            &[table[0].clone(), elsewhere],
            180.0,
            0.95,
            Method::Budgeted,
        );
        let advice = advise_from(
            &table.concat(),
            Dataset::Mnist,
            Architecture::Lenet300100,
            180.0,
            0.95,
        );
        let text = advice.to_string();
        assert!(
            text.contains("budgeted loses to budgeted --final-resumes (-2.52 points")
                && text.ends_with("--method auto runs budgeted --final-resumes"),
            "{text}"
        );
    }

    #[test]
    fn a_regime_is_read_from_the_newest_table_that_holds_it() {
        let older = [
            rows("budgeted", 120.0, 0.9, &[0.97, 0.98]),
            rows("budgeted", 30.0, 0.9, &[0.96, 0.97]),
        ]
        .concat();
        let newer = rows("budgeted", 120.0, 0.9, &[0.985, 0.986, 0.987]);
        let read = newest_per_regime(&[newer.clone(), older.clone()]);
        let at = |budget: f64| -> Vec<f64> {
            read.iter()
                .filter(|r| r.budget_s == Some(budget))
                .map(|r| r.test_accuracy)
                .collect()
        };
        assert_eq!(at(120.0), [0.985, 0.986, 0.987]);
        assert_eq!(
            at(30.0),
            [0.96, 0.97],
            "a regime only the older table holds"
        );
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
        assert!(text.ends_with(&format!("runs {}", advice.choice)), "{text}");
        assert!(
            advice.regime.is_some(),
            "the vision table has LeNet rows: {text}"
        );
    }
}
