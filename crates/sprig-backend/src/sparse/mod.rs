//! Sparse × dense kernels for a linear layer whose weight keeps few entries: the forward
//! product, the input gradient, and the weight gradient at the kept entries only (a
//! sampled dense–dense product). Their cost is the batch size times the kept entries, not
//! the weight's size, which is what makes a late, very sparse round of pruning cheap.
//!
//! Plain row-major slices, so any backend can call them on host memory. The weight is in
//! Burn's `Linear` layout, `[inputs, outputs]`: `y = x · W`.

use thiserror::Error;

use self::simd::{Level, RowSums, SampledDots};
use self::transpose::{transpose_into, transposed};

mod simd;
mod transpose;

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
/// weight, the pattern only when the mask does), and column by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SparsePattern {
    rows: usize,
    cols: usize,
    /// Row `i`'s entries are `columns[starts[i]..starts[i + 1]]`.
    starts: Vec<usize>,
    /// The column of each kept entry, increasing within a row.
    columns: Vec<u32>,
    /// Column `j`'s entries are `column_rows[column_starts[j]..column_starts[j + 1]]`.
    column_starts: Vec<usize>,
    /// The row of each kept entry in column order, increasing within a column.
    column_rows: Vec<u32>,
    /// Where each entry in column order is in row order (the order of the values).
    column_order: Vec<u32>,
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
        // Column order by counting: each column's entries in increasing rows.
        let mut column_starts = vec![0; cols + 1];
        for &j in &columns {
            column_starts[j as usize + 1] += 1;
        }
        for j in 0..cols {
            column_starts[j + 1] += column_starts[j];
        }
        let mut column_rows = vec![0; columns.len()];
        let mut column_order = vec![0; columns.len()];
        let mut fill = column_starts.clone();
        for i in 0..rows {
            for k in starts[i]..starts[i + 1] {
                let at = &mut fill[columns[k] as usize];
                column_rows[*at] = u32::try_from(i).expect("a weight's height fits in u32");
                column_order[*at] = u32::try_from(k).expect("a weight's size fits in u32");
                *at += 1;
            }
        }
        Ok(Self {
            rows,
            cols,
            starts,
            columns,
            column_starts,
            column_rows,
            column_order,
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
        self.forward_at(Level::detect(), xt, values)
    }

    fn forward_at(&self, level: Level, xt: &BatchMajor, values: &[f32]) -> Vec<f32> {
        self.check_operand(xt, self.rows, values);
        // Column by column: an output feature's run over the batch is summed in
        // registers over its kept inputs and stored once.
        let by_column: Vec<f32> = self
            .column_order
            .iter()
            .map(|&k| values[k as usize])
            .collect();
        let mut yt = vec![0.0; self.cols * xt.stride()];
        simd::run(
            level,
            RowSums {
                starts: &self.column_starts,
                indices: &self.column_rows,
                values: &by_column,
                operand: xt,
                out: &mut yt,
            },
        );
        transposed(&yt, xt.stride(), self.cols, xt.batch())
    }

    /// The input gradient `dx = dy · Wᵀ` of `[batch, rows]`, from the output gradient in
    /// batch-major order (`dyt`).
    pub fn input_grad(&self, dyt: &BatchMajor, values: &[f32]) -> Vec<f32> {
        self.input_grad_at(Level::detect(), dyt, values)
    }

    fn input_grad_at(&self, level: Level, dyt: &BatchMajor, values: &[f32]) -> Vec<f32> {
        self.check_operand(dyt, self.cols, values);
        let mut dxt = vec![0.0; self.rows * dyt.stride()];
        simd::run(
            level,
            RowSums {
                starts: &self.starts,
                indices: &self.columns,
                values,
                operand: dyt,
                out: &mut dxt,
            },
        );
        transposed(&dxt, dyt.stride(), self.rows, dyt.batch())
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
        self.weight_grad_into_at(Level::detect(), xt, dyt, dw);
    }

    fn weight_grad_into_at(&self, level: Level, xt: &BatchMajor, dyt: &BatchMajor, dw: &mut [f32]) {
        assert_eq!(xt.width(), self.rows, "input width");
        assert_eq!(dyt.width(), self.cols, "output gradient width");
        assert_eq!(xt.batch(), dyt.batch(), "one output gradient per example");
        assert_eq!(dw.len(), self.rows * self.cols, "weight gradient size");
        simd::run(
            level,
            SampledDots {
                starts: &self.starts,
                indices: &self.columns,
                left: xt,
                right: dyt,
                out: dw,
            },
        );
    }

    /// Checks a batch-major operand of `width` rows and the values' count.
    fn check_operand(&self, operand: &BatchMajor, width: usize, values: &[f32]) {
        assert_eq!(values.len(), self.kept(), "one value per kept entry");
        assert_eq!(operand.width(), width, "operand width");
    }
}

