//! How many CPU threads a training step's kernels may use.
//!
//! burn-flex and burn-ndarray run their large matrix products and element-wise kernels on
//! rayon's global pool (both cores here). For a small network that costs more than it
//! buys: a LeNet-300-100 step's matrices are 60 × 784 × 300, and waking the second thread
//! for each of them, then waiting for it, takes longer than doing the work on one core
//! (`sprig-backends` times both). A larger network (Conv-2, the text and audio models) gains from
//! the second core. [`StepThreads::Auto`] lets the trainer decide by the time of its first
//! steps; LibTorch keeps its own thread pool and is not affected.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The threads a training step's kernels run on (burn-flex and burn-ndarray).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepThreads {
    /// One thread for a small model (a step under 10 ms on all threads), else all: the
    /// trainer times its first steps (the default).
    #[default]
    Auto,
    /// rayon's global pool: every core.
    All,
    /// One thread.
    One,
}

impl StepThreads {
    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            StepThreads::Auto => "auto",
            StepThreads::All => "all",
            StepThreads::One => "one",
        }
    }
}

impl std::fmt::Display for StepThreads {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for StepThreads {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(StepThreads::Auto),
            "all" => Ok(StepThreads::All),
            "one" | "1" => Ok(StepThreads::One),
            other => Err(format!(
                "unknown thread setting `{other}`: use auto, all or one"
            )),
        }
    }
}

/// Whether `device`'s kernels run on rayon's pool (burn-flex, burn-ndarray), which
/// [`on_one_thread`] confines. LibTorch runs its own threads (and its OpenMP team belongs
/// to the calling thread: moving its work to another thread only costs).
pub fn runs_on_rayon(device: &crate::Device) -> bool {
    crate::compiled_backends()
        .iter()
        .filter(|b| matches!(b, crate::Backend::Flex | crate::Backend::NdArray))
        .any(|b| b.device().is_ok_and(|d| d == *device))
}

/// Runs `work` with burn-flex's and burn-ndarray's kernels on a single thread: on the
/// step thread, a rayon pool of one thread (subnormal floats flushed there too, see
/// [`flush_denormals_to_zero`](crate::flush_denormals_to_zero)) whose kernels then run
/// serially. If that thread cannot be made, `work` runs here, on the global pool. A
/// panic in `work` is raised again here.
///
/// Neither side sleeps between steps: the caller waits for the result, and the step
/// thread for the next step, by yielding in a loop for up to 20 ms, then asleep.
/// Being woken costs a sizeable share of a LeNet-300-100 step each way, and rayon's
/// `install` sleeps on both sides, so handing steps over with it made them measurably
/// slower than the same steps run in a loop on the pool's thread (`fixture_steps`,
/// interleaved runs). The second core has nothing else to do while a one-thread step runs.
pub fn on_one_thread<R: Send + 'static>(work: impl FnOnce() -> R + Send + 'static) -> R {
    if STEP_THREAD.with(|on| on.get()) {
        // Already on the step thread (a step within one-thread work): waiting for it
        // here would wait forever.
        return work();
    }
    let Some(jobs) = step_thread() else {
        return work();
    };
    let (done, result) = mpsc::sync_channel(1);
    let job: Job = Box::new(move || {
        // The caller waits until it has the result, so the send cannot fail.
        let _ = done.send(panic::catch_unwind(AssertUnwindSafe(work)));
    });
    if jobs.send(job).is_err() {
        unreachable!("the step thread lives as long as the process");
    }
    match wait_for(&result) {
        Some(Ok(value)) => value,
        Some(Err(payload)) => panic::resume_unwind(payload),
        None => unreachable!("the step thread runs every job it is given"),
    }
}

/// How long a side of [`on_one_thread`] yields before it sleeps: longer than a step
/// that one thread suits (`StepThreads::Auto` chooses one thread for steps under 10 ms).
const SPIN_WAIT: Duration = Duration::from_millis(20);

type Job = Box<dyn FnOnce() + Send>;

thread_local! {
    static STEP_THREAD: Cell<bool> = const { Cell::new(false) };
}

/// The step thread's job queue, the thread started on first use; `None` if it could not
/// be started or made a rayon pool of one.
fn step_thread() -> Option<&'static mpsc::Sender<Job>> {
    static JOBS: OnceLock<Option<mpsc::Sender<Job>>> = OnceLock::new();
    JOBS.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        let (ready, started) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("sprig-step".into())
            .spawn(move || {
                crate::denormals::flush_this_thread();
                STEP_THREAD.with(|on| on.set(true));
                // This thread becomes the only worker of its own rayon pool, so the kernels
                // it calls run here, serially. The pool is kept for the thread's life.
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(1)
                    .use_current_thread()
                    .build();
                let _ = ready.send(pool.is_ok());
                while let Some(job) = wait_for(&queue) {
                    job();
                }
                drop(pool);
            })
            .ok()?;
        started.recv().ok()?.then_some(jobs)
    })
    .as_ref()
}

/// The next value from `channel`, yielding for up to [`SPIN_WAIT`] before sleeping;
/// `None` once every sender is gone.
fn wait_for<T>(channel: &mpsc::Receiver<T>) -> Option<T> {
    let started = Instant::now();
    loop {
        match channel.try_recv() {
            Ok(value) => return Some(value),
            Err(mpsc::TryRecvError::Empty) if started.elapsed() < SPIN_WAIT => {
                std::thread::yield_now();
            }
            Err(mpsc::TryRecvError::Empty) => return channel.recv().ok(),
            Err(mpsc::TryRecvError::Disconnected) => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_thread_means_rayon_sees_one_thread() {
        assert_eq!(on_one_thread(rayon::current_num_threads), 1);
        let sum: u64 = on_one_thread(|| {
            use rayon::prelude::*;
            (1..=1000u64).into_par_iter().sum()
        });
        assert_eq!(sum, 500_500);
    }

    #[test]
    fn a_panic_on_the_step_thread_reaches_the_caller() {
        let caught = std::panic::catch_unwind(|| on_one_thread(|| panic!("step failed")));
        let payload = caught.expect_err("the panic is raised again");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"step failed"));
        // The pool still works afterwards, and from within itself.
        assert_eq!(on_one_thread(|| on_one_thread(|| 6 * 7)), 42);
    }

    #[test]
    fn rayon_backends_are_told_apart_from_libtorch() {
        for &backend in crate::compiled_backends() {
            let device = backend.train_device().unwrap();
            let expected = !matches!(backend, crate::Backend::TchCpu | crate::Backend::TchCuda(_));
            assert_eq!(runs_on_rayon(&device), expected, "{backend}");
        }
    }

    #[test]
    fn settings_read_back_by_name() {
        for s in [StepThreads::Auto, StepThreads::All, StepThreads::One] {
            assert_eq!(s.name().parse::<StepThreads>(), Ok(s));
        }
        assert!("two".parse::<StepThreads>().is_err());
    }
}
