//! Sparse × dense kernels for a linear layer whose weight keeps few entries: the forward
//! product, the input gradient, and the weight gradient at the kept entries only (a
//! sampled dense–dense product). Their cost is the batch size times the kept entries, not
//! the weight's size, which is what makes a late, very sparse round of pruning cheap.
//!
//! Plain row-major slices, so any backend can call them on host memory. The weight is in
//! Burn's `Linear` layout, `[inputs, outputs]`: `y = x · W`.

use std::mem::MaybeUninit;

use thiserror::Error;

/// A pattern that does not fit its weight.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SparseError {
    /// A kept index is outside the weight or not after the previous one.
    #[error(
        "kept entry {index} of a {rows}×{cols} weight is out of range or not in increasing order"
    )]
    BadIndex {
        /// The offending flat index.
        index: usize,
        /// Weight rows (inputs).
        rows: usize,
        /// Weight columns (outputs).
        cols: usize,
    },
}

/// The kept entries of a `[rows, cols]` weight, row by row (compressed sparse rows
/// without values: the values change at every step and are gathered from the dense
/// weight, the pattern only when the mask does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparsePattern {
    rows: usize,
    cols: usize,
    /// Row `i`'s entries are `columns[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    /// The column of each kept entry, increasing within a row.
    columns: Vec<u32>,
}

impl SparsePattern {
    /// The pattern of a `rows × cols` weight keeping the entries at the flat row-major
    /// indices `kept`, in increasing order.
    ///
    /// # Errors
    /// [`SparseError::BadIndex`] for an index out of range or not increasing.
    pub fn from_kept(
        rows: usize,
        cols: usize,
        kept: impl IntoIterator<Item = usize>,
    ) -> Result<Self, SparseError> {
        let mut starts = vec![0; rows + 1];
        let mut columns = Vec::new();
        let mut next = 0;
        for index in kept {
            if index < next || index >= rows * cols {
                return Err(SparseError::BadIndex { index, rows, cols });
            }
            next = index + 1;
            starts[index / cols + 1] += 1;
            columns.push(u32::try_from(index % cols).expect("a weight's width fits in u32"));
        }
        for i in 0..rows {
            starts[i + 1] += starts[i];
        }
        Ok(Self {
            rows,
            cols,
            starts,
            columns,
        })
    }

    /// Weight rows (inputs).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Weight columns (outputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// How many entries are kept.
    pub fn kept(&self) -> usize {
        self.columns.len()
    }

    /// Share of the weight's entries that are kept.
    pub fn density(&self) -> f64 {
        self.kept() as f64 / (self.rows * self.cols).max(1) as f64
    }

    fn row(&self, i: usize) -> std::ops::Range<usize> {
        self.starts[i]..self.starts[i + 1]
    }

    /// The kept values of the dense `weight`, in the pattern's order, into `values`.
    pub fn gather(&self, weight: &[f32], values: &mut Vec<f32>) {
        assert_eq!(weight.len(), self.rows * self.cols, "weight size");
        values.clear();
        for i in 0..self.rows {
            let row = &weight[i * self.cols..(i + 1) * self.cols];
            values.extend(self.columns[self.row(i)].iter().map(|&j| row[j as usize]));
        }
    }

    /// `y = x · W` of `[batch, cols]` (row-major), from `xt`, the input `x` of
    /// `[batch, rows]` in batch-major order (`[rows, batch]`, see [`BatchMajor`]), and W
    /// given by its kept `values`.
    pub fn forward(&self, xt: &BatchMajor, values: &[f32]) -> Vec<f32> {
        let batch = self.batch(xt, self.rows, values);
        // Batch-major rows: each kept entry is one contiguous axpy over the batch, which
        // the compiler vectorises, instead of a scattered update per example.
        let mut yt = vec![0.0; self.cols * batch];
        for i in 0..self.rows {
            let xi = xt.row(i);
            let r = self.row(i);
            for (&j, &w) in self.columns[r.clone()].iter().zip(&values[r]) {
                let j = j as usize;
                axpy(w, xi, &mut yt[j * batch..(j + 1) * batch]);
            }
        }
        transposed(&yt, self.cols, batch)
    }

