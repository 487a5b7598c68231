//! `DOMAIN.json`: a JSON array of result rows.

use std::fs;
use std::io::Write;

use atomic_write_file::AtomicWriteFile;
use std::path::Path;

use crate::{ReportError, RunResult};

/// Writes `runs` as a pretty JSON array, atomically, after validating every row.
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
    write_atomic(path, &text).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// `bytes` into `path` through a temporary file flushed to disk, then renamed over it: a
/// reader sees the old file or the new one, never half of one.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = AtomicWriteFile::open(path)?;
    file.write_all(bytes)?;
    file.commit()
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
