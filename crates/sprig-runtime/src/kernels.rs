//! The arithmetic: dense and sparse matrix–vector products and pooling (convolutions are in
//! `conv.rs`).
//!
//! Both matrix types store a weight matrix as rows of outputs (`[out, in]`): a dense row
//! is a contiguous slice, a sparse row is its non-zeros in CSR. The dense kernels are what
//! an optimised dense runtime does (contiguous, several accumulators so the compiler
//! vectorises them), so that "sparse is faster" is measured against a fair opponent.

use alloc::vec::Vec;

use crate::RuntimeError;
use crate::error::shape;

/// A row-major dense matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct DenseMatrix {
    rows: usize,
    cols: usize,
    data: Vec<f32>,
}

/// A matrix in compressed sparse rows; only non-zeros are stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CsrMatrix {
    rows: usize,
    cols: usize,
    row_ptr: Vec<u32>,
    col_idx: Vec<u32>,
    values: Vec<f32>,
}

impl DenseMatrix {
    /// A `rows × cols` matrix from row-major `data`.
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if `data` does not have `rows × cols` values.
    pub fn new(rows: usize, cols: usize, data: Vec<f32>) -> Result<Self, RuntimeError> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(shape(alloc::format!(
                "{} values do not make a {rows} × {cols} matrix",
                data.len()
            )));
        }
        Ok(Self { rows, cols, data })
    }

    /// Number of rows (outputs).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// `y = W x`. `x` must have `cols` values and `y` `rows`.
    pub fn matvec(&self, x: &[f32], y: &mut [f32]) {
        for (out, row) in y.iter_mut().zip(self.data.chunks_exact(self.cols.max(1))) {
            *out = dot(row, x);
        }
    }

    /// Row `r`'s entries as (column, value), zeros included.
    fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        self.data[r * self.cols..(r + 1) * self.cols]
            .iter()
            .copied()
            .enumerate()
    }
}

impl CsrMatrix {
    /// The non-zeros of a row-major dense matrix.
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if `data` does not have `rows × cols` values.
    pub fn from_dense(rows: usize, cols: usize, data: &[f32]) -> Result<Self, RuntimeError> {
        if rows.checked_mul(cols) != Some(data.len()) {
            return Err(shape(alloc::format!(
                "{} values do not make a {rows} × {cols} matrix",
                data.len()
            )));
        }
        let mut row_ptr = Vec::with_capacity(rows + 1);
        row_ptr.push(0);
        let (mut col_idx, mut values) = (Vec::new(), Vec::new());
        for row in data.chunks_exact(cols.max(1)).take(rows) {
            for (c, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                col_idx.push(c as u32);
                values.push(v);
            }
            row_ptr.push(values.len() as u32);
        }
        Ok(Self {
            rows,
            cols,
            row_ptr,
            col_idx,
            values,
        })
    }

    /// From CSR arrays the decoder already validated (pointers grow from 0, columns are
    /// below `cols`).
    pub(crate) fn from_parts(
        rows: usize,
        cols: usize,
        row_ptr: Vec<u32>,
        col_idx: Vec<u32>,
        values: Vec<f32>,
    ) -> Self {
        Self {
            rows,
            cols,
            row_ptr,
            col_idx,
            values,
        }
    }

    /// Number of rows (outputs).
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns (inputs).
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Stored non-zeros.
    pub fn nonzeros(&self) -> usize {
        self.values.len()
    }

    /// `y = W x`. `x` must have `cols` values and `y` `rows`.
    pub fn matvec(&self, x: &[f32], y: &mut [f32]) {
        for (r, out) in y.iter_mut().enumerate().take(self.rows) {
            let (s, e) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
            *out = sparse_dot(&self.col_idx[s..e], &self.values[s..e], x);
        }
    }

    /// Row `r`'s non-zeros as (column, value).
    fn row(&self, r: usize) -> impl Iterator<Item = (usize, f32)> + '_ {
        let (s, e) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
        self.col_idx[s..e]
            .iter()
            .zip(&self.values[s..e])
            .map(|(&c, &v)| (c as usize, v))
    }
}