    /// The input gradient `dx = dy · Wᵀ` of `[batch, rows]`, from the output gradient in
    /// batch-major order (`dyt`).
    pub fn input_grad(&self, dyt: &BatchMajor, values: &[f32]) -> Vec<f32> {
        let batch = self.batch(dyt, self.cols, values);
        let mut dxt = vec![0.0; self.rows * batch];
        for (i, dxi) in dxt
            .chunks_exact_mut(batch.max(1))
            .enumerate()
            .take(self.rows)
        {
            let r = self.row(i);
            for (&j, &w) in self.columns[r.clone()].iter().zip(&values[r]) {
                axpy(w, dyt.row(j as usize), dxi);
            }
        }
        transposed(&dxt, self.rows, batch)
    }

    /// The weight gradient `xᵀ · dy` at the kept entries only, as a dense `[rows, cols]`
    /// buffer that is zero elsewhere (a pruned weight gets no gradient), from the input
    /// and the output gradient in batch-major order.
    pub fn weight_grad(&self, xt: &BatchMajor, dyt: &BatchMajor) -> Vec<f32> {
        let mut dw = vec![0.0; self.rows * self.cols];
        self.weight_grad_into(xt, dyt, &mut dw);
        dw
    }

    /// [`weight_grad`](Self::weight_grad) written over the kept entries of `dw`, a
    /// `[rows, cols]` buffer, leaving the others as they are: a buffer this pattern wrote
    /// before is zero outside its entries already, and writing the kept ones alone is what
    /// makes a step's cost independent of the weight's size.
    pub fn weight_grad_into(&self, xt: &BatchMajor, dyt: &BatchMajor, dw: &mut [f32]) {
        assert_eq!(xt.width(), self.rows, "input width");
        assert_eq!(dyt.width(), self.cols, "output gradient width");
        assert_eq!(xt.batch(), dyt.batch(), "one output gradient per example");
        assert_eq!(dw.len(), self.rows * self.cols, "weight gradient size");
        for i in 0..self.rows {
            let xi = xt.row(i);
            for &j in &self.columns[self.row(i)] {
                let j = j as usize;
                dw[i * self.cols + j] = dot(xi, dyt.row(j));
            }
        }
    }

    /// The batch size of a batch-major operand of `width` rows, checking the values' count.
    fn batch(&self, operand: &BatchMajor, width: usize, values: &[f32]) -> usize {
        assert_eq!(values.len(), self.kept(), "one value per kept entry");
        assert_eq!(operand.width(), width, "operand width");
        operand.batch()
    }
}

/// A `[batch, width]` operand stored transposed, `[width, batch]`: each feature's values
/// over the batch are contiguous, so a kept weight touches one contiguous run. Made once
/// per operand and shared by the products that need it (the input by the forward product
/// and the weight gradient, the output gradient by both gradients).
#[derive(Debug, Clone)]
pub struct BatchMajor {
    batch: usize,
    width: usize,
    values: Vec<f32>,
}

impl BatchMajor {
    /// `m` of `[batch, width]` (row-major), transposed.
    ///
    /// # Panics
    /// When `m` is not `batch × width` values for a whole `batch`.
    pub fn of(m: &[f32], width: usize) -> Self {
        let batch = m.len() / width.max(1);
        assert_eq!(m.len(), batch * width, "operand size");
        Self {
            batch,
            width,
            values: transposed(m, batch, width),
        }
    }

    /// Examples.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Features per example.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Feature `i` over the batch.
    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.batch..(i + 1) * self.batch]
    }
}

