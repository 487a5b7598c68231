//! A run folder's checkpoint: the state after the last finished training, for
//! `sprig prune --resume`.
//!
//! The checkpoint is a folder (`checkpoint/`: `state.json`, `mask.json`,
//! `rewind.safetensors`, `trained.safetensors`, and `teacher.safetensors` when the final
//! training distils). A new one is written whole under
//! `checkpoint.tmp/`, then the old one is renamed to `checkpoint.old/`, the new one into
//! place, and the old one removed: a process killed at any moment leaves either a complete
//! `checkpoint/` or a complete `checkpoint.old/`, never a half-written file that is read.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sprig_prune::PruneError;
use sprig_prune::engine::{Checkpoint, CheckpointState, Evaluation, Observer, Step};

use crate::ticket;

/// The folder of the current checkpoint in a run folder.
pub const DIR: &str = "checkpoint";
/// Where a new checkpoint is written before it replaces the current one.
const TMP: &str = "checkpoint.tmp";
/// Where the previous checkpoint waits while the new one is renamed into place.
const OLD: &str = "checkpoint.old";

const STATE: &str = "state.json";
const MASK: &str = "mask.json";
const REWIND: &str = "rewind.safetensors";
const TRAINED: &str = "trained.safetensors";
const TEACHER: &str = "teacher.safetensors";

/// The checkpoint folders a run may leave in its folder (removed with the run).
pub const FOLDERS: [&str; 3] = [DIR, TMP, OLD];

/// Writes `checkpoint` into `run_dir`, replacing the previous one atomically.
///
/// # Errors
/// A file or folder that cannot be written or renamed, named.
pub fn write(run_dir: &Path, checkpoint: &Checkpoint) -> Result<()> {
    let tmp = run_dir.join(TMP);
    if tmp.exists() {
        fs::remove_dir_all(&tmp).with_context(|| format!("removing {}", tmp.display()))?;
    }
    fs::create_dir_all(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    ticket::write_json(&tmp, MASK, &checkpoint.masks)?;
    ticket::write_weights(&tmp, REWIND, &checkpoint.rewind_point)?;
    ticket::write_weights(&tmp, TRAINED, &checkpoint.trained)?;
    if let Some(teacher) = &checkpoint.teacher {
        ticket::write_weights(&tmp, TEACHER, teacher)?;
        sync(&tmp.join(TEACHER))?;
    }
    // The state goes last: a folder with a state file is complete.
    ticket::write_json(&tmp, STATE, &checkpoint.state)?;
    for name in [MASK, REWIND, TRAINED, STATE] {
        sync(&tmp.join(name))?;
    }
    let (current, old) = (run_dir.join(DIR), run_dir.join(OLD));
    if current.exists() {
        if old.exists() {
            fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
        }
        rename(&current, &old)?;
    }
    rename(&tmp, &current)?;
    if old.exists() {
        fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))?;
    }
    Ok(())
}

/// Reads the checkpoint of `run_dir`: the current one, or the previous one if the process
/// died while replacing it.
///
/// # Errors
/// No checkpoint (the run finished no training before it stopped, or was not started
/// with checkpoints), or a file that is not what it should be, named.
pub fn read(run_dir: &Path) -> Result<Checkpoint> {
    let dir = [DIR, OLD]
        .iter()
        .map(|name| run_dir.join(name))
        .find(|dir| dir.join(STATE).is_file());
    let Some(dir) = dir else {
        bail!(
            "{} holds no checkpoint ({DIR}/{STATE}): the run stopped before its first \
             training finished, so there is nothing to resume; start it again",
            run_dir.display()
        );
    };
    let state_path = dir.join(STATE);
    let text =
        fs::read(&state_path).with_context(|| format!("reading {}", state_path.display()))?;
    let state: CheckpointState = serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Sprig checkpoint state", state_path.display()))?;
    Ok(Checkpoint {
        masks: ticket::read_mask_file(&dir.join(MASK))?,
        rewind_point: ticket::read_weights(&dir.join(REWIND))?,
        trained: ticket::read_weights(&dir.join(TRAINED))?,
        teacher: dir
            .join(TEACHER)
            .is_file()
            .then(|| ticket::read_weights(&dir.join(TEACHER)))
            .transpose()?,
        state,
    })
}

/// Whether `run_dir` holds a checkpoint [`read`] would find.
pub fn exists(run_dir: &Path) -> bool {
    [DIR, OLD]
        .iter()
        .any(|name| run_dir.join(name).join(STATE).is_file())
}

/// Removes every checkpoint folder of `run_dir` (the run finished, or is started over).
///
/// # Errors
/// A folder that cannot be removed, named.
pub fn remove(run_dir: &Path) -> Result<()> {
    for name in FOLDERS {
        let dir = run_dir.join(name);
        if dir.exists() {
            fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        }
    }
    Ok(())
}

fn sync(path: &Path) -> Result<()> {
    fs::File::open(path)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", path.display()))
}

