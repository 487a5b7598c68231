//! `cargo xtask eval --slurm` against stand-ins: `.ci/fake-experiments` for the runner and
//! shell scripts for `sbatch` and `squeue` that record what they are asked. (The real
//! cluster is `.ci/slurm-up` and `.ci/slurm-check`.)

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("xtask-slurm-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("bin")).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// `sbatch` printing job IDs 41, 42… and appending its arguments to `sbatch.log`;
    /// `squeue` printing `queue` (the jobs still queued).
    fn install_slurm(&self) {
        let stub = |name: &str, body: String| {
            let path = self.path("bin").join(name);
            std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let log = self.path("sbatch.log");
        stub(
            "sbatch",
            format!(
                "echo \"$*\" >> {log}\necho $((40 + $(wc -l < {log})))\n",
                log = log.display()
            ),
        );
        stub(
            "squeue",
            format!("cat {} 2>/dev/null || true\n", self.path("queue").display()),
        );
    }

    fn submit(&self, path: &std::ffi::OsStr) -> Output {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(["eval", "vision", "--quick", "--slurm", "--parallel", "2"])
            .arg("--runner")
            .arg(root.join(".ci/fake-experiments"))
            .arg("--runs")
            .arg(self.path("runs"))
            .arg("--slurm-dir")
            .arg(self.path("slurm"))
            .env("PATH", path)
            .env_remove("SPRIG_DATA")
            .output()
            .unwrap()
    }

    fn path_with_stubs(&self) -> std::ffi::OsString {
        let system = std::env::var_os("PATH").unwrap_or_default();
        let mut dirs = vec![self.path("bin")];
        dirs.extend(std::env::split_paths(&system));
        std::env::join_paths(dirs).unwrap()
    }

    fn sbatch_calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.path("sbatch.log"))
            .unwrap_or_default()
            .lines()
            .map(String::from)
            .collect()
    }

    fn finish(&self, run_dir: &str) {
        let dir = self.path("runs").join(run_dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("result.json"), "{}").unwrap();
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn without_slurm_nothing_is_built_written_or_submitted() {
    let scratch = Scratch::new("none");
    // A PATH with neither sbatch nor squeue.
    let output = scratch.submit(scratch.path("bin").as_os_str());
    let error = stderr(&output);
    assert!(!output.status.success(), "{error}");
    assert!(
        error.contains("`sbatch` and `squeue` are not on PATH"),
        "{error}"
    );
    assert!(error.contains(".ci/slurm-up"), "{error}");
    assert!(!scratch.path("slurm").exists());
}

#[test]
fn a_grid_is_submitted_as_arrays_and_a_merge_then_only_what_is_missing() {
    let scratch = Scratch::new("grid");
    scratch.install_slurm();
    let path = scratch.path_with_stubs();

    // Nothing finished: the four experiments that need nothing, the random control after
    // its ticket's array, the merge after both.
    let output = scratch.submit(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    let calls = scratch.sbatch_calls();
    let slurm = scratch.path("slurm");
    let logs = slurm.join("logs");
    let common = |name: &str, log: &str| {
        format!(
            "--parsable --job-name={name} --chdir={} --output={}/{log}",
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .unwrap()
                .display(),
            logs.display()
        )
    };
    let task = slurm.join("task.sh");
    let merge = slurm.join("merge.sh");
    assert_eq!(
        calls,
        [
            format!(
                "{} --array=0-3%2 {}",
                common("sprig-vision-quick", "task-%a-%A.log"),
                task.display()
            ),
            format!(
                "{} --array=4%2 --dependency=afterany:41 {}",
                common("sprig-vision-quick-controls", "task-%a-%A.log"),
                task.display()
            ),
            format!(
                "{} --dependency=afterany:41:42 {}",
                common("sprig-vision-quick-merge", "merge-%j.log"),
                merge.display()
            ),
        ]
    );
    for file in ["grid.tsv", "manifest.json", "task.sh", "merge.sh"] {
        assert!(slurm.join(file).is_file(), "{file}");
    }
    let manifest = std::fs::read_to_string(slurm.join("manifest.json")).unwrap();
    assert!(manifest.contains(r#""jobs": ["#), "{manifest}");
    assert!(
        manifest.contains(r#""41""#) && manifest.contains(r#""43""#),
        "{manifest}"
    );

    // While those jobs are queued, submitting again is refused.
    std::fs::write(scratch.path("queue"), "7\n42\n").unwrap();
    let output = scratch.submit(&path);
    assert!(!output.status.success());
    assert!(stderr(&output).contains("job(s) 42 of the previous submission"));
    assert_eq!(scratch.sbatch_calls().len(), 3);

    // They ended with everything but the one-shot run finished: only its index again.
    std::fs::write(scratch.path("queue"), "").unwrap();
    for dir in ["dense-seed0-00000000a0", "budgeted-seed0-00000000b1"] {
        scratch.finish(&format!("fake-vision/{dir}"));
    }
    for dir in ["imp-seed0-00000000e4", "random_prune-seed0-00000000d3"] {
        scratch.finish(&format!("fake-vision/{dir}"));
    }
    let output = scratch.submit(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    let calls = scratch.sbatch_calls();
    assert_eq!(calls.len(), 5, "{calls:#?}");
    assert!(calls[3].contains(" --array=2%2 "), "{}", calls[3]);
    assert!(
        calls[4].contains(" --dependency=afterany:44 "),
        "{}",
        calls[4]
    );

    // All finished: nothing to submit.
    scratch.finish("fake-vision/one_shot-seed0-00000000c2");
    let output = scratch.submit(&path);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stderr(&output).contains("nothing to submit"));
    assert_eq!(scratch.sbatch_calls().len(), 5);
}
