//! Sprig's evaluation results, from rows to pages: the row every evaluation run produces
//! ([`RunResult`], the objects of `docs/results/DOMAIN.json`), its JSON store, summaries
//! over seeds (mean ± std), the Markdown table and SVG plots, and the report of one run
//! ([`RunReport`]).
//!
//! `sprig-report` knows nothing of Burn or of training: it turns rows into files.
//!
//! ```
//! use sprig_report::{RunResult, Stat, StopReason, summarise};
//!
//! let run = |seed, accuracy| RunResult {
//!     domain: "vision".into(),
//!     dataset: "mnist".into(),
//!     model: "lenet-300-100".into(),
//!     method: "budgeted".into(),
//!     seed,
//!     backend: "flex".into(),
//!     budget_s: Some(60.0),
//!     time_used_s: 59.4,
//!     target_sparsity: 0.9,
//!     sparsity: 0.9,
//!     test_accuracy: accuracy,
//!     rounds: 5,
//!     lr_schedule: "linear_decay".into(),
//!     iterations: 9_000,
//!     validation_accuracy: Some(0.98),
//!     stop_reason: Some(StopReason::Deadline),
//!     run_dir: format!("mnist-lenet-300-100/seed{seed}"),
//!     default: true,
//!     ..RunResult::default()
//! };
//! let runs = [run(0, 0.980), run(1, 0.982), run(2, 0.978)];
//! assert!((runs[0].time_ratio().unwrap() - 0.99).abs() < 1e-9);
//! let groups = summarise(&runs); // one group: the three seeds of one configuration
//! assert_eq!(groups.len(), 1);
//! let accuracy = Stat::of(runs.iter().map(|r| r.test_accuracy)).unwrap();
//! assert!((accuracy.mean - 0.98).abs() < 1e-9);
//! ```

#![warn(missing_docs)]

mod error;
mod markdown;
mod plot;
mod result;
mod run_report;
mod store;
mod summary;
mod verdict;

pub use error::ReportError;
pub use markdown::{Provenance, markdown_report};
pub use plot::{Rows, plot_accuracy_vs_budget, plot_accuracy_vs_sparsity};
pub use result::{DefaultOption, RunResult};
pub use run_report::{REPORT_JSON, REPORT_MD, REPORT_SVG, RunReport, TensorPoint, TrainingPoint};
/// Why a run stopped (the budget scheduler's type), as each result row records it.
pub use sprig_budget::StopReason;
pub use store::{read_json, write_json};
pub use summary::{GroupSummary, Stat, median, summarise};
pub use verdict::{BASELINES, Outcome, Verdict, compare, pooled_std, same_conditions, verdict};
