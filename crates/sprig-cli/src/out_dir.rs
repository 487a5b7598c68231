//! The ticket folder of `sprig prune`: never mix two runs in one folder, never delete what
//! Sprig did not write.

use std::path::Path;

use anyhow::{Context, Result, bail};
use sprig_experiments::Experiment;
use sprig_report::RunResult;

/// The run description `sprig prune` writes first, and the runner again at the end.
pub const CONFIG: &str = "config.json";
/// The result the runner writes last.
pub const RESULT: &str = "result.json";

/// What the folder holds before the run.
#[derive(Debug)]
pub enum Found {
    /// Nothing (or no folder yet): run.
    Empty,
    /// The same run, finished: its result.
    Finished(Box<RunResult>),
    /// The same run, not finished (killed or failed): run it again from the start.
    Unfinished,
}

/// Checks `out` before a run of `experiment`.
///
/// # Errors
/// `out` is a file; or a folder that is not empty and not a Sprig run folder (refused even
/// with `force`: Sprig does not delete files it did not write); or a Sprig run folder of a
/// different run, unless `force`, which then removes it.
pub fn prepare(out: &Path, experiment: &Experiment, force: bool) -> Result<Found> {
    if !out.exists() {
        return Ok(Found::Empty);
    }
    if !out.is_dir() {
        bail!("--out {} is a file, not a folder", out.display());
    }
    let config_path = out.join(CONFIG);
    let empty = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .next()
        .is_none();
    if empty {
        return Ok(Found::Empty);
    }
    if !config_path.exists() {
        bail!(
            "{} is not empty and holds no Sprig run ({CONFIG} is missing): choose another --out; \
             Sprig does not delete files it did not write, even with --force",
            out.display()
        );
    }
    let previous: Result<Experiment> = std::fs::read(&config_path)
        .with_context(|| format!("reading {}", config_path.display()))
        .and_then(|bytes| {
            serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a run description", config_path.display()))
        });
    match previous {
        Ok(previous) if previous == *experiment => {
            let result_path = out.join(RESULT);
            if !result_path.exists() {
                return Ok(Found::Unfinished);
            }
            let bytes = std::fs::read(&result_path)
                .with_context(|| format!("reading {}", result_path.display()))?;
            let result = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not a result file", result_path.display()))?;
            Ok(Found::Finished(Box::new(result)))
        }
        other => {
            let what = match &other {
                Ok(previous) => format!(
                    "a different run ({} on {}, {} for {:?} s at sparsity {}, seed {})",
                    previous.model,
                    previous.dataset,
                    previous.method,
                    previous.budget_s.unwrap_or(0.0),
                    previous.target_sparsity,
                    previous.seed
                ),
                Err(e) => format!("an unreadable run description ({e:#})"),
            };
            if !force {
                bail!(
                    "{} already holds {what}: pass --force to replace it, or choose another --out",
                    out.display()
                );
            }
            tracing::warn!(out = %out.display(), "--force: removing {what}");
            std::fs::remove_dir_all(out)
                .with_context(|| format!("removing {} (--force)", out.display()))?;
            Ok(Found::Empty)
        }
    }
}
