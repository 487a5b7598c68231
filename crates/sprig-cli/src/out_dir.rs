//! The ticket folder of `sprig prune`: never mix two runs in one folder, never delete what
//! Sprig did not write.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sprig_report::RunResult;
use sprig_run::Experiment;
use sprig_run::ticket::files;

/// Marks a folder whose run had an injected slowdown: its result is not a normal run's.
pub const SLOWED: &str = "debug-slowdown.txt";
/// Held while a run writes into the folder.
const LOCK: &str = "sprig.lock";

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

/// A run's claim on its folder: an exclusive lock on `sprig.lock`, which the operating
/// system releases when the process ends, however it ends (a killed run leaves the file
/// but not the lock).
#[derive(Debug)]
pub struct Claim {
    path: PathBuf,
    _locked: std::fs::File,
}

impl Drop for Claim {
    fn drop(&mut self) {
        // Tidy: the next run creates the file anew. (A run that opened this file in the
        // instant before its removal would lock a file no later run sees; runs are started
        // by hand, so that race does not earn a second mechanism.)
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Takes the folder's lock, so two `sprig prune` never write into one folder.
///
/// # Errors
/// Another process holds the lock (a running `sprig prune`), or the file cannot be made.
pub fn claim(out: &Path) -> Result<Claim> {
    let path = out.join(LOCK);
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    match file.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => bail!(
            "another `sprig prune` is writing into {} (it holds the lock on {}): wait for it \
             to end, or choose another --out",
            out.display(),
            path.display()
        ),
        Err(std::fs::TryLockError::Error(e)) => {
            return Err(anyhow::Error::new(e).context(format!("locking {}", path.display())));
        }
    }
    // Who holds it, for a person looking at the folder.
    file.set_len(0)
        .and_then(|()| writeln!(file, "pid {}", std::process::id()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Claim {
        path,
        _locked: file,
    })
}

/// Checks `out` before a run of `experiment` (`slowed`: with an injected slowdown).
///
/// # Errors
/// `out` is a file; or a folder that is not empty and holds no readable Sprig run
/// description (refused even with `force`: Sprig does not delete files it did not write);
/// or a Sprig run folder of a different run, unless `force`, which then removes the files
/// a run writes (and nothing else).
pub fn prepare(out: &Path, experiment: &Experiment, slowed: bool, force: bool) -> Result<Found> {
    if !out.exists() {
        return Ok(Found::Empty);
    }
    if !out.is_dir() {
        bail!("--out {} is a file, not a folder", out.display());
    }
    let empty = std::fs::read_dir(out)
        .with_context(|| format!("reading {}", out.display()))?
        .next()
        .is_none();
    if empty {
        return Ok(Found::Empty);
    }
    let config_path = out.join(files::CONFIG);
    let previous: Experiment = std::fs::read(&config_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .with_context(|| {
            format!(
                "{} is not empty and holds no Sprig run ({} is missing or is not a run \
                 description): choose another --out; Sprig does not delete files it did not \
                 write, even with --force",
                out.display(),
                config_path.display()
            )
        })?;
    let was_slowed = out.join(SLOWED).exists();
    // Canonical strings, not float equality after a JSON round trip.
    if previous.canonical() == experiment.canonical() && was_slowed == slowed {
        let result_path = out.join(files::RESULT);
        if !result_path.exists() {
            return Ok(Found::Unfinished);
        }
        let bytes = std::fs::read(&result_path)
            .with_context(|| format!("reading {}", result_path.display()))?;
        let result = serde_json::from_slice(&bytes)
            .with_context(|| format!("{} is not a result file", result_path.display()))?;
        return Ok(Found::Finished(Box::new(result)));
    }
    let what = format!(
        "a different run ({} on {}, {} for {} s at sparsity {}, seed {}{})",
        previous.model,
        previous.dataset,
        previous.method,
        previous.budget_s.unwrap_or(0.0),
        previous.target_sparsity,
        previous.seed,
        if was_slowed {
            ", with an injected slowdown"
        } else {
            ""
        }
    );
    if !force {
        bail!(
            "{} already holds {what}: pass --force to replace it, or choose another --out",
            out.display()
        );
    }
    tracing::warn!(out = %out.display(), "--force: removing the files of {what}");
    sprig_run::checkpoint::remove(out)?;
    let exports = sprig_export::ExportFormat::ALL.map(|f| format!("ticket.{f}.sprig"));
    let names = files::ALL
        .iter()
        .chain(&files::REPORTS)
        .chain(&[SLOWED])
        .map(|n| n.to_string())
        .chain(exports);
    for name in names {
        let path = out.join(name);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("removing {} (--force)", path.display()))?;
        }
    }
    Ok(Found::Empty)
}
