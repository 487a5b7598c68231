//! How many CPU threads a training step's kernels may use.
//!
//! burn-flex and burn-ndarray run their large matrix products and element-wise kernels on
//! rayon's global pool (both cores here). For a small network that costs more than it
//! buys: a LeNet-300-100 step's matrices are 60 × 784 × 300, and waking the second thread
//! for each of them, then waiting for it, took longer than doing the work on one core
//! (the step measured 1.7 ms on one thread against 2.2–2.4 ms on two, `sprig-backends`
//! on this 2-core machine). A larger network (Conv-2, the text and audio models) gains from
//! the second core. [`StepThreads::Auto`] lets the trainer decide by the time of its first
//! steps; LibTorch keeps its own thread pool and is not affected.

use std::sync::OnceLock;

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

/// Runs `work` with burn-flex's and burn-ndarray's kernels on a single thread: on a rayon
/// pool of one thread (subnormal floats flushed there too, see
/// [`flush_denormals_to_zero`](crate::flush_denormals_to_zero)), whose kernels then run
/// serially. If that pool cannot be made, `work` runs here, on the global pool.
pub fn on_one_thread<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .thread_name(|_| "sprig-step".into())
            .start_handler(|_| crate::denormals::flush_this_thread())
            .build()
            .ok()
    });
    match pool {
        Some(pool) => pool.install(work),
        None => work(),
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
