//! `DOMAIN.json`: a JSON array of result rows.

use std::fs;
use std::path::Path;

use crate::{ReportError, RunResult};

/// Writes `runs` as a pretty JSON array, atomically (a temporary file in the same folder,
/// then a rename), after validating every row.
///
/// # Errors
/// An invalid row, or the file system's error naming the file.
pub fn write_json(path: &Path, runs: &[RunResult]) -> Result<(), ReportError> {
    for run in runs {
        run.validate()?;
    }
    let text = serde_json::to_vec_pretty(runs).map_err(|source| ReportError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    let tmp = path.with_extension("json.tmp");
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ReportError::Io { path, source }
    };
    fs::write(&tmp, text).map_err(io(&tmp))?;
    fs::rename(&tmp, path).map_err(io(path))
}

/// Reads a file written by [`write_json`], validating every row.
///
/// # Errors
/// [`ReportError::Io`] or [`ReportError::Json`] naming the file; an invalid row.
pub fn read_json(path: &Path) -> Result<Vec<RunResult>, ReportError> {
    let text = fs::read(path).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let runs: Vec<RunResult> =
        serde_json::from_slice(&text).map_err(|source| ReportError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    for run in &runs {
        run.validate()?;
    }
    Ok(runs)
}