/// A matrix stored by columns, non-zeros only. `y += W x` visits only the columns whose
/// input is non-zero, so it skips pruned weights *and* zero activations (ReLU outputs,
/// background pixels).
#[derive(Debug, Clone, PartialEq)]
pub struct CscMatrix {
    rows: usize,
    cols: usize,
    col_ptr: Vec<u32>,
    row_idx: Vec<u32>,
    values: Vec<f32>,
}

impl CscMatrix {
    /// The column layout of `m`'s non-zeros.
    pub(crate) fn from_csr(m: &CsrMatrix) -> Self {
        let mut col_ptr = alloc::vec![0u32; m.cols + 1];
        for &c in &m.col_idx {
            col_ptr[c as usize + 1] += 1;
        }
        for c in 0..m.cols {
            col_ptr[c + 1] += col_ptr[c];
        }
        let mut next: Vec<u32> = col_ptr[..m.cols].to_vec();
        let mut row_idx = alloc::vec![0u32; m.values.len()];
        let mut values = alloc::vec![0.0f32; m.values.len()];
        for r in 0..m.rows {
            for (c, v) in m.row(r) {
                let at = next[c] as usize;
                row_idx[at] = r as u32;
                values[at] = v;
                next[c] += 1;
            }
        }
        Self {
            rows: m.rows,
            cols: m.cols,
            col_ptr,
            row_idx,
            values,
        }
    }

    /// Stored non-zeros.
    pub fn nonzeros(&self) -> usize {
        self.values.len()
    }

    /// `y += W x`, skipping every column whose input is zero. `x` must have `cols`
    /// values and `y` `rows`.
    pub fn matvec_add(&self, x: &[f32], y: &mut [f32]) {
        for (c, &xc) in x.iter().enumerate().take(self.cols) {
            if xc == 0.0 {
                continue;
            }
            let (s, e) = (self.col_ptr[c] as usize, self.col_ptr[c + 1] as usize);
            let (rows, values) = (&self.row_idx[s..e], &self.values[s..e]);
            // Four rows at a time, all loads before the stores: a column's rows are
            // distinct (the decoder checks each CSR row's columns strictly increase), so
            // this is exact, and the loads need not wait behind the stores of the rows before.
            let (r4, v4) = (rows.chunks_exact(4), values.chunks_exact(4));
            for (r, v) in r4.remainder().iter().zip(v4.remainder()) {
                y[*r as usize] += v * xc;
            }
            for (r, v) in r4.zip(v4) {
                let (a, b, c, d) = (r[0] as usize, r[1] as usize, r[2] as usize, r[3] as usize);
                let sums = [
                    y[a] + v[0] * xc,
                    y[b] + v[1] * xc,
                    y[c] + v[2] * xc,
                    y[d] + v[3] * xc,
                ];
                y[a] = sums[0];
                y[b] = sums[1];
                y[c] = sums[2];
                y[d] = sums[3];
            }
        }
    }

    /// The same matrix with column `c` multiplied by `scale[c]`.
    pub(crate) fn scaled(&self, scale: &[f32]) -> Self {
        let mut m = self.clone();
        for (c, &k) in scale.iter().enumerate().take(m.cols) {
            let (s, e) = (m.col_ptr[c] as usize, m.col_ptr[c + 1] as usize);
            m.values[s..e].iter_mut().for_each(|v| *v *= k);
        }
        m
    }

    /// `W v` for a vector `v` (e.g. a normalisation's offsets), every column visited.
    pub(crate) fn times(&self, v: &[f32]) -> Vec<f32> {
        let mut y = alloc::vec![0.0; self.rows];
        for (c, &vc) in v.iter().enumerate().take(self.cols) {
            let (s, e) = (self.col_ptr[c] as usize, self.col_ptr[c + 1] as usize);
            for (&r, &w) in self.row_idx[s..e].iter().zip(&self.values[s..e]) {
                y[r as usize] += w * vc;
            }
        }
        y
    }
}

/// A weight matrix in either form.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Matrix {
    Dense(DenseMatrix),
    Sparse(CsrMatrix),
    /// Linear layers in sparse execution: by columns, skipping zero inputs.
    SparseColumns(CscMatrix),
}

