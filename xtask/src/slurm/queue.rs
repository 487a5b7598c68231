//! Talking to Slurm: whether its commands are installed, submitting with `sbatch`, and
//! which jobs of an earlier submission `squeue` still shows.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The Slurm commands a submission runs.
pub const COMMANDS: [&str; 2] = ["sbatch", "squeue"];

/// Where `program` is on `path` (a `PATH` value), if anywhere.
pub fn find_on(path: &std::ffi::OsStr, program: &str) -> Option<PathBuf> {
    std::env::split_paths(path)
        .map(|dir| dir.join(program))
        .find(|candidate| is_executable(candidate))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Fails, naming what is missing, unless `sbatch` and `squeue` are on `PATH`: checked
/// before anything is built or written.
pub fn require() -> Result<()> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let missing: Vec<&str> = COMMANDS
        .into_iter()
        .filter(|program| find_on(&path, program).is_none())
        .collect();
    if !missing.is_empty() {
        bail!(
            "--slurm needs Slurm's commands, and {} not on PATH: run this on a cluster's \
             login node (or, on a Debian machine, start a local one with `.ci/slurm-up`); \
             nothing was built, written or submitted",
            match missing[..] {
                [one] => format!("`{one}` is"),
                _ => format!("`{}` are", missing.join("` and `")),
            }
        );
    }
    Ok(())
}

/// The job ID in `sbatch --parsable`'s output (`ID` or `ID;CLUSTER`).
pub fn parse_job_id(output: &str) -> Result<String> {
    let id = output.trim().split(';').next().unwrap_or_default();
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        bail!("sbatch printed {output:?}, not a job ID");
    }
    Ok(id.to_string())
}

/// Runs `sbatch ARGS` and returns the job ID.
pub fn sbatch(args: &[String]) -> Result<String> {
    let output = Command::new("sbatch")
        .args(args)
        .output()
        .context("could not run sbatch")?;
    if !output.status.success() {
        bail!(
            "sbatch {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    parse_job_id(&String::from_utf8_lossy(&output.stdout))
}

/// The jobs of `ours` that `squeue_jobs` (`squeue --noheader --format=%F`: one array job
/// ID, or job ID, per line and task) still lists: pending, running or just ended.
pub fn still_queued(ours: &[String], squeue_jobs: &str) -> Vec<String> {
    ours.iter()
        .filter(|id| squeue_jobs.lines().any(|line| line.trim() == id.as_str()))
        .cloned()
        .collect()
}

/// `squeue`'s list of this user's jobs (their array job IDs).
pub fn queued_jobs() -> Result<String> {
    let output = Command::new("squeue")
        .args(["--me", "--noheader", "--format=%F"])
        .output()
        .context("could not run squeue")?;
    if !output.status.success() {
        bail!(
            "squeue failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_ids_from_sbatch() {
        for (output, expect) in [("41\n", Some("41")), ("42;sprig\n", Some("42"))] {
            assert_eq!(parse_job_id(output).ok().as_deref(), expect, "{output:?}");
        }
        for bad in ["", "\n", "Submitted batch job 41\n"] {
            assert!(parse_job_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn which_earlier_jobs_are_still_queued() {
        let ours = ["41".to_string(), "42".into(), "43".into()];
        for (squeue, expect) in [
            ("", &[][..]),
            ("41\n41\n7\n", &["41"]),
            ("  43\n410\n", &["43"]),
            ("41\n42\n43\n", &["41", "42", "43"]),
        ] {
            assert_eq!(still_queued(&ours, squeue), expect, "{squeue:?}");
        }
    }

    #[test]
    fn programs_are_found_on_a_path() {
        let dir = std::env::temp_dir().join(format!("xtask-path-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = std::env::join_paths([dir.join("nothing-here"), dir.clone()]).unwrap();
        assert_eq!(find_on(&path, "sbatch"), None);
        std::fs::write(dir.join("sbatch"), "#!/bin/sh\n").unwrap();
        // Not executable: not a program.
        assert_eq!(find_on(&path, "sbatch"), None);
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir.join("sbatch"), std::fs::Permissions::from_mode(0o755))
            .unwrap();
        assert_eq!(find_on(&path, "sbatch"), Some(dir.join("sbatch")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
