//! The sparse kernels' inner loops, compiled three times (AVX-512, AVX2, and the
//! instructions every CPU of the target has) and chosen at run time.
//!
//! Why: Sprig is built for baseline x86-64 (SSE2), where a vector holds four floats; the
//! kernels' work is runs of a batch's values (sixty for LeNet's batch), which AVX-512
//! covers in four instructions instead of fifteen, with a fused multiply–add. Burn's own
//! kernels choose their instructions at run time too.

use super::BatchMajor;

/// Batch-major rows are padded with zeros to a multiple of this many values, so every
/// loop runs whole vectors (sixteen lanes is one AVX-512 register).
pub(super) const LANES: usize = 16;

/// The longest run of a batch-major row a sum keeps in registers: four AVX-512 registers
/// (eight AVX2, sixteen SSE ones: all of them).
const RUN: usize = 64;

/// The instructions a kernel is compiled for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Level {
    /// AVX-512F with FMA.
    Avx512,
    /// AVX2 with FMA.
    Avx2,
    /// What every CPU of the target has.
    Baseline,
}

impl Level {
    /// The widest the running CPU (and its OS) supports.
    pub(super) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        {
            use std::is_x86_feature_detected as has;
            if has!("avx512f") && has!("fma") {
                return Level::Avx512;
            }
            if has!("avx2") && has!("fma") {
                return Level::Avx2;
            }
        }
        Level::Baseline
    }

    /// Every level this CPU can run, widest first (the tests compare them).
    #[cfg(test)]
    pub(super) fn available() -> Vec<Self> {
        [Level::Avx512, Level::Avx2, Level::Baseline]
            .into_iter()
            .filter(|&level| level as u8 >= Level::detect() as u8)
            .collect()
    }
}

/// A loop nest compiled at every [`Level`]: `FUSED` when the CPU has a fused
/// multiply–add.
pub(super) trait Kernel {
    fn run<const FUSED: bool>(self);
}

/// Runs `kernel` compiled for `level` (which the running CPU must support).
pub(super) fn run(level: Level, kernel: impl Kernel) {
    match level {
        #[cfg(target_arch = "x86_64")]
        Level::Avx512 if Level::detect() == Level::Avx512 => {
            // SAFETY: the CPU has AVX-512F and FMA (checked on the line above).
            #[allow(unsafe_code)]
            unsafe {
                avx512(kernel)
            }
        }
        #[cfg(target_arch = "x86_64")]
        Level::Avx2 if matches!(Level::detect(), Level::Avx512 | Level::Avx2) => {
            // SAFETY: the CPU has AVX2 and FMA (checked on the line above).
            #[allow(unsafe_code)]
            unsafe {
                avx2(kernel)
            }
        }
        _ => kernel.run::<false>(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,fma")]
fn avx512(kernel: impl Kernel) {
    kernel.run::<true>();
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn avx2(kernel: impl Kernel) {
    kernel.run::<true>();
}

/// `a + w · x`, rounded once when `FUSED` (only where the CPU has the instruction:
/// elsewhere `mul_add` is a slow library call).
#[inline(always)]
fn multiply_add<const FUSED: bool>(w: f32, x: f32, a: f32) -> f32 {
    if FUSED { w.mul_add(x, a) } else { a + w * x }
}

/// `out` row `r` = Σ `values[k]` · `operand` row `indices[k]` over `k` in
/// `starts[r]..starts[r + 1]`: a sparse matrix (compressed rows) times a batch-major
/// operand, into batch-major rows of the operand's stride. Each run of an output row is
/// summed in registers and stored once.
#[derive(Debug)]
pub(super) struct RowSums<'a> {
    pub starts: &'a [usize],
    pub indices: &'a [u32],
    pub values: &'a [f32],
    pub operand: &'a BatchMajor,
    pub out: &'a mut [f32],
}

impl Kernel for RowSums<'_> {
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let stride = self.operand.stride();
        assert_eq!(self.indices.len(), self.values.len(), "one value per entry");
        assert_eq!(
            self.out.len(),
            (self.starts.len() - 1) * stride,
            "one output row per pattern row"
        );
        if stride == 0 {
            return;
        }
        for (r, out) in self.out.chunks_exact_mut(stride).enumerate() {
            let entries = self.starts[r]..self.starts[r + 1];
            let (indices, values) = (&self.indices[entries.clone()], &self.values[entries]);
            let mut start = 0;
            while start + RUN <= stride {
                sum_run::<RUN, FUSED>(indices, values, self.operand, start, out);
                start += RUN;
            }
            while start < stride {
                sum_run::<LANES, FUSED>(indices, values, self.operand, start, out);
                start += LANES;
            }
        }
    }
}

/// Values `start..start + N` of one [`RowSums`] output row.
#[inline(always)]
fn sum_run<const N: usize, const FUSED: bool>(
    indices: &[u32],
    values: &[f32],
    operand: &BatchMajor,
    start: usize,
    out: &mut [f32],
) {
    let mut sums = [0.0f32; N];
    for (&i, &w) in indices.iter().zip(values) {
        let x = &operand.row(i as usize)[start..][..N];
        for (sum, &x) in sums.iter_mut().zip(x) {
            *sum = multiply_add::<FUSED>(w, x, *sum);
        }
    }
    out[start..][..N].copy_from_slice(&sums);
}

/// `out[i · cols + j]` = `left` row `i` · `right` row `j` for the entries `j` of row `i`
/// (`indices[starts[i]..starts[i + 1]]`): a sampled product of two batch-major operands
/// (the weight gradient at the kept entries). Other values of `out` are not written.
#[derive(Debug)]
pub(super) struct SampledDots<'a> {
    pub starts: &'a [usize],
    pub indices: &'a [u32],
    pub left: &'a BatchMajor,
    pub right: &'a BatchMajor,
    pub out: &'a mut [f32],
}

impl Kernel for SampledDots<'_> {
    #[inline(always)]
    fn run<const FUSED: bool>(self) {
        let cols = self.right.width();
        for i in 0..self.starts.len() - 1 {
            let x = self.left.row(i);
            let out = &mut self.out[i * cols..][..cols];
            for &j in &self.indices[self.starts[i]..self.starts[i + 1]] {
                out[j as usize] = dot::<FUSED>(x, self.right.row(j as usize));
            }
        }
    }
}

/// `x · y` for rows of a multiple of [`LANES`] values: [`LANES`] partial sums (one
/// register), then added pairwise (a single running sum must be added in order, which
/// the compiler cannot vectorise). Whole arrays, so the compiler sees each chunk's length.
#[inline(always)]
fn dot<const FUSED: bool>(x: &[f32], y: &[f32]) -> f32 {
    let (x, _) = x.as_chunks::<LANES>();
    let (y, _) = y.as_chunks::<LANES>();
    let mut sums = [0.0f32; LANES];
    for (x, y) in x.iter().zip(y) {
        for k in 0..LANES {
            sums[k] = multiply_add::<FUSED>(x[k], y[k], sums[k]);
        }
    }
    let mut half = LANES / 2;
    while half > 0 {
        for k in 0..half {
            sums[k] += sums[k + half];
        }
        half /= 2;
    }
    sums[0]
}