/// A `[batch, width]` operand stored transposed, `[width, batch]`: each feature's values
/// over the batch are contiguous, so a kept weight touches one contiguous run. Each row
/// is padded with zeros to a multiple of sixteen values, so the kernels run whole vectors
/// (a zero adds nothing to a sum or a dot product). Made once per operand and shared by
/// the products that need it (the input by the forward product and the weight gradient,
/// the output gradient by both gradients).
#[derive(Debug, Clone)]
pub struct BatchMajor {
    batch: usize,
    width: usize,
    /// Values from one feature's row to the next: `batch` rounded up to the padding.
    stride: usize,
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
        let stride = batch.next_multiple_of(simd::LANES);
        let n = width * stride;
        let mut values = Vec::with_capacity(n);
        let t = &mut values.spare_capacity_mut()[..n];
        transpose_into(m, width, batch, width, t, stride);
        if stride > batch {
            for row in t.chunks_exact_mut(stride) {
                for value in &mut row[batch..] {
                    value.write(0.0);
                }
            }
        }
        // SAFETY: the transpose wrote the first `batch` values of each of the `width`
        // rows of `stride` values, and the loop above the rest; the capacity is `n`.
        #[allow(unsafe_code)]
        unsafe {
            values.set_len(n);
        }
        Self {
            batch,
            width,
            stride,
            values,
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

    /// Values from one feature's row to the next (the batch, padded).
    fn stride(&self) -> usize {
        self.stride
    }

    /// Feature `i` over the batch, with its padding.
    fn row(&self, i: usize) -> &[f32] {
        &self.values[i * self.stride..(i + 1) * self.stride]
    }
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
        (1usize..12, 1usize..12, 1usize..90).prop_flat_map(|(rows, cols, batch)| {
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
            let dense_y: Vec<f32> = (0..batch * cols)
                .map(|k| (0..rows).map(|i| x[k / cols * rows + i] * masked[i * cols + k % cols]).sum())
                .collect();
            let dense_dx: Vec<f32> = (0..batch * rows)
                .map(|k| (0..cols).map(|j| dy[k / rows * cols + j] * masked[k % rows * cols + j]).sum())
                .collect();
            let dense_dw: Vec<f32> = (0..rows * cols)
                .map(|k| {
                    let g: f32 = (0..batch).map(|b| x[b * rows + k / cols] * dy[b * cols + k % cols]).sum();
                    if keep[k] { g } else { 0.0 }
                })
                .collect();
            // Every instruction set this CPU has gives the dense products' values.
            for level in Level::available() {
                let y = pattern.forward_at(level, &xt, &values);
                prop_assert!(close(&y, &dense_y), "{:?}: {:?} {:?}", level, y, dense_y);

                let dx = pattern.input_grad_at(level, &dyt, &values);
                prop_assert!(close(&dx, &dense_dx), "{:?}: {:?} {:?}", level, dx, dense_dx);

                let mut dw = vec![0.0; rows * cols];
                pattern.weight_grad_into_at(level, &xt, &dyt, &mut dw);
                // Written again over a buffer this pattern wrote before: the same gradient.
                let mut again = dw.iter().map(|v| v * 3.0).collect::<Vec<_>>();
                pattern.weight_grad_into_at(level, &xt, &dyt, &mut again);
                prop_assert_eq!(&again, &dw);
                prop_assert!(close(&dw, &dense_dw), "{:?}: {:?} {:?}", level, dw, dense_dw);
            }
            prop_assert_eq!(pattern.weight_grad(&xt, &dyt), {
                let mut dw = vec![0.0; rows * cols];
                pattern.weight_grad_into(&xt, &dyt, &mut dw);
                dw
            });
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