impl Matrix {
    pub(crate) fn rows(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.rows,
            Matrix::Sparse(m) => m.rows,
            Matrix::SparseColumns(m) => m.rows,
        }
    }

    /// Multiply–adds one product with a vector costs.
    pub(crate) fn cols(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.cols,
            Matrix::Sparse(m) => m.cols,
            Matrix::SparseColumns(m) => m.cols,
        }
    }

    pub(crate) fn multiply_adds(&self) -> usize {
        match self {
            Matrix::Dense(m) => m.data.len(),
            Matrix::Sparse(m) => m.values.len(),
            Matrix::SparseColumns(m) => m.values.len(),
        }
    }

    pub(crate) fn matvec(&self, x: &[f32], y: &mut [f32]) {
        match self {
            Matrix::Dense(m) => m.matvec(x, y),
            Matrix::Sparse(m) => m.matvec(x, y),
            Matrix::SparseColumns(m) => {
                y.fill(0.0);
                m.matvec_add(x, y);
            }
        }
    }

    /// Calls `f(column, value)` for each entry of row `r` the form stores.
    pub(crate) fn for_row(&self, r: usize, mut f: impl FnMut(usize, f32)) {
        match self {
            Matrix::Dense(m) => m.row(r).for_each(|(c, v)| f(c, v)),
            Matrix::Sparse(m) => m.row(r).for_each(|(c, v)| f(c, v)),
            // Convolutions are built with CSR rows; a column matrix has no cheap row.
            Matrix::SparseColumns(m) => {
                for c in 0..m.cols {
                    let (s, e) = (m.col_ptr[c] as usize, m.col_ptr[c + 1] as usize);
                    if let Some(k) = (s..e).find(|&k| m.row_idx[k] as usize == r) {
                        f(c, m.values[k]);
                    }
                }
            }
        }
    }
}

