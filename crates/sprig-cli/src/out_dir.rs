//! The ticket folder of `sprig prune`: never mix two runs in one folder, never delete what
//! Sprig did not write.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sprig_experiments::Experiment;
use sprig_experiments::ticket::files;
use sprig_report::RunResult;

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

/// A run's claim on its folder: the lock file, removed when dropped.
#[derive(Debug)]
pub struct Claim(PathBuf);

impl Drop for Claim {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// Takes the folder's lock, so two `sprig prune` never write into one folder. A lock
/// left by a killed run (its process is gone; checked on Linux) is taken over.
///
/// # Errors
/// The lock is held by a running `sprig` (or, where that cannot be checked, by a process
/// that may be gone: the message says which file to delete).
pub fn claim(out: &Path) -> Result<Claim> {
    let path = out.join(LOCK);
    if let Some(pid) = stale_lock(&path) {
        tracing::warn!(lock = %path.display(), pid, "taking over the lock of a run that is no longer running");
        std::fs::remove_file(&path).with_context(|| format!("removing {}", path.display()))?;
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => anyhow::anyhow!(
                "another `sprig prune` is writing into {} (it holds {}); if none is running \
                 (a killed run leaves the lock behind), delete that file and retry",
                out.display(),
                path.display()
            ),
            _ => anyhow::Error::new(e).context(format!("creating {}", path.display())),
        })?;
    writeln!(file, "pid {}", std::process::id())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(Claim(path))
}

/// The process id in the lock at `path` if that process is gone (Linux: no `/proc/PID`).
fn stale_lock(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let pid: u32 = text.trim().strip_prefix("pid ")?.parse().ok()?;
    let proc = Path::new("/proc");
    (proc.join("self").exists() && !proc.join(pid.to_string()).exists()).then_some(pid)
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
    sprig_experiments::checkpoint::remove(out)?;
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
