//! The text of the batch scripts a submission writes and the `sbatch` command lines that
//! submit them: pure functions of what the submission is, so tests read them whole.

use std::fmt::Write as _;
use std::path::Path;

/// What every job runs: the experiment runner, selecting the same grid as the submission.
#[derive(Debug, Clone)]
pub struct Runner {
    /// The workspace root: every job starts there, so relative paths (`--runs`,
    /// `--results`, `$SPRIG_DATA`) mean what they mean in a local run.
    pub root: String,
    /// The runner and the arguments that select the grid: `…/sprig-experiments eval
    /// DOMAIN --mode MODE --runs RUNS` with `--backend`, `--data-dir`, `--only` as given.
    pub command: Vec<String>,
    /// Exported before it runs (LibTorch's libraries).
    pub env: Vec<(String, String)>,
    /// The commit recorded in every result row and in the table.
    pub commit: String,
}

/// The submission's files and how to name it to a user.
#[derive(Debug, Clone)]
pub struct Files {
    /// `grid.tsv`: the grid as submitted (`--list`).
    pub grid: String,
    /// Where the task logs are.
    pub logs: String,
    /// The runs root as the runner gets it (relative to the workspace root, or absolute).
    pub runs: String,
    /// The xtask command that submitted it (and submits what is missing again).
    pub xtask: String,
}

/// A word for bash: as it is when it is plain, else single-quoted.
pub fn quote(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-./:=,%+@".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn quote_all(words: &[String]) -> String {
    words.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

/// The lines every script starts with: strict bash, the workspace root, the environment,
/// and `runner`, the command that selects the grid.
fn preamble(purpose: &str, runner: &Runner, files: &Files) -> String {
    let mut text = format!(
        "#!/usr/bin/env bash\n\
         # {purpose}\n\
         # Written by `{}`.\n\
         # Jobs start in the workspace root, which every node must see at the same path.\n\
         set -euo pipefail\n\
         cd {}\n",
        files.xtask,
        quote(&runner.root)
    );
    for (key, value) in &runner.env {
        let _ = writeln!(text, "export {key}={}", quote(value));
    }
    let _ = writeln!(text, "runner=({})", quote_all(&runner.command));
    text
}

/// The script every task of the job array runs: the experiment whose grid index is the
/// task's `SLURM_ARRAY_TASK_ID`, after checking that the runner still lists the grid that
/// was submitted (a runner rebuilt since with another grid would run another experiment
/// under that index).
pub fn task_script(runner: &Runner, files: &Files) -> String {
    let mut text = preamble(
        "One experiment of the grid per task of a Slurm job array: the task ID is its index.",
        runner,
        files,
    );
    let _ = write!(
        text,
        r#"index=${{SLURM_ARRAY_TASK_ID:?run this script as a task of a Slurm job array}}
submitted=$(awk -F'\t' -v i="$index" '$1 == i {{ print $3 }}' {grid})
listing=$("${{runner[@]}}" --list)
listed=$(echo "$listing" | awk -F'\t' -v i="$index" '$1 == i {{ print $3 }}')
if [ -z "$submitted" ]; then
    echo "task $index: no such experiment in {grid}" >&2
    exit 1
fi
if [ "$submitted" != "$listed" ]; then
    echo "task $index: the grid changed since it was submitted (run folder $submitted," \
        "now '$listed'): submit again with \`{xtask}\`" >&2
    exit 1
fi
echo "task $index on $(hostname): $submitted"
exec "${{runner[@]}}" --index "$index" --commit {commit}
"#,
        grid = quote(&files.grid),
        xtask = files.xtask,
        commit = quote(&runner.commit),
    );
    text
}

/// The script of the job that runs once the array has ended: writes the table from the
/// finished runs, as `--finished-only` does locally, and lists the rows still missing
/// (failing then, so the job's state shows it).
pub fn merge_script(
    runner: &Runner,
    files: &Files,
    command_line: &str,
    results: Option<&str>,
) -> String {
    let mut text = preamble(
        "Once the job array has ended: the table from the finished runs, and the rows missing.",
        runner,
        files,
    );
    let results = results
        .map(|dir| format!(" --results {}", quote(dir)))
        .unwrap_or_default();
    let _ = write!(
        text,
        r#""${{runner[@]}}" --finished-only --commit {commit} --command-line {command_line}{results}
total=0
missing=0
while IFS=$'\t' read -r index label dir _; do
    total=$((total + 1))
    if [ ! -f {runs}/"$dir"/result.json ]; then
        echo "missing: $index	$label	$dir"
        missing=$((missing + 1))
    fi
done < {grid}
if [ "$missing" -gt 0 ]; then
    echo "$missing of the $total rows are missing (task logs: {logs}):" \
        "\`{xtask}\` submits them again" >&2
    exit 1
fi
echo "all $total rows of the grid are in the table"
"#,
        commit = quote(&runner.commit),
        command_line = quote(command_line),
        runs = quote(&files.runs),
        grid = quote(&files.grid),
        logs = files.logs,
        xtask = files.xtask,
    );
    text
}

/// The `sbatch` options every job of a submission gets.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The jobs' name (`sprig-STEM`).
    pub name: String,
    /// The workspace root (`--chdir`).
    pub root: String,
    /// Where the logs go.
    pub logs: String,
    /// `--partition`.
    pub partition: Option<String>,
    /// `--cpus-per-task` (the array tasks only).
    pub cpus_per_task: Option<u32>,
    /// `--time` (the array tasks only).
    pub time: Option<String>,
    /// Any other options, as given.
    pub extra: Vec<String>,
}

