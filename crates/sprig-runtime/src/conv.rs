//! Convolutions. A stride-1 convolution (the VGG-style nets' 3×3, the DS-CNN's depthwise
//! and pointwise layers) runs as a sum of shifted input vectors ([`TapConv`]); a strided
//! one (the DS-CNN's stem) runs output row by output row ([`by_rows`]). Both visit only
//! the weights a filter stores, so a sparse filter costs in proportion to its non-zeros.

use alloc::vec::Vec;

use crate::graph::ConvGeometry;
use crate::kernels::Matrix;

/// Output values computed together in the shifted-sum kernel: 32 `f32`s fill eight SSE
/// registers, so a chunk's partial sums stay in registers across all the filter's taps and
/// the output is stored once per chunk instead of once per weight (two and four times that
/// in AVX2's and AVX-512's wider registers).
const CHUNK: usize = 32;
/// The widest vector, in floats (AVX-512): the spare zeros after the padded input.
const TAIL: usize = 16;

/// A convolution layer ready to run.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Convolution {
    /// Stride 1.
    Taps(TapConv),
    /// Any other stride.
    Rows { weights: Matrix, shape: ConvShape },
}

impl Convolution {
    /// The kernel for `weights` (row `o` = output channel `o`'s filter over its group's
    /// input channels, columns `[channel, ky, kx]`) and `shape`.
    pub(crate) fn new(weights: Matrix, shape: ConvShape) -> Self {
        let [c, h, w] = shape.input;
        let [top, left, bottom, right] = shape.geometry.padding;
        // Taps store offsets into the padded input and counts as `u32`.
        let fits = u32::try_from(c * (h + top + bottom) * (w + left + right)).is_ok()
            && u32::try_from(weights.multiply_adds()).is_ok();
        if shape.geometry.stride == [1, 1] && fits {
            Convolution::Taps(TapConv::new(&weights, shape))
        } else {
            Convolution::Rows { weights, shape }
        }
    }

    pub(crate) fn shape(&self) -> ConvShape {
        match self {
            Convolution::Taps(t) => t.shape,
            Convolution::Rows { shape, .. } => *shape,
        }
    }

    /// Multiply–adds of one forward pass.
    pub(crate) fn multiply_adds(&self) -> usize {
        let [_, oh, ow] = self.shape().output;
        let weights = match self {
            Convolution::Taps(t) => t.weights.len(),
            Convolution::Rows { weights, .. } => weights.multiply_adds(),
        };
        weights * oh * ow
    }

    /// `output = conv(input) + bias`, `output` holding `[oc, oh, ow]` values.
    pub(crate) fn run(&self, bias: &[f32], input: &[f32], output: &mut [f32]) {
        match self {
            Convolution::Taps(t) => t.run(bias, input, output),
            Convolution::Rows { weights, shape } => by_rows(weights, bias, *shape, input, output),
        }
    }
}

/// A stride-1 convolution as taps. The input is copied into a zero-padded buffer, planes
/// one after another; in it, weight `(c, ky, kx)` of a filter meets the input window that
/// starts at `offset = c·H'·W' + ky·W' + kx` (`H' × W'` the padded plane). Computed at
/// the padded width `W'`, output position `i = oy·W' + ox` of channel `o` is then
/// `bias[o] + Σ weight · padded[offset + i]` over the filter's taps: every output of the
/// plane is one contiguous range of `i`, so each tap is a multiply–add of two contiguous
/// vectors, with no bounds to test per row. The `W' − ow` extra columns per row are
/// computed and dropped when the sums are stored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TapConv {
    shape: ConvShape,
    /// The padded input plane `[H', W']`.
    padded: [usize; 2],
    /// Output channel `o`'s taps are `starts[o]..starts[o + 1]` of `offsets` and `weights`.
    starts: Vec<u32>,
    offsets: Vec<u32>,
    weights: Vec<f32>,
}

