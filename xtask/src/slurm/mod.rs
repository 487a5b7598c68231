//! `cargo xtask eval DOMAIN --slurm`: a table's grid as a Slurm job array.
//!
//! Every experiment has its own run folder and reuses a finished one, so a submission is
//! the experiments whose folder holds no result yet: one array task each (the task ID is
//! the experiment's index in `--list`), at most `--parallel` at once, and a merge job
//! that starts when the array has ended, however it ended, writes the table as
//! `--finished-only` does and lists the rows still missing. Submitting again submits
//! those only. The random controls read their budgeted ticket when they start, so the
//! controls whose ticket is submitted too go in a second array that waits for the first.
//! Everything lives in the workspace checkout, which every node must see at the same
//! path: the runner binary, the run folders, the table and this submission's folder
//! (`target/slurm/STEM`: grid, manifest, batch scripts, one log per task).

mod grid;
mod queue;
mod script;

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

pub use queue::require;

/// The `--slurm` options of `cargo xtask eval`.
#[derive(Debug, clap::Args)]
pub struct SlurmArgs {
    /// Submit the experiments not finished yet to Slurm (`sbatch` on PATH) as a job array,
    /// one task per experiment, and a job that writes the table once the array has ended;
    /// the workspace must be on a path every node sees (README: "On a Slurm cluster").
    /// Submitting again submits only what is still missing.
    #[arg(long, conflicts_with_all = ["list", "finished_only"])]
    pub slurm: bool,
    /// With --slurm: at most this many tasks at once (`--array=…%K`).
    #[arg(long, requires = "slurm", value_parser = clap::value_parser!(u32).range(1..))]
    pub parallel: Option<u32>,
    /// With --slurm: the partition to run on (default: the cluster's).
    #[arg(long, requires = "slurm")]
    pub partition: Option<String>,
    /// With --slurm: CPUs per task (default: the cluster's, usually one). Budgets are wall
    /// clock: a task's CPUs decide how far its training gets, as the machine does locally.
    #[arg(long, requires = "slurm")]
    pub cpus_per_task: Option<u32>,
    /// With --slurm: each task's time limit, in Slurm's format (`30:00`, `2:00:00`).
    #[arg(long, requires = "slurm")]
    pub time: Option<String>,
    /// With --slurm: any other sbatch option, for every job (`--sbatch-arg=--account=lab`;
    /// repeat for more).
    #[arg(long, requires = "slurm", allow_hyphen_values = true)]
    pub sbatch_arg: Vec<String>,
    /// With --slurm: where the grid, manifest, batch scripts and task logs go (default:
    /// target/slurm/STEM in the workspace; relative to the workspace root).
    #[arg(long, requires = "slurm")]
    pub slurm_dir: Option<PathBuf>,
}

/// What `cargo xtask eval` hands over to submit a grid.
#[derive(Debug)]
pub struct Submission<'a> {
    pub args: &'a SlurmArgs,
    /// The workspace root, where every job starts.
    pub root: &'a Path,
    /// The experiment runner and the arguments that select the grid (`eval DOMAIN --mode
    /// MODE --runs RUNS`, `--backend`, `--data-dir`, `--only`).
    pub command: Vec<String>,
    /// The environment the runner needs (LibTorch).
    pub env: Vec<(String, String)>,
    pub commit: String,
    /// The runs root as the runner gets it.
    pub runs: String,
    /// The table's name: `vision`, `vision-quick`…
    pub stem: String,
    /// The command recorded in the table (`cargo xtask eval … --slurm`).
    pub command_line: String,
    /// `--results`, when given.
    pub results: Option<String>,
}

/// The manifest's name in the submission folder.
const MANIFEST: &str = "manifest.json";

