//! glibc's malloc settings for LibTorch's tensors.
//!
//! Sprig's own allocations go through mimalloc (the global allocator of every binary), but
//! LibTorch's C++ code allocates with glibc's `malloc`. glibc serves every block above its
//! mmap threshold (128 KiB, raised on the fly up to 32 MiB) with a fresh `mmap` and gives it
//! back with `munmap` when freed, so a Conv-2 training step's activations (tens of MB) are
//! faulted in and zeroed by the kernel again on every step (`perf` shows a tch-cpu Conv-2
//! step spending a large share in `clear_page_erms` and page faults). Keeping large blocks
//! in the heap and the freed top of the heap mapped (the settings `MALLOC_MMAP_THRESHOLD_`,
//! `MALLOC_TRIM_THRESHOLD_` and `MALLOC_TOP_PAD_` give a whole process) removes that work
//! (`fixture_steps conv-2 tch-cpu`, interleaved runs with and without); mimalloc preloaded
//! under LibTorch did not.

/// Keeps blocks up to 32 MiB (glibc's largest mmap threshold) in the heap.
const MMAP_THRESHOLD: i32 = 32 << 20;
/// Returns freed memory at the top of the heap to the system only above 1 GiB.
const TRIM_THRESHOLD: i32 = 1 << 30;
/// Grows the heap 256 MiB at a time.
const TOP_PAD: i32 = 256 << 20;

/// Applies the settings once per process; later calls do nothing. Returns whether glibc
/// accepted all three (false on other C libraries, where nothing is changed).
pub(crate) fn tune_for_libtorch() -> bool {
    static TUNED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *TUNED.get_or_init(apply)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() -> bool {
    [
        (libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD),
        (libc::M_TRIM_THRESHOLD, TRIM_THRESHOLD),
        (libc::M_TOP_PAD, TOP_PAD),
    ]
    .into_iter()
    .all(|(parameter, value)| {
        // SAFETY: `mallopt` only sets a tuning parameter of glibc's allocator, a valid one
        // with a value in its documented range; glibc serialises it with allocation.
        #[allow(unsafe_code)]
        let accepted = unsafe { libc::mallopt(parameter, value) };
        accepted == 1
    })
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() -> bool {
    false
}

#[cfg(test)]
mod tests {
    #[test]
    fn glibc_takes_the_settings() {
        let tuned = super::tune_for_libtorch();
        assert_eq!(tuned, cfg!(all(target_os = "linux", target_env = "gnu")));
        assert_eq!(
            super::tune_for_libtorch(),
            tuned,
            "applied once, same answer"
        );
    }
}