impl TapConv {
    /// The taps of every weight `weights` stores (a dense matrix's zeros included: the
    /// dense execution multiplies them too).
    fn new(weights: &Matrix, shape: ConvShape) -> Self {
        let [c_in, h, w] = shape.input;
        let [kh, kw] = shape.kernel;
        let [top, left, bottom, right] = shape.geometry.padding;
        let [oc, _, _] = shape.output;
        let (ph, pw) = (h + top + bottom, w + left + right);
        let groups = shape.geometry.groups;
        let (in_per_group, out_per_group) = (c_in / groups, oc / groups);
        let mut starts = Vec::with_capacity(oc + 1);
        let (mut offsets, mut values) = (Vec::new(), Vec::new());
        starts.push(0);
        for o in 0..oc {
            let group_start = (o / out_per_group) * in_per_group;
            weights.for_row(o, |col, wv| {
                let (c, ky, kx) = (group_start + col / (kh * kw), (col / kw) % kh, col % kw);
                offsets.push(index(c * ph * pw + ky * pw + kx));
                values.push(wv);
            });
            starts.push(index(offsets.len()));
        }
        Self {
            shape,
            padded: [ph, pw],
            starts,
            offsets,
            weights: values,
        }
    }

    fn run(&self, bias: &[f32], input: &[f32], output: &mut [f32]) {
        self.run_with(Self::shifted_sums, bias, input, output);
    }

    /// [`run`](Self::run) with the shifted sums computed by `sums` (the tests run each
    /// variant of the kernel by itself).
    fn run_with(&self, sums: ShiftedSums, bias: &[f32], input: &[f32], output: &mut [f32]) {
        let [c_in, h, w] = self.shape.input;
        let [top, left, ..] = self.shape.geometry.padding;
        let [ph, pw] = self.padded;
        // `TAIL` zeros past the planes: a plane's last few outputs are computed one whole
        // vector wide (the extra sums are dropped), so the last taps read that far.
        let mut padded = alloc::vec![0.0f32; c_in * ph * pw + TAIL];
        for c in 0..c_in {
            for y in 0..h {
                let at = (c * ph + y + top) * pw + left;
                padded[at..at + w].copy_from_slice(&input[(c * h + y) * w..][..w]);
            }
        }
        sums(self, bias, &padded, output);
    }