impl Options {
    fn common(&self, name: &str, output: &str) -> Vec<String> {
        let mut args = vec![
            "--parsable".to_string(),
            format!("--job-name={name}"),
            format!("--chdir={}", self.root),
            format!("--output={}/{output}", self.logs),
        ];
        if let Some(partition) = &self.partition {
            args.push(format!("--partition={partition}"));
        }
        args
    }
}

/// `sbatch`'s arguments for a job array running `script` over `array` (`array_spec`),
/// one log per task, after the jobs `after` have ended when there are any.
pub fn array_args(
    options: &Options,
    wave: &str,
    array: &str,
    after: &[String],
    script: &str,
) -> Vec<String> {
    let mut args = options.common(&format!("{}{wave}", options.name), "task-%a-%A.log");
    args.push(format!("--array={array}"));
    if let Some(cpus) = options.cpus_per_task {
        args.push(format!("--cpus-per-task={cpus}"));
    }
    if let Some(time) = &options.time {
        args.push(format!("--time={time}"));
    }
    if !after.is_empty() {
        args.push(format!("--dependency=afterany:{}", after.join(":")));
    }
    args.extend(options.extra.iter().cloned());
    args.push(script.to_string());
    args
}

/// `sbatch`'s arguments for the merge job, which starts once the jobs `after` have ended,
/// however they ended.
pub fn merge_args(options: &Options, after: &[String], script: &str) -> Vec<String> {
    let mut args = options.common(&format!("{}-merge", options.name), "merge-%j.log");
    args.push(format!("--dependency=afterany:{}", after.join(":")));
    args.extend(options.extra.iter().cloned());
    args.push(script.to_string());
    args
}

