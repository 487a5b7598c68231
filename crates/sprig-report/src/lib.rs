//! Sprig's evaluation results, from rows to pages: the row every evaluation run produces
//! ([`RunResult`], the objects of `docs/results/DOMAIN.json`), its JSON store, summaries
//! over seeds (mean ± std), the Markdown table and SVG plots, and the report of one run
//! ([`RunReport`]).
//!
//! `sprig-report` knows nothing of Burn or of training: it turns rows into files.

#![warn(missing_docs)]

mod error;
mod markdown;
mod plot;
mod result;
mod run_report;
mod store;
mod summary;

pub use error::ReportError;
pub use markdown::{Provenance, markdown_report};
pub use plot::{plot_accuracy_vs_budget, plot_accuracy_vs_sparsity};
pub use result::RunResult;
pub use run_report::{REPORT_JSON, REPORT_MD, REPORT_SVG, RunReport, TensorPoint, TrainingPoint};
pub use store::{read_json, write_json};
pub use summary::{GroupSummary, Stat, summarise};