    /// Output channel `o` at padded-width position `i`: `bias[o] + Σ weight ·
    /// padded[offset + i]` over the channel's taps, with the widest vector instructions
    /// the CPU has; stored to `output` (`[oc, oh, ow]`) without the padding columns.
    fn shifted_sums(&self, bias: &[f32], padded: &[f32], output: &mut [f32]) {
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if cpu::has_avx512() {
                #[allow(unsafe_code)]
                // SAFETY: the function needs AVX-512F and FMA, and the CPU has both.
                unsafe {
                    self.shifted_sums_avx512(bias, padded, output)
                };
                return;
            }
            if cpu::has_avx2() {
                #[allow(unsafe_code)]
                // SAFETY: the function needs AVX2 and FMA, and the CPU has both.
                unsafe {
                    self.shifted_sums_avx2(bias, padded, output)
                };
                return;
            }
        }
        self.shifted_sums_portable(bias, padded, output);
    }

    /// The same with the instructions every CPU of the target has.
    fn shifted_sums_portable(&self, bias: &[f32], padded: &[f32], output: &mut [f32]) {
        self.shifted_sums_in::<CHUNK, 4, false>(bias, padded, output);
    }

    /// The same, compiled for AVX2 and FMA: eight lanes per instruction instead of
    /// four, and each multiply–add one instruction, so twice the chunk fits in registers.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[target_feature(enable = "avx2,fma")]
    fn shifted_sums_avx2(&self, bias: &[f32], padded: &[f32], output: &mut [f32]) {
        self.shifted_sums_in::<{ 2 * CHUNK }, 8, true>(bias, padded, output);
    }

    /// The same with AVX-512: sixteen lanes, and twice the registers again.
    #[cfg(all(feature = "std", target_arch = "x86_64"))]
    #[target_feature(enable = "avx512f,fma")]
    fn shifted_sums_avx512(&self, bias: &[f32], padded: &[f32], output: &mut [f32]) {
        self.shifted_sums_in::<{ 4 * CHUNK }, 16, true>(bias, padded, output);
    }

    /// The kernel, `N` outputs at a time (`N` a multiple of the vector width: the
    /// partial sums of a chunk stay in registers across all of a filter's taps), then
    /// `LANES` (one vector) at a time where fewer than `N` are left (a short plane, such
    /// as a sentence's positions, is nothing but that), then the last few;
    /// `FUSED` rounds each multiply–add once (where the CPU has the instruction).
    #[inline(always)]
    fn shifted_sums_in<const N: usize, const LANES: usize, const FUSED: bool>(
        &self,
        bias: &[f32],
        padded: &[f32],
        output: &mut [f32],
    ) {
        let [_, oh, ow] = self.shape.output;
        // Output positions of a plane at the padded width: rows 0..oh−1 whole, the last
        // one up to ow.
        let span = (oh - 1) * self.padded[1] + ow;
        let mut start = 0;
        // Chunks outermost: a chunk's input windows (a few rows of every channel) stay in
        // cache while every output channel reads them.
        while start + N <= span {
            self.chunk::<N, FUSED>(bias, padded, output, start);
            start += N;
        }
        while start + LANES <= span {
            self.chunk::<LANES, FUSED>(bias, padded, output, start);
            start += LANES;
        }
        if start < span {
            self.last_chunk::<LANES, FUSED>(bias, padded, output, start, span - start);
        }
    }

    /// Every output channel at the `M` padded-width positions from `start`.
    #[inline(always)]
    fn chunk<const M: usize, const FUSED: bool>(
        &self,
        bias: &[f32],
        padded: &[f32],
        output: &mut [f32],
        start: usize,
    ) {
        let [oc, oh, ow] = self.shape.output;
        for o in 0..oc {
            let sums = self.sums::<M, FUSED>(o, bias, padded, start);
            self.store(&sums, start, &mut output[o * oh * ow..][..oh * ow]);
        }
    }

    /// Every output channel at the last `len` (fewer than `M`) positions from `start`:
    /// computed `M` wide (the padded input has `TAIL` spare zeros), `len` kept.
    #[inline(always)]
    fn last_chunk<const M: usize, const FUSED: bool>(
        &self,
        bias: &[f32],
        padded: &[f32],
        output: &mut [f32],
        start: usize,
        len: usize,
    ) {
        let [oc, oh, ow] = self.shape.output;
        for o in 0..oc {
            let sums = self.sums::<M, FUSED>(o, bias, padded, start);
            self.store(&sums[..len], start, &mut output[o * oh * ow..][..oh * ow]);
        }
    }

    /// Output channel `o`'s sums at the `M` positions from `start`. A chunk of one or two
    /// vectors keeps four partial sums over alternate taps: one chain of dependent
    /// multiply–adds would wait for each to finish.
    #[inline(always)]
    fn sums<const M: usize, const FUSED: bool>(
        &self,
        o: usize,
        bias: &[f32],
        padded: &[f32],
        start: usize,
    ) -> [f32; M] {
        let (s, e) = (self.starts[o] as usize, self.starts[o + 1] as usize);
        let (offsets, weights) = (&self.offsets[s..e], &self.weights[s..e]);
        let mut acc = [bias.get(o).copied().unwrap_or(0.0); M];
        let tap = |acc: &mut [f32; M], offset: u32, wv: f32| {
            // In bounds: a tap's window ends within its padded channel planes (or the
            // spare zeros after them).
            if let Some(src) = padded[offset as usize + start..].first_chunk::<M>() {
                for (a, &x) in acc.iter_mut().zip(src) {
                    *a = multiply_add::<FUSED>(wv, x, *a);
                }
            }
        };
        if M > 2 * TAIL {
            for (&offset, &wv) in offsets.iter().zip(weights) {
                tap(&mut acc, offset, wv);
            }
            return acc;
        }
        let mut more = [[0.0f32; M]; 3];
        let whole = offsets.len() / 4 * 4;
        for i in (0..whole).step_by(4) {
            tap(&mut acc, offsets[i], weights[i]);
            tap(&mut more[0], offsets[i + 1], weights[i + 1]);
            tap(&mut more[1], offsets[i + 2], weights[i + 2]);
            tap(&mut more[2], offsets[i + 3], weights[i + 3]);
        }
        for i in whole..offsets.len() {
            tap(&mut acc, offsets[i], weights[i]);
        }
        for m in &more {
            for (a, b) in acc.iter_mut().zip(m) {
                *a += b;
            }
        }
        acc
    }

    /// Stores the sums of padded-width positions `start..start + sums.len()` into an
    /// output plane `[oh, ow]`, dropping the positions in the padding columns.
    #[inline(always)]
    fn store(&self, sums: &[f32], start: usize, plane: &mut [f32]) {
        let (ow, pw) = (self.shape.output[2], self.padded[1]);
        let (mut position, mut rest) = (start, sums);
        while !rest.is_empty() {
            let (y, x) = (position / pw, position % pw);
            let run = (pw - x).min(rest.len());
            if x < ow {
                let kept = (ow - x).min(run);
                plane[y * ow + x..][..kept].copy_from_slice(&rest[..kept]);
            }
            position += run;
            rest = &rest[run..];
        }
    }
}

