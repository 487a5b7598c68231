//! What `sprig prune` shows while it runs: a progress bar on a terminal, one line per
//! finished training otherwise, JSON lines for scripts; and Ctrl-C, which asks the run to
//! stop after the current iteration.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sprig_prune::PruneError;
use sprig_prune::engine::{Checkpoint, Evaluation, Observer, Step};

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A bar on stderr (only when stderr is a terminal), redrawn a few times a second.
    Bar,
    /// One log line per finished training.
    Lines,
    /// One JSON object per line on stdout per validation and finished training.
    Json,
    /// Nothing.
    Quiet,
}

impl Mode {
    /// The mode the flags ask for: JSON, quiet, else a bar if stderr is a terminal.
    pub fn choose(json: bool, quiet: bool) -> Self {
        if json {
            Mode::Json
        } else if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Bar
        } else {
            Mode::Lines
        }
    }
}

/// The bar being drawn, shared with the log writer so log lines print above it.
#[derive(Clone, Default)]
pub struct SharedBar(Arc<Mutex<Option<ProgressBar>>>);

impl std::fmt::Debug for SharedBar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedBar")
    }
}

impl SharedBar {
    pub(crate) fn set(&self, bar: Option<ProgressBar>) {
        if let Ok(mut slot) = self.0.lock() {
            *slot = bar;
        }
    }

    fn get(&self) -> Option<ProgressBar> {
        self.0.lock().ok().and_then(|slot| slot.clone())
    }
}

/// Writes log lines to stderr, above the bar if one is drawn.
#[derive(Debug, Clone, Default)]
pub struct LogWriter(pub SharedBar);

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.get() {
            Some(bar) => bar.suspend(|| std::io::stderr().write_all(buf))?,
            None => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogWriter {
    type Writer = LogWriter;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Set by Ctrl-C; a second Ctrl-C ends the process at once.
#[derive(Debug, Clone, Default)]
pub struct StopFlag(Arc<AtomicBool>);

impl StopFlag {
    /// Installs the Ctrl-C handler.
    ///
    /// # Errors
    /// A handler is already installed.
    pub fn on_ctrl_c() -> anyhow::Result<Self> {
        let flag = Self::default();
        let set = flag.0.clone();
        ctrlc::set_handler(move || {
            if set.swap(true, Ordering::SeqCst) {
                eprintln!("\nsecond interrupt: quitting without saving");
                std::process::exit(130);
            }
            eprintln!(
                "\ninterrupt: finishing the current iteration and saving the best ticket so far \
                 (Ctrl-C again to quit at once)"
            );
        })?;
        Ok(flag)
    }

    /// Whether Ctrl-C was pressed.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// The observer `sprig prune` hands the engine.
#[derive(Debug)]
pub struct Progress {
    mode: Mode,
    bar: SharedBar,
    stop: StopFlag,
    last_validation: Option<Evaluation>,
}

impl Progress {
    /// Progress in `mode`, drawing through `bar`, stopping when `stop` is set.
    pub fn new(mode: Mode, bar: SharedBar, stop: StopFlag) -> Self {
        Self {
            mode,
            bar,
            stop,
            last_validation: None,
        }
    }

    /// Removes the bar (before the summary is printed).
    pub fn finish(&self) {
        if let Some(bar) = self.bar.get() {
            bar.finish_and_clear();
        }
        self.bar.set(None);
    }

    fn bar(&self) -> ProgressBar {
        if let Some(bar) = self.bar.get() {
            return bar;
        }
        let bar = ProgressBar::with_draw_target(Some(1), ProgressDrawTarget::stderr_with_hz(4));
        let style = ProgressStyle::with_template(
            "{prefix:.bold} [{bar:30.cyan/blue}] {pos}/{len} it  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        bar.set_style(style);
        self.bar.set(Some(bar.clone()));
        bar
    }
}

fn seconds(d: Duration) -> f64 {
    d.as_secs_f64()
}

impl Observer for Progress {
    fn step(&mut self, step: &Step) {
        if self.mode != Mode::Bar {
            return;
        }
        let bar = self.bar();
        bar.set_prefix(format!("round {}", step.round));
        bar.set_length(step.planned.max(step.iteration));
        bar.set_position(step.iteration);
        let left = step.budget.saturating_sub(step.elapsed);
        let validation = self.last_validation.map_or(String::new(), |v| {
            format!("  val acc {:.2}%", 100.0 * v.accuracy)
        });
        bar.set_message(format!(
            "sparsity {:.1}%  loss {:.3}{validation}  {:.0} s left of {:.0} s",
            100.0 * step.sparsity,
            step.loss,
            seconds(left),
            seconds(step.budget),
        ));
    }

    fn validated(&mut self, step: &Step, evaluation: &Evaluation) {
        self.last_validation = Some(*evaluation);
        if self.mode == Mode::Json {
            let line = serde_json::json!({
                "event": "validation",
                "round": step.round,
                "iteration": step.iteration,
                "sparsity": step.sparsity,
                "loss": step.loss,
                "validation_loss": evaluation.loss,
                "validation_accuracy": evaluation.accuracy,
                "elapsed_s": seconds(step.elapsed),
                "budget_s": seconds(step.budget),
            });
            println!("{line}");
        }
    }

    fn training_finished(&mut self, checkpoint: &Checkpoint) -> Result<(), PruneError> {
        let Some(record) = checkpoint.state.rounds.last() else {
            return Ok(());
        };
        let elapsed = seconds(checkpoint.state.elapsed);
        let budget = seconds(checkpoint.state.run_config.budget);
        match self.mode {
            Mode::Json => {
                let line = serde_json::json!({
                    "event": "training_finished",
                    "round": record.round,
                    "sparsity": record.sparsity,
                    "iterations": record.iterations,
                    "validation_accuracy": record.validation.accuracy,
                    "elapsed_s": elapsed,
                    "budget_s": budget,
                    "checkpoint": true,
                });
                println!("{line}");
            }
            Mode::Bar | Mode::Lines => tracing::info!(
                "round {} finished: sparsity {:.1}%, {} iterations, validation accuracy \
                 {:.2}%, {elapsed:.1} s of {budget:.0} s (checkpoint saved)",
                record.round,
                100.0 * record.sparsity,
                record.iterations,
                100.0 * record.validation.accuracy,
            ),
            Mode::Quiet => {}
        }
        self.last_validation = None;
        Ok(())
    }

    fn should_stop(&self) -> bool {
        self.stop.is_set()
    }
}
