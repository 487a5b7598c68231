//! Flush-to-zero for the CPU threads that train.
//!
//! Late in a training, many gradients underflow into the subnormal ("denormal") range:
//! a well-classified example's softmax error is ~1e-40, and every product with it is
//! subnormal too. x86 CPUs handle subnormal operands in microcode, tens of times slower
//! than normal ones, so without the fix an iteration gets steadily slower as the network grows confident
//! (`examples/step_time.rs` in sprig-experiments shows it on MNIST/LeNet-300-100). The
//! fix every framework
//! offers (`torch.set_flush_denormal(True)`, oneDNN's default) is to set the FTZ and DAZ
//! bits of the SSE control register, so subnormal results and operands count as zero.
//! A subnormal float is below 1.2e-38: no weight, update or loss a training uses is
//! changed by that in any way that shows.

/// Makes subnormal floats count as zero on this thread and on every thread of rayon's
/// global pool (where burn-flex and burn-ndarray run their parallel kernels).
///
/// Call it once, first thing in `main`, before any tensor work: rayon's global pool can
/// be configured only before its first use. Returns whether the pool was configured
/// (false if something had already started it; this thread is set either way). A no-op
/// returning false on CPUs other than x86-64. LibTorch's own threads are not affected.
pub fn flush_denormals_to_zero() -> bool {
    set_this_thread();
    cfg!(target_arch = "x86_64")
        && rayon::ThreadPoolBuilder::new()
            .start_handler(|_| set_this_thread())
            .build_global()
            .is_ok()
}

/// Whether subnormal floats count as zero on this thread.
pub fn denormals_flushed() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & FTZ_DAZ == FTZ_DAZ
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Flush-to-zero (bit 15) and denormals-are-zero (bit 6) of MXCSR.
#[cfg(target_arch = "x86_64")]
const FTZ_DAZ: u32 = (1 << 15) | (1 << 6);

#[cfg(target_arch = "x86_64")]
fn read_mxcsr() -> u32 {
    let mut csr: u32 = 0;
    // SAFETY: `stmxcsr` only stores the 32-bit control register into `csr`, which is a
    // live, aligned local; SSE is part of the x86-64 baseline.
    #[allow(unsafe_code)]
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags));
    }
    csr
}

/// Sets flush-to-zero on the calling thread (for pools made elsewhere in this crate).
pub(crate) fn flush_this_thread() {
    set_this_thread();
}

fn set_this_thread() {
    #[cfg(target_arch = "x86_64")]
    {
        let csr = read_mxcsr() | FTZ_DAZ;
        // SAFETY: `ldmxcsr` loads a valid MXCSR value: the current one with two mode bits
        // set (no reserved bit is touched); it changes only this thread's float modes.
        #[allow(unsafe_code)]
        unsafe {
            std::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, readonly, preserves_flags));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    #[cfg(target_arch = "x86_64")]
    fn subnormal_results_become_zero() {
        // A test thread of its own: the float mode is per thread.
        std::thread::spawn(|| {
            let tiny = std::hint::black_box(1e-30_f32);
            assert!((tiny * tiny) != 0.0 || !denormals_flushed());
            let _ = flush_denormals_to_zero();
            assert!(denormals_flushed());
            let tiny = std::hint::black_box(1e-30_f32);
            assert_eq!(std::hint::black_box(tiny * 1e-10), 0.0);
            let subnormal = std::hint::black_box(f32::from_bits(1));
            assert_eq!(std::hint::black_box(subnormal * 1.0), 0.0);
        })
        .join()
        .expect("the test thread");
    }
}