/// `y += a · x`.
fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `x · y` in eight partial sums, so the compiler can vectorise it (a single running sum
/// must be added in order).
fn dot(x: &[f32], y: &[f32]) -> f32 {
    const LANES: usize = 8;
    let mut sums = [0.0f32; LANES];
    let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let tail: f32 = xc
        .remainder()
        .iter()
        .zip(yc.remainder())
        .map(|(a, b)| a * b)
        .sum();
    for (a, b) in xc.zip(yc) {
        for k in 0..LANES {
            sums[k] += a[k] * b[k];
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// `m`, of `[rows, cols]`, transposed into a new `[cols, rows]` buffer.
///
/// The buffer is not zeroed first: every value is written once by [`transpose_into`],
/// and zeroing the step's transposed operands was a sizeable share of a sparse step.
fn transposed(m: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let n = rows * cols;
    let mut t = Vec::with_capacity(n);
    transpose_into(m, rows, cols, &mut t.spare_capacity_mut()[..n]);
    // SAFETY: `transpose_into` initialised all `n` values (its blocks cover every row and
    // column), and the capacity is at least `n`.
    #[allow(unsafe_code)]
    unsafe {
        t.set_len(n);
    }
    t
}

/// `[rows, cols]` into `[cols, rows]`, written to `t`, every one of its `rows × cols`
/// values: in blocks of up to 8 × 8 held in registers, so reads and writes are runs of up
/// to 8 contiguous values (a plain element-wise transpose writes one value per cache line
/// and was most of a sparse step's time).
fn transpose_into(m: &[f32], rows: usize, cols: usize, t: &mut [MaybeUninit<f32>]) {
    const B: usize = 8;
    assert!(
        m.len() >= rows * cols && t.len() >= rows * cols,
        "transpose size"
    );
    for r0 in (0..rows).step_by(B) {
        let height = B.min(rows - r0);
        for c0 in (0..cols).step_by(B) {
            let width = B.min(cols - c0);
            if height == B && width == B && transpose_8x8(m, cols, r0, c0, t, rows) {
                continue;
            }
            let mut block = [[0.0f32; B]; B];
            for (k, row) in block.iter_mut().enumerate().take(height) {
                row[..width].copy_from_slice(&m[(r0 + k) * cols + c0..][..width]);
            }
            for c in 0..width {
                let out = &mut t[(c0 + c) * rows + r0..][..height];
                for (k, value) in out.iter_mut().enumerate() {
                    value.write(block[k][c]);
                }
            }
        }
    }
}

/// The whole 8 × 8 block at row `r0`, column `c0` of `m` (rows of `cols` values) into `t`
/// (rows of `rows` values), as four 4 × 4 transposes in SSE registers (every x86-64 has
/// SSE2): a third of the scalar block's instructions, and the transposes were the largest
/// share of a sparse step once nothing was zeroed. False (nothing written) elsewhere.
#[cfg(target_arch = "x86_64")]
fn transpose_8x8(
    m: &[f32],
    cols: usize,
    r0: usize,
    c0: usize,
    t: &mut [MaybeUninit<f32>],
    rows: usize,
) -> bool {
    use std::arch::x86_64::{
        _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    };
    // The block's last value in `m` and in `t`: every access below is at or before them.
    assert!(
        (r0 + 7) * cols + c0 + 7 < m.len() && (c0 + 7) * rows + r0 + 7 < t.len(),
        "an 8 × 8 block inside both matrices"
    );
    for (dr, dc) in [(0, 0), (0, 4), (4, 0), (4, 4)] {
        let src = m[(r0 + dr) * cols + c0 + dc..].as_ptr();
        let dst = t[(c0 + dc) * rows + r0 + dr..].as_mut_ptr().cast::<f32>();
        // SAFETY: rows r0 + dr .. + 4 and columns c0 + dc .. + 4 are inside `m` and their
        // transposes inside `t` (the assertion above); unaligned loads and stores.
        #[allow(unsafe_code)]
        unsafe {
            let a = _mm_loadu_ps(src);
            let b = _mm_loadu_ps(src.add(cols));
            let c = _mm_loadu_ps(src.add(2 * cols));
            let d = _mm_loadu_ps(src.add(3 * cols));
            let ab_low = _mm_unpacklo_ps(a, b); // a0 b0 a1 b1
            let cd_low = _mm_unpacklo_ps(c, d); // c0 d0 c1 d1
            let ab_high = _mm_unpackhi_ps(a, b); // a2 b2 a3 b3
            let cd_high = _mm_unpackhi_ps(c, d); // c2 d2 c3 d3
            _mm_storeu_ps(dst, _mm_movelh_ps(ab_low, cd_low));
            _mm_storeu_ps(dst.add(rows), _mm_movehl_ps(cd_low, ab_low));
            _mm_storeu_ps(dst.add(2 * rows), _mm_movelh_ps(ab_high, cd_high));
            _mm_storeu_ps(dst.add(3 * rows), _mm_movehl_ps(cd_high, ab_high));
        }
    }
    true
}

/// Elsewhere the scalar blocks do it all.
#[cfg(not(target_arch = "x86_64"))]
fn transpose_8x8(
    _m: &[f32],
    _cols: usize,
    _r0: usize,
    _c0: usize,
    _t: &mut [MaybeUninit<f32>],
    _rows: usize,
) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// A weight, its keep flags, an input and an output gradient, all small.
    #[derive(Debug, Clone)]
    struct Case {
        rows: usize,
        cols: usize,
        batch: usize,
        w: Vec<f32>,
        keep: Vec<bool>,
        x: Vec<f32>,
        dy: Vec<f32>,
    }

    fn case() -> impl Strategy<Value = Case> {
        (1usize..12, 1usize..12, 1usize..20).prop_flat_map(|(rows, cols, batch)| {
            (
                prop::collection::vec(-2.0f32..2.0, rows * cols),
                prop::collection::vec(any::<bool>(), rows * cols),
                prop::collection::vec(-2.0f32..2.0, batch * rows),
                prop::collection::vec(-2.0f32..2.0, batch * cols),
            )
                .prop_map(move |(w, keep, x, dy)| Case {
                    rows,
                    cols,
                    batch,
                    w,
                    keep,
                    x,
                    dy,
                })
        })
    }

    fn close(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len()
            && a.iter()
                .zip(b)
                .all(|(x, y)| (x - y).abs() <= 1e-4 * (1.0 + y.abs()))
    }

    proptest! {
        #[test]
        fn kernels_match_the_dense_masked_products(c in case()) {
            let Case { rows, cols, batch, w, keep, x, dy } = c;
            let masked: Vec<f32> = w.iter().zip(&keep).map(|(&v, &k)| if k { v } else { 0.0 }).collect();
            let pattern = SparsePattern::from_kept(
                rows, cols, keep.iter().enumerate().filter(|(_, k)| **k).map(|(i, _)| i),
            ).unwrap();
            let mut values = Vec::new();
            pattern.gather(&w, &mut values);
            prop_assert_eq!(values.len(), keep.iter().filter(|k| **k).count());

            let (xt, dyt) = (BatchMajor::of(&x, rows), BatchMajor::of(&dy, cols));
            let y = pattern.forward(&xt, &values);
            let dense_y: Vec<f32> = (0..batch * cols)
                .map(|k| (0..rows).map(|i| x[k / cols * rows + i] * masked[i * cols + k % cols]).sum())
                .collect();
            prop_assert!(close(&y, &dense_y), "{:?} {:?}", y, dense_y);

            let dx = pattern.input_grad(&dyt, &values);
            let dense_dx: Vec<f32> = (0..batch * rows)
                .map(|k| (0..cols).map(|j| dy[k / rows * cols + j] * masked[k % rows * cols + j]).sum())
                .collect();
            prop_assert!(close(&dx, &dense_dx), "{:?} {:?}", dx, dense_dx);

            let dw = pattern.weight_grad(&xt, &dyt);
            // Written again over a buffer this pattern wrote before: the same gradient.
            let mut again = dw.iter().map(|v| v * 3.0).collect::<Vec<_>>();
            pattern.weight_grad_into(&xt, &dyt, &mut again);
            prop_assert_eq!(&again, &dw);
            let dense_dw: Vec<f32> = (0..rows * cols)
                .map(|k| {
                    let g: f32 = (0..batch).map(|b| x[b * rows + k / cols] * dy[b * cols + k % cols]).sum();
                    if keep[k] { g } else { 0.0 }
                })
                .collect();
            prop_assert!(close(&dw, &dense_dw), "{:?} {:?}", dw, dense_dw);
        }
    }

    #[test]
    fn transposes_of_every_shape_up_to_three_blocks_match_the_definition() {
        for rows in 1..=20 {
            for cols in 1..=20 {
                let m: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
                let t = transposed(&m, rows, cols);
                let expected: Vec<f32> = (0..rows * cols)
                    .map(|k| m[(k % rows) * cols + k / rows])
                    .collect();
                assert_eq!(t, expected, "{rows} × {cols}");
            }
        }
    }

    #[test]
    fn a_pattern_refuses_indices_out_of_order_or_range() {
        let check = |kept: &[usize], expected: Result<usize, usize>| {
            let got = SparsePattern::from_kept(2, 3, kept.iter().copied()).map(|p| p.kept());
            let expected = expected.map_err(|index| SparseError::BadIndex {
                index,
                rows: 2,
                cols: 3,
            });
            assert_eq!(got, expected, "{kept:?}");
        };
        check(&[0, 2, 5], Ok(3));
        check(&[], Ok(0));
        check(&[6], Err(6));
        check(&[3, 1], Err(1));
        check(&[2, 2], Err(2));
        let p = SparsePattern::from_kept(2, 3, [1, 3, 4]).unwrap();
        assert_eq!((p.rows(), p.cols(), p.kept()), (2, 3, 3));
        assert!((p.density() - 0.5).abs() < 1e-12);
    }
}