/// Dot product with eight independent accumulators (vectorised by the compiler).
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0_f32; 8];
    let (a8, b8) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = a8
        .remainder()
        .iter()
        .zip(b8.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in a8.zip(b8) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// `Σ values[k] · x[cols[k]]` with four accumulators, so consecutive multiply–adds do
/// not wait for each other.
fn sparse_dot(cols: &[u32], values: &[f32], x: &[f32]) -> f32 {
    let mut acc = [0.0_f32; 4];
    let (c4, v4) = (cols.chunks_exact(4), values.chunks_exact(4));
    let mut tail = 0.0;
    for (c, v) in c4.remainder().iter().zip(v4.remainder()) {
        tail += v * x[*c as usize];
    }
    for (c, v) in c4.zip(v4) {
        for i in 0..4 {
            acc[i] += v[i] * x[c[i] as usize];
        }
    }
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The mean of each channel's `h × w` plane; `output` has `c` values.
pub(crate) fn global_avg_pool(input: &[f32], [c, h, w]: [usize; 3], output: &mut [f32]) {
    let n = (h * w).max(1);
    for (ch, out) in output.iter_mut().enumerate().take(c) {
        let sum: f32 = input[ch * n..(ch + 1) * n].iter().sum();
        *out = sum / n as f32;
    }
}

/// The largest value of each channel's `h × w` plane; `output` has `c` values.
pub(crate) fn global_max_pool(input: &[f32], [c, h, w]: [usize; 3], output: &mut [f32]) {
    let n = (h * w).max(1);
    for (ch, out) in output.iter_mut().enumerate().take(c) {
        *out = input[ch * n..(ch + 1) * n]
            .iter()
            .fold(f32::NEG_INFINITY, |m, &v| m.max(v));
    }
}

/// Row `ids[t]` of `table` into column `t` of `output`, which is `[dim, length]`
/// (channels first). The ids were checked against the table when the input came in.
pub(crate) fn embed(table: &Matrix, ids: &[f32], output: &mut [f32]) {
    let length = ids.len();
    output.fill(0.0);
    for (t, &id) in ids.iter().enumerate() {
        table.for_row(id as usize, |c, v| output[c * length + t] = v);
    }
}

/// The mean of the rows of `table` the ids that are not padding (0) name; zeros if every
/// id is padding. `output` has the table's width.
pub(crate) fn embed_mean(table: &Matrix, ids: &[f32], output: &mut [f32]) {
    output.fill(0.0);
    let mut tokens = 0usize;
    for &id in ids.iter().filter(|&&id| id != 0.0) {
        tokens += 1;
        table.for_row(id as usize, |c, v| output[c] += v);
    }
    let tokens = tokens.max(1) as f32;
    output.iter_mut().for_each(|o| *o /= tokens);
}

/// Max over `size × size` windows with stride `size`; `output` is
/// `[c, h / size, w / size]`.
pub(crate) fn max_pool(input: &[f32], [c, h, w]: [usize; 3], size: usize, output: &mut [f32]) {
    let (oh, ow) = (h / size, w / size);
    // A band of `size` input rows at a time, each row's windows side by side: no
    // per-window slicing, so the compiler unrolls the rows.
    for (plane, out) in input
        .chunks_exact(h * w)
        .zip(output.chunks_exact_mut(oh * ow))
        .take(c)
    {
        for (band, out) in plane.chunks_exact(size * w).zip(out.chunks_exact_mut(ow)) {
            out.fill(f32::NEG_INFINITY);
            for row in band.chunks_exact(w) {
                for (o, window) in out.iter_mut().zip(row.chunks_exact(size)) {
                    *o = window.iter().fold(*o, |m, &v| m.max(v));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn dense_and_sparse_products_agree() {
        let data: Vec<f32> = (0..7 * 13)
            .map(|i| {
                if i % 3 == 0 || i % 13 < 2 {
                    (i as f32) * 0.25 - 5.0
                } else {
                    0.0
                }
            })
            .collect();
        let x: Vec<f32> = (0..13).map(|i| 1.0 - i as f32 * 0.1).collect();
        let dense = DenseMatrix::new(7, 13, data.clone()).unwrap();
        let sparse = CsrMatrix::from_dense(7, 13, &data).unwrap();
        let (mut a, mut b) = (vec![0.0; 7], vec![0.0; 7]);
        dense.matvec(&x, &mut a);
        sparse.matvec(&x, &mut b);
        // The column form skips zero inputs; columns of 0–7 rows cover its unrolled body
        // and its remainder.
        let mut x_zeros = x.clone();
        x_zeros[2] = 0.0;
        x_zeros[7] = 0.0;
        let columns = CscMatrix::from_csr(&sparse);
        let mut c = vec![0.5; 7];
        columns.matvec_add(&x_zeros, &mut c);
        for r in 0..7 {
            let exact: f32 = (0..13).map(|c| data[r * 13 + c] * x[c]).sum();
            assert!((a[r] - exact).abs() < 1e-4 && (b[r] - exact).abs() < 1e-4);
            let skipped: f32 = (0..13).map(|c| data[r * 13 + c] * x_zeros[c]).sum();
            assert!((c[r] - 0.5 - skipped).abs() < 1e-4, "row {r}");
        }
        assert_eq!(
            sparse.nonzeros(),
            data.iter().filter(|v| **v != 0.0).count()
        );
    }

    #[test]
    fn global_pooling_takes_plane_means() {
        let input: Vec<f32> = (0..12).map(|i| i as f32).collect();
        let mut out = vec![0.0; 3];
        global_avg_pool(&input, [3, 2, 2], &mut out);
        assert_eq!(out, vec![1.5, 5.5, 9.5]);
    }

    #[test]
    fn pooling_takes_window_maxima() {
        let input: Vec<f32> = (0..16).map(|i| i as f32).collect();
        let mut out = vec![0.0; 4];
        max_pool(&input, [1, 4, 4], 2, &mut out);
        assert_eq!(out, vec![5.0, 7.0, 13.0, 15.0]);
        // Several channels, odd sides (the last row and column dropped), the 2×2 path
        // and the general one.
        for (shape, size) in [([3, 5, 7], 2), ([2, 4, 6], 2), ([2, 7, 6], 3)] {
            let [c, h, w] = shape;
            let input: Vec<f32> = (0..c * h * w).map(|i| (i as f32 * 0.61).sin()).collect();
            let (oh, ow) = (h / size, w / size);
            let expected: Vec<f32> = (0..c * oh * ow)
                .map(|i| {
                    let (ch, oy, ox) = (i / (oh * ow), i / ow % oh, i % ow);
                    let window = (0..size * size).map(|k| {
                        let (y, x) = (oy * size + k / size, ox * size + k % size);
                        input[(ch * h + y) * w + x]
                    });
                    window.fold(f32::NEG_INFINITY, f32::max)
                })
                .collect();
            let mut out = vec![f32::NAN; c * oh * ow];
            max_pool(&input, shape, size, &mut out);
            assert_eq!(out, expected, "{shape:?}, size {size}");
        }
    }
}