/// Submits the grid's unfinished experiments and the merge job.
pub fn submit(s: &Submission<'_>) -> Result<()> {
    let dir = s.root.join(
        s.args
            .slurm_dir
            .clone()
            .unwrap_or_else(|| Path::new("target/slurm").join(&s.stem)),
    );
    refuse_while_queued(&dir)?;

    let listing = list(s)?;
    let rows = grid::parse(&listing)?;
    let runs = s.root.join(&s.runs);
    let plan = grid::to_do(&rows, |run_dir| {
        runs.join(run_dir).join("result.json").is_file()
    });
    if plan.is_empty() {
        eprintln!(
            "xtask: all {} experiments of the grid have finished in {}: nothing to submit \
             (`--finished-only` without --slurm writes the table)",
            rows.len(),
            runs.display()
        );
        return Ok(());
    }

    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let grid_path = dir.join("grid.tsv");
    write(&grid_path, &listing)?;
    let runner = script::Runner {
        root: script::text(s.root),
        command: s.command.clone(),
        env: s.env.clone(),
        commit: s.commit.clone(),
    };
    let files = script::Files {
        grid: script::text(&grid_path),
        logs: script::text(&logs),
        runs: s.runs.clone(),
        xtask: s.command_line.clone(),
    };
    let task = dir.join("task.sh");
    let merge = dir.join("merge.sh");
    write_script(&task, &script::task_script(&runner, &files))?;
    write_script(
        &merge,
        &script::merge_script(&runner, &files, &s.command_line, s.results.as_deref()),
    )?;

    let options = script::Options {
        name: format!("sprig-{}", s.stem),
        root: runner.root.clone(),
        logs: files.logs.clone(),
        partition: s.args.partition.clone(),
        cpus_per_task: s.args.cpus_per_task,
        time: s.args.time.clone(),
        extra: s.args.sbatch_arg.clone(),
    };
    let mut manifest = Manifest::new(s, &rows, &plan);
    manifest.write(&dir)?;
    let mut arrays = Vec::new();
    for (wave, indices) in [("", &plan.first), ("-controls", &plan.after_tickets)] {
        if indices.is_empty() {
            continue;
        }
        let array = grid::array_spec(indices, s.args.parallel);
        let args = script::array_args(&options, wave, &array, &arrays, &script::text(&task));
        let id = queue::sbatch(&args)?;
        eprintln!(
            "xtask: job array {id}: {} experiment(s), --array={array}{}",
            indices.len(),
            if arrays.is_empty() {
                String::new()
            } else {
                format!(", after job {}", arrays.join(", "))
            }
        );
        manifest.jobs.push(id.clone());
        manifest.write(&dir)?;
        arrays.push(id);
    }
    let id = queue::sbatch(&script::merge_args(
        &options,
        &arrays,
        &script::text(&merge),
    ))?;
    manifest.jobs.push(id.clone());
    manifest.write(&dir)?;
    eprintln!(
        "xtask: merge job {id} writes the table once they have ended; {} of the grid's {} \
         experiments submitted; logs in {} (`squeue --me` shows the jobs)",
        plan.all().len(),
        rows.len(),
        logs.display()
    );
    Ok(())
}

/// The grid as the runner lists it.
fn list(s: &Submission<'_>) -> Result<String> {
    let (program, args) = s.command.split_first().context("no runner")?;
    let output = Command::new(program)
        .args(args)
        .arg("--list")
        .current_dir(s.root)
        .envs(s.env.iter().map(|(k, v)| (k, v)))
        .output()
        .with_context(|| format!("could not start {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} --list failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    String::from_utf8(output.stdout).context("the grid is not UTF-8")
}

/// Refuses to submit while jobs of the previous submission from `dir` are queued or
/// running: they would run the same experiments twice, in the same folders.
fn refuse_while_queued(dir: &Path) -> Result<()> {
    let path = dir.join(MANIFEST);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let earlier: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))?;
    let jobs: Vec<String> = earlier["jobs"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|j| j.as_str().map(String::from))
        .collect();
    if jobs.is_empty() {
        return Ok(());
    }
    let queued = queue::still_queued(&jobs, &queue::queued_jobs()?);
    if !queued.is_empty() {
        bail!(
            "job(s) {} of the previous submission ({}) are still queued or running: wait for \
             them (`squeue --me`) or cancel them (`scancel {}`) before submitting again",
            queued.join(", "),
            path.display(),
            queued.join(" ")
        );
    }
    Ok(())
}

/// What was submitted: the experiments to do (the grid's indices not finished yet, and
/// their run folders, whose last 10 hex characters name each one) and the job IDs.
#[derive(Debug)]
struct Manifest {
    value: serde_json::Value,
    jobs: Vec<String>,
}

impl Manifest {
    fn new(s: &Submission<'_>, rows: &[grid::Row], plan: &grid::ToDo) -> Self {
        let entry = |&i: &usize| serde_json::json!({ "index": i, "label": rows[i].label, "run_dir": rows[i].run_dir });
        let value = serde_json::json!({
            "command": s.command_line,
            "commit": s.commit,
            "submitted_at": humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string(),
            "runs": s.runs,
            "grid": rows.len(),
            "to_do": plan.first.iter().map(entry).collect::<Vec<_>>(),
            "controls_after_their_tickets": plan.after_tickets.iter().map(entry).collect::<Vec<_>>(),
        });
        Self {
            value,
            jobs: Vec::new(),
        }
    }

    fn write(&mut self, dir: &Path) -> Result<()> {
        self.value["jobs"] = serde_json::json!(self.jobs);
        let text = serde_json::to_string_pretty(&self.value)? + "\n";
        write(&dir.join(MANIFEST), &text)
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn write_script(path: &Path, text: &str) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    write(path, text)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}