/// Which vector instructions the running CPU has (the OS is asked too: it must save the
/// wider registers).
#[cfg(all(feature = "std", target_arch = "x86_64"))]
mod cpu {
    use std::is_x86_feature_detected as has;

    /// AVX-512F and FMA.
    pub(super) fn has_avx512() -> bool {
        has!("avx512f") && has!("fma")
    }

    /// AVX2 and FMA.
    pub(super) fn has_avx2() -> bool {
        has!("avx2") && has!("fma")
    }
}

/// A variant of [`TapConv::shifted_sums`].
type ShiftedSums = fn(&TapConv, &[f32], &[f32], &mut [f32]);

/// `w · x + a`, rounded once when `FUSED` (only where the CPU has a fused multiply–add:
/// without one `mul_add` is a slow library call), else twice.
#[inline(always)]
fn multiply_add<const FUSED: bool>(w: f32, x: f32, a: f32) -> f32 {
    #[cfg(feature = "std")]
    if FUSED {
        return w.mul_add(x, a);
    }
    a + w * x
}

/// An offset or count as stored; [`Convolution::new`] uses taps only where both fit.
fn index(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Geometry of a convolution.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConvShape {
    /// Input `[channels, height, width]`.
    pub(crate) input: [usize; 3],
    /// Kernel `[height, width]`.
    pub(crate) kernel: [usize; 2],
    /// Stride, padding and groups.
    pub(crate) geometry: ConvGeometry,
    /// Output `[channels, height, width]`.
    pub(crate) output: [usize; 3],
}

/// Direct convolution: for each output channel and each weight its row stores, adds
/// `w × (the shifted input plane)` to the output plane, one output row at a time
/// (contiguous input rows at stride 1). A sparse filter costs in proportion to its
/// non-zeros. Row `o` of `weights` holds the filter over its group's input channels.
fn by_rows(weights: &Matrix, bias: &[f32], s: ConvShape, input: &[f32], output: &mut [f32]) {
    let [c_in, h, w] = s.input;
    let [kh, kw] = s.kernel;
    let [oc, oh, ow] = s.output;
    let ConvGeometry {
        stride: [sy, sx],
        padding: [top, left, _, _],
        groups,
    } = s.geometry;
    let (in_per_group, out_per_group) = (c_in / groups, oc / groups);
    for o in 0..oc {
        let plane = &mut output[o * oh * ow..(o + 1) * oh * ow];
        plane.fill(bias.get(o).copied().unwrap_or(0.0));
        let group_start = (o / out_per_group) * in_per_group;
        weights.for_row(o, |col, wv| {
            let (c, ky, kx) = (group_start + col / (kh * kw), (col / kw) % kh, col % kw);
            let src = &input[c * h * w..(c + 1) * h * w];
            // Output columns whose input column ox·sx + kx − left is inside the image.
            let x0 = left.saturating_sub(kx).div_ceil(sx);
            let x1 = ow.min((w + left).saturating_sub(kx).div_ceil(sx));
            if x0 >= x1 {
                return;
            }
            for oy in 0..oh {
                let Some(iy) = (oy * sy + ky).checked_sub(top).filter(|&iy| iy < h) else {
                    continue;
                };
                let out_row = &mut plane[oy * ow + x0..oy * ow + x1];
                let start = iy * w + x0 * sx + kx - left;
                if sx == 1 {
                    let in_row = &src[start..start + (x1 - x0)];
                    for (o, i) in out_row.iter_mut().zip(in_row) {
                        *o += wv * i;
                    }
                } else {
                    for (o, i) in out_row.iter_mut().zip(src[start..].iter().step_by(sx)) {
                        *o += wv * i;
                    }
                }
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{CsrMatrix, DenseMatrix};
    use alloc::vec;
    use alloc::vec::Vec;

    /// The convolution by its definition, for any geometry.
    fn convolution_by_definition(
        weights: &[f32],
        bias: &[f32],
        s: ConvShape,
        input: &[f32],
    ) -> Vec<f32> {
        let [c_in, h, w] = s.input;
        let [kh, kw] = s.kernel;
        let [oc, oh, ow] = s.output;
        let g = s.geometry;
        let (in_g, out_g) = (c_in / g.groups, oc / g.groups);
        let mut out = vec![0.0; oc * oh * ow];
        for o in 0..oc {
            for y in 0..oh {
                for x in 0..ow {
                    let mut acc = bias[o];
                    for ci in 0..in_g {
                        let c = (o / out_g) * in_g + ci;
                        for ky in 0..kh {
                            for kx in 0..kw {
                                let iy = (y * g.stride[0] + ky) as isize - g.padding[0] as isize;
                                let ix = (x * g.stride[1] + kx) as isize - g.padding[1] as isize;
                                if (0..h as isize).contains(&iy) && (0..w as isize).contains(&ix) {
                                    let wv = weights[((o * in_g + ci) * kh + ky) * kw + kx];
                                    acc += wv * input[(c * h + iy as usize) * w + ix as usize];
                                }
                            }
                        }
                    }
                    out[(o * oh + y) * ow + x] = acc;
                }
            }
        }
        out
    }

    /// The shifted-sum kernel as `run` picks it, and each variant this CPU can run by
    /// itself (the portable one is not what `run` picks on an AVX2 machine).
    fn kernels() -> Vec<(&'static str, ShiftedSums)> {
        // Without `std` (or off x86-64) nothing is added to it.
        #[allow(unused_mut)]
        let mut kernels: Vec<(&'static str, ShiftedSums)> = vec![
            ("as picked", TapConv::shifted_sums),
            ("portable", TapConv::shifted_sums_portable),
        ];
        #[cfg(all(feature = "std", target_arch = "x86_64"))]
        {
            if cpu::has_avx2() {
                kernels.push(("avx2", |t, b, p, o| {
                    #[allow(unsafe_code)]
                    // SAFETY: the CPU has AVX2 and FMA, checked above.
                    unsafe {
                        t.shifted_sums_avx2(b, p, o)
                    }
                }));
            }
            if cpu::has_avx512() {
                kernels.push(("avx512", |t, b, p, o| {
                    #[allow(unsafe_code)]
                    // SAFETY: the CPU has AVX-512F and FMA, checked above.
                    unsafe {
                        t.shifted_sums_avx512(b, p, o)
                    }
                }));
            }
        }
        kernels
    }

    #[test]
    fn convolution_matches_the_definition() {
        // (input, out channels, kernel, geometry): the VGG nets' padded 3×3; the DS-CNN's
        // strided stem with Burn's asymmetric padding, its depthwise 3×3 and pointwise 1×1;
        // a grouped one between; a stride that skips the last columns.
        let cases = [
            ([2, 4, 5], 3, [3, 3], ConvGeometry::padded(1)),
            (
                [1, 13, 8],
                4,
                [10, 4],
                ConvGeometry {
                    stride: [2, 2],
                    padding: [4, 1, 5, 2],
                    groups: 1,
                },
            ),
            (
                [4, 5, 3],
                4,
                [3, 3],
                ConvGeometry {
                    groups: 4,
                    ..ConvGeometry::padded(1)
                },
            ),
            ([4, 5, 3], 6, [1, 1], ConvGeometry::padded(0)),
            // Planes wider than the shifted-sum kernel's chunk: whole chunks and a tail
            // (3×3), exactly two chunks (1×1), a depthwise layer over several chunks.
            ([3, 12, 11], 5, [3, 3], ConvGeometry::padded(1)),
            ([6, 8, 8], 5, [1, 1], ConvGeometry::padded(0)),
            // A text CNN's 1-D convolutions over a sentence: one row, a few vectors of
            // positions and a last few (35 − 4 + 1 = 32 and 35 − 2 + 1 = 34 outputs).
            ([8, 1, 35], 6, [1, 5], ConvGeometry::padded(0)),
            ([8, 1, 35], 3, [1, 2], ConvGeometry::padded(0)),
            (
                [4, 10, 9],
                4,
                [3, 3],
                ConvGeometry {
                    groups: 4,
                    ..ConvGeometry::padded(1)
                },
            ),
            (
                [4, 6, 6],
                2,
                [3, 3],
                ConvGeometry {
                    groups: 2,
                    ..ConvGeometry::padded(1)
                },
            ),
            (
                [1, 7, 9],
                2,
                [2, 3],
                ConvGeometry {
                    stride: [3, 2],
                    padding: [0, 0, 1, 0],
                    groups: 1,
                },
            ),
        ];
        for (input_shape, oc, kernel, geometry) in cases {
            let [c, h, w] = input_shape;
            let [oh, ow] = geometry.output([h, w], kernel).unwrap();
            let cols = c / geometry.groups * kernel[0] * kernel[1];
            let input: Vec<f32> = (0..c * h * w).map(|i| (i as f32 * 0.37).sin()).collect();
            let weights: Vec<f32> = (0..oc * cols)
                .map(|i| {
                    if i % 4 == 1 {
                        0.0
                    } else {
                        (i as f32 * 0.11).cos()
                    }
                })
                .collect();
            let bias: Vec<f32> = (0..oc).map(|o| 0.1 * o as f32 - 0.2).collect();
            let s = ConvShape {
                input: input_shape,
                kernel,
                geometry,
                output: [oc, oh, ow],
            };
            let expected = convolution_by_definition(&weights, &bias, s, &input);
            for m in [
                Matrix::Dense(DenseMatrix::new(oc, cols, weights.clone()).unwrap()),
                Matrix::Sparse(CsrMatrix::from_dense(oc, cols, &weights).unwrap()),
            ] {
                let mut out = vec![0.0; oc * oh * ow];
                by_rows(&m, &bias, s, &input, &mut out);
                for (a, b) in out.iter().zip(&expected) {
                    assert!((a - b).abs() < 1e-5, "rows, {s:?}: {a} vs {b}");
                }
                if geometry.stride == [1, 1] {
                    let Convolution::Taps(taps) = Convolution::new(m.clone(), s) else {
                        panic!("a stride-1 convolution runs as taps: {s:?}");
                    };
                    for (kernel, sums) in kernels() {
                        let mut out = vec![f32::NAN; oc * oh * ow];
                        taps.run_with(sums, &bias, &input, &mut out);
                        for (a, b) in out.iter().zip(&expected) {
                            assert!((a - b).abs() < 1e-5, "taps, {kernel}, {s:?}: {a} vs {b}");
                        }
                    }
                }
            }
        }
    }
}
