//! The arithmetic: dense and sparse matrix–vector products and a direct convolution that
//! visits only the weights a row stores.
//!
//! Both matrix types store a weight matrix as rows of outputs (`[out, in]`): a dense row
//! is a contiguous slice, a sparse row is its non-zeros in CSR. The dense kernels are what
//! an optimised dense runtime does (contiguous, several accumulators so the compiler
//! vectorises them), so that "sparse is faster" is measured against a fair opponent.

use alloc::vec::Vec;

use crate::RuntimeError;
use crate::error::shape;
use crate::graph::ConvGeometry;

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
    fn for_row(&self, r: usize, mut f: impl FnMut(usize, f32)) {
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
pub(crate) fn conv2d(
    weights: &Matrix,
    bias: &[f32],
    s: ConvShape,
    input: &[f32],
    output: &mut [f32],
) {
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

/// The mean of each channel's `h × w` plane; `output` has `c` values.
pub(crate) fn global_avg_pool(input: &[f32], [c, h, w]: [usize; 3], output: &mut [f32]) {
    let n = (h * w).max(1);
    for (ch, out) in output.iter_mut().enumerate().take(c) {
        let sum: f32 = input[ch * n..(ch + 1) * n].iter().sum();
        *out = sum / n as f32;
    }
}

/// Max over `size × size` windows with stride `size`; `output` is
/// `[c, h / size, w / size]`.
pub(crate) fn max_pool(input: &[f32], [c, h, w]: [usize; 3], size: usize, output: &mut [f32]) {
    let (oh, ow) = (h / size, w / size);
    for ch in 0..c {
        let src = &input[ch * h * w..(ch + 1) * h * w];
        for oy in 0..oh {
            for ox in 0..ow {
                let mut m = f32::NEG_INFINITY;
                for dy in 0..size {
                    let row = &src[(oy * size + dy) * w + ox * size..][..size];
                    m = row.iter().fold(m, |m, &v| m.max(v));
                }
                output[(ch * oh + oy) * ow + ox] = m;
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
                conv2d(&m, &bias, s, &input, &mut out);
                for (a, b) in out.iter().zip(&expected) {
                    assert!((a - b).abs() < 1e-5, "{s:?}: {a} vs {b}");
                }
            }
        }
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
    }
}