/// `path` as text for a script (paths here are the workspace's, valid UTF-8).
pub fn text(path: &Path) -> String {
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runner() -> Runner {
        Runner {
            root: "/shared/sprig".into(),
            command: [
                "/shared/sprig/target/debug/sprig-experiments",
                "eval",
                "vision",
                "--mode",
                "quick",
                "--runs",
                "target/sprig-runs",
                "--only",
                "s0.9|seed1",
            ]
            .map(String::from)
            .to_vec(),
            env: vec![("LIBTORCH".into(), "/shared/sprig/target/libtorch".into())],
            commit: "0bdc2de".into(),
        }
    }

    fn files() -> Files {
        Files {
            grid: "/shared/sprig/target/slurm/vision-quick/grid.tsv".into(),
            logs: "/shared/sprig/target/slurm/vision-quick/logs".into(),
            runs: "target/sprig-runs".into(),
            xtask: "cargo xtask eval vision --quick --slurm".into(),
        }
    }

    #[test]
    fn words_are_quoted_for_bash() {
        for (word, expect) in [
            ("target/sprig-runs", "target/sprig-runs"),
            ("--array=0-3%2", "--array=0-3%2"),
            ("s0.9|seed1", "'s0.9|seed1'"),
            ("it's", r"'it'\''s'"),
            ("two words", "'two words'"),
            ("$HOME", "'$HOME'"),
            ("", "''"),
        ] {
            assert_eq!(quote(word), expect, "{word:?}");
        }
    }

    #[test]
    fn the_task_script() {
        expect_test::expect![[r##"
            #!/usr/bin/env bash
            # One experiment of the grid per task of a Slurm job array: the task ID is its index.
            # Written by `cargo xtask eval vision --quick --slurm`.
            # Jobs start in the workspace root, which every node must see at the same path.
            set -euo pipefail
            cd /shared/sprig
            export LIBTORCH=/shared/sprig/target/libtorch
            runner=(/shared/sprig/target/debug/sprig-experiments eval vision --mode quick --runs target/sprig-runs --only 's0.9|seed1')
            index=${SLURM_ARRAY_TASK_ID:?run this script as a task of a Slurm job array}
            submitted=$(awk -F'\t' -v i="$index" '$1 == i { print $3 }' /shared/sprig/target/slurm/vision-quick/grid.tsv)
            listing=$("${runner[@]}" --list)
            listed=$(echo "$listing" | awk -F'\t' -v i="$index" '$1 == i { print $3 }')
            if [ -z "$submitted" ]; then
                echo "task $index: no such experiment in /shared/sprig/target/slurm/vision-quick/grid.tsv" >&2
                exit 1
            fi
            if [ "$submitted" != "$listed" ]; then
                echo "task $index: the grid changed since it was submitted (run folder $submitted," \
                    "now '$listed'): submit again with \`cargo xtask eval vision --quick --slurm\`" >&2
                exit 1
            fi
            echo "task $index on $(hostname): $submitted"
            exec "${runner[@]}" --index "$index" --commit 0bdc2de
        "##]]
        .assert_eq(&task_script(&runner(), &files()));
    }

    #[test]
    fn the_merge_script() {
        let command = "cargo xtask eval vision --quick --only 's0.9|seed1' --slurm";
        expect_test::expect![[r##"
            #!/usr/bin/env bash
            # Once the job array has ended: the table from the finished runs, and the rows missing.
            # Written by `cargo xtask eval vision --quick --slurm`.
            # Jobs start in the workspace root, which every node must see at the same path.
            set -euo pipefail
            cd /shared/sprig
            export LIBTORCH=/shared/sprig/target/libtorch
            runner=(/shared/sprig/target/debug/sprig-experiments eval vision --mode quick --runs target/sprig-runs --only 's0.9|seed1')
            "${runner[@]}" --finished-only --commit 0bdc2de --command-line 'cargo xtask eval vision --quick --only '\''s0.9|seed1'\'' --slurm' --results /tmp/results
            total=0
            missing=0
            while IFS=$'\t' read -r index label dir _; do
                total=$((total + 1))
                if [ ! -f target/sprig-runs/"$dir"/result.json ]; then
                    echo "missing: $index	$label	$dir"
                    missing=$((missing + 1))
                fi
            done < /shared/sprig/target/slurm/vision-quick/grid.tsv
            if [ "$missing" -gt 0 ]; then
                echo "$missing of the $total rows are missing (task logs: /shared/sprig/target/slurm/vision-quick/logs):" \
                    "\`cargo xtask eval vision --quick --slurm\` submits them again" >&2
                exit 1
            fi
            echo "all $total rows of the grid are in the table"
        "##]]
        .assert_eq(&merge_script(
            &runner(),
            &files(),
            command,
            Some("/tmp/results"),
        ));
    }

    fn options() -> Options {
        Options {
            name: "sprig-vision-quick".into(),
            root: "/shared/sprig".into(),
            logs: "/shared/sprig/target/slurm/vision-quick/logs".into(),
            ..Options::default()
        }
    }

    fn check(args: Vec<String>, expect: &str) {
        assert_eq!(args.join(" "), expect);
    }

    #[test]
    fn the_sbatch_command_lines() {
        let logs = "/shared/sprig/target/slurm/vision-quick/logs";
        check(
            array_args(&options(), "", "0-2,4%2", &[], "task.sh"),
            &format!(
                "--parsable --job-name=sprig-vision-quick --chdir=/shared/sprig \
                 --output={logs}/task-%a-%A.log --array=0-2,4%2 task.sh"
            ),
        );
        let cluster = Options {
            partition: Some("cpu".into()),
            cpus_per_task: Some(2),
            time: Some("30:00".into()),
            extra: vec!["--account=lab".into()],
            ..options()
        };
        check(
            array_args(&cluster, "-controls", "3", &["41".into()], "task.sh"),
            &format!(
                "--parsable --job-name=sprig-vision-quick-controls --chdir=/shared/sprig \
                 --output={logs}/task-%a-%A.log --partition=cpu --array=3 --cpus-per-task=2 \
                 --time=30:00 --dependency=afterany:41 --account=lab task.sh"
            ),
        );
        check(
            merge_args(&cluster, &["41".into(), "42".into()], "merge.sh"),
            &format!(
                "--parsable --job-name=sprig-vision-quick-merge --chdir=/shared/sprig \
                 --output={logs}/merge-%j.log --partition=cpu --dependency=afterany:41:42 \
                 --account=lab merge.sh"
            ),
        );
    }
}