fn rename(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).with_context(|| format!("renaming {} to {}", from.display(), to.display()))
}

/// An [`Observer`] that saves a checkpoint in the run folder after every finished
/// training and passes everything on to `inner`.
pub struct Checkpointing<'a> {
    /// The run folder.
    pub run_dir: PathBuf,
    /// Whether to save checkpoints at all (the evaluation runner does not).
    pub enabled: bool,
    /// Who else is told.
    pub inner: &'a mut dyn Observer,
}

impl std::fmt::Debug for Checkpointing<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpointing")
            .field("run_dir", &self.run_dir)
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

impl Observer for Checkpointing<'_> {
    fn step(&mut self, step: &Step) {
        self.inner.step(step);
    }

    fn validated(&mut self, step: &Step, evaluation: &Evaluation) {
        self.inner.validated(step, evaluation);
    }

    fn training_finished(&mut self, checkpoint: &Checkpoint) -> Result<(), PruneError> {
        if self.enabled {
            write(&self.run_dir, checkpoint).map_err(|e| {
                PruneError::Training(format!("saving the checkpoint failed: {e:#}"))
            })?;
            tracing::debug!(round = checkpoint.round(), "checkpoint saved");
        }
        self.inner.training_finished(checkpoint)
    }

    fn should_stop(&self) -> bool {
        self.inner.should_stop()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use sprig_budget::{CostModel, Plan, PlanKind, Progress, RunConfig};
    use sprig_mask::{MaskSet, Snapshot};

    use super::*;

    fn checkpoint(round: u32) -> Checkpoint {
        let mut masks = MaskSet::new();
        masks.insert_dense("fc.weight", "linear", &[2, 2]).unwrap();
        let mut weights = Snapshot::new();
        weights
            .insert("fc.weight", vec![2, 2], vec![1.0, -2.0, 0.5, 3.0])
            .unwrap();
        let plan = Plan {
            kind: PlanKind::Regular,
            rounds: 1,
            rate: 0.5,
            trainings: vec![100, 200],
            sparsity_after_round: vec![0.5],
            final_sparsity: 0.5,
            expected_finish: Duration::from_secs(5),
            cutoff: Duration::from_secs(9),
        };
        Checkpoint {
            masks,
            rewind_point: weights.clone(),
            teacher: (round > 0).then(|| weights.clone()),
            trained: weights,
            state: CheckpointState {
                elapsed: Duration::from_millis(1_234),
                run_config: RunConfig::new(Duration::from_secs(10), 0.5, 100, Duration::ZERO),
                progress: Progress {
                    rounds_done: round,
                    ..Progress::default()
                },
                plan,
                plans: Vec::new(),
                rounds: Vec::new(),
                prunes: round,
                costs: CostModel::new(
                    Duration::from_millis(5),
                    Duration::from_millis(50),
                    Duration::from_millis(1),
                ),
            },
        }
    }

    #[test]
    fn a_checkpoint_round_trips_and_the_newest_wins() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        assert!(
            read(dir)
                .unwrap_err()
                .to_string()
                .contains("nothing to resume")
        );
        write(dir, &checkpoint(0)).unwrap();
        assert_eq!(read(dir).unwrap().teacher, None);
        write(dir, &checkpoint(1)).unwrap();
        let back = read(dir).unwrap();
        assert_eq!(back.state, checkpoint(1).state);
        assert_eq!(back.trained, checkpoint(1).trained);
        assert_eq!(back.teacher, checkpoint(1).teacher);
        assert!(back.teacher.is_some());
        assert!(!dir.join(TMP).exists() && !dir.join(OLD).exists());
        remove(dir).unwrap();
        assert!(!dir.join(DIR).exists());
    }

    #[test]
    fn a_kill_between_the_renames_leaves_the_previous_checkpoint_readable() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        write(dir, &checkpoint(0)).unwrap();
        // As if killed after the current checkpoint was moved aside, with a half-written
        // new one: the old one is what is read.
        fs::rename(dir.join(DIR), dir.join(OLD)).unwrap();
        fs::create_dir_all(dir.join(TMP)).unwrap();
        fs::write(dir.join(TMP).join(STATE), b"{ half").unwrap();
        assert_eq!(read(dir).unwrap().round(), 0);
        // The next write cleans up and replaces both.
        write(dir, &checkpoint(2)).unwrap();
        assert_eq!(read(dir).unwrap().round(), 2);
        assert!(!dir.join(TMP).exists() && !dir.join(OLD).exists());
    }

    #[test]
    fn a_corrupt_state_file_is_named() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        write(dir, &checkpoint(0)).unwrap();
        fs::write(dir.join(DIR).join(STATE), b"not json").unwrap();
        let message = format!("{:#}", read(dir).unwrap_err());
        assert!(message.contains("state.json"), "{message}");
        assert!(message.contains("not a Sprig checkpoint"), "{message}");
    }
}
