//! What can go wrong reading, checking and writing results.

use std::path::PathBuf;

/// An error of the result store, a result row or a plot.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A results file is not a JSON array of result rows.
    #[error("{path}: expected a JSON array of Sprig result rows: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// What serde found.
        source: serde_json::Error,
    },
    /// A row has a value out of range.
    #[error("result row {row}: {problem}")]
    Invalid {
        /// The row's run folder or index.
        row: String,
        /// What is wrong.
        problem: String,
    },
    /// Drawing a chart failed.
    #[error("{path}: drawing the chart failed: {message}")]
    Plot {
        /// The SVG file.
        path: PathBuf,
        /// The drawing backend's message.
        message: String,
    },
}
