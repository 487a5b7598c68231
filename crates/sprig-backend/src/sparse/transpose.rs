//! Transposes between a batch's row-major layout and the kernels' batch-major one, with
//! the row strides of either side given (batch-major rows are padded, see
//! [`super::BatchMajor`]).

use std::mem::MaybeUninit;

/// `m`'s `rows` rows of `cols` values (row `r` at `r * m_stride`), transposed into a new
/// `[cols, rows]` buffer.
///
/// The buffer is not zeroed first: every value is written once by [`transpose_into`],
/// and zeroing the step's transposed operands was a sizeable share of a sparse step.
pub(super) fn transposed(m: &[f32], m_stride: usize, rows: usize, cols: usize) -> Vec<f32> {
    let n = rows * cols;
    let mut t = Vec::with_capacity(n);
    transpose_into(
        m,
        m_stride,
        rows,
        cols,
        &mut t.spare_capacity_mut()[..n],
        rows,
    );
    // SAFETY: `transpose_into` initialised all `n` values (its blocks cover every row and
    // column, and the output's stride is its row length), and the capacity is at least `n`.
    #[allow(unsafe_code)]
    unsafe {
        t.set_len(n);
    }
    t
}

/// `m`'s `rows` rows of `cols` values (row `r` at `r * m_stride`) into `t` as `cols` rows
/// of `rows` values (row `c` at `c * t_stride`; the values between a row's end and the
/// next row's start are not written): in blocks of up to 8 × 8 held in registers, so
/// reads and writes are runs of up to 8 contiguous values (a plain element-wise transpose
/// writes one value per cache line and was most of a sparse step's time).
pub(super) fn transpose_into(
    m: &[f32],
    m_stride: usize,
    rows: usize,
    cols: usize,
    t: &mut [MaybeUninit<f32>],
    t_stride: usize,
) {
    const B: usize = 8;
    assert!(
        cols <= m_stride && rows <= t_stride,
        "a stride shorter than its row"
    );
    assert!(
        rows == 0 || cols == 0 || (m.len() > (rows - 1) * m_stride + cols - 1),
        "transpose input size"
    );
    assert!(
        rows == 0 || cols == 0 || (t.len() > (cols - 1) * t_stride + rows - 1),
        "transpose output size"
    );
    for r0 in (0..rows).step_by(B) {
        let height = B.min(rows - r0);
        for c0 in (0..cols).step_by(B) {
            let width = B.min(cols - c0);
            if height == B && width == B && transpose_8x8(m, m_stride, r0, c0, t, t_stride) {
                continue;
            }
            let mut block = [[0.0f32; B]; B];
            for (k, row) in block.iter_mut().enumerate().take(height) {
                row[..width].copy_from_slice(&m[(r0 + k) * m_stride + c0..][..width]);
            }
            for c in 0..width {
                let out = &mut t[(c0 + c) * t_stride + r0..][..height];
                for (k, value) in out.iter_mut().enumerate() {
                    value.write(block[k][c]);
                }
            }
        }
    }
}

/// The whole 8 × 8 block at row `r0`, column `c0` of `m` (rows `m_stride` apart) into `t`
/// (rows `t_stride` apart), as four 4 × 4 transposes in SSE registers (every x86-64 has
/// SSE2): a third of the scalar block's instructions, and the transposes were the largest
/// share of a sparse step once nothing was zeroed. False (nothing written) elsewhere.
#[cfg(target_arch = "x86_64")]
fn transpose_8x8(
    m: &[f32],
    m_stride: usize,
    r0: usize,
    c0: usize,
    t: &mut [MaybeUninit<f32>],
    t_stride: usize,
) -> bool {
    use std::arch::x86_64::{
        _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_storeu_ps, _mm_unpackhi_ps, _mm_unpacklo_ps,
    };
    // The block's last value in `m` and in `t`: every access below is at or before them.
    assert!(
        (r0 + 7) * m_stride + c0 + 7 < m.len() && (c0 + 7) * t_stride + r0 + 7 < t.len(),
        "an 8 × 8 block inside both matrices"
    );
    for (dr, dc) in [(0, 0), (0, 4), (4, 0), (4, 4)] {
        let src = m[(r0 + dr) * m_stride + c0 + dc..].as_ptr();
        let dst = t[(c0 + dc) * t_stride + r0 + dr..]
            .as_mut_ptr()
            .cast::<f32>();
        // SAFETY: rows r0 + dr .. + 4 and columns c0 + dc .. + 4 are inside `m` and their
        // transposes inside `t` (the assertion above); unaligned loads and stores.
        #[allow(unsafe_code)]
        unsafe {
            let a = _mm_loadu_ps(src);
            let b = _mm_loadu_ps(src.add(m_stride));
            let c = _mm_loadu_ps(src.add(2 * m_stride));
            let d = _mm_loadu_ps(src.add(3 * m_stride));
            let ab_low = _mm_unpacklo_ps(a, b); // a0 b0 a1 b1
            let cd_low = _mm_unpacklo_ps(c, d); // c0 d0 c1 d1
            let ab_high = _mm_unpackhi_ps(a, b); // a2 b2 a3 b3
            let cd_high = _mm_unpackhi_ps(c, d); // c2 d2 c3 d3
            _mm_storeu_ps(dst, _mm_movelh_ps(ab_low, cd_low));
            _mm_storeu_ps(dst.add(t_stride), _mm_movehl_ps(cd_low, ab_low));
            _mm_storeu_ps(dst.add(2 * t_stride), _mm_movelh_ps(ab_high, cd_high));
            _mm_storeu_ps(dst.add(3 * t_stride), _mm_movehl_ps(cd_high, ab_high));
        }
    }
    true
}

/// Elsewhere the scalar blocks do it all.
#[cfg(not(target_arch = "x86_64"))]
fn transpose_8x8(
    _m: &[f32],
    _m_stride: usize,
    _r0: usize,
    _c0: usize,
    _t: &mut [MaybeUninit<f32>],
    _t_stride: usize,
) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transposes_of_every_shape_up_to_three_blocks_match_the_definition() {
        for rows in 1..=20 {
            for cols in 1..=20 {
                // Rows three values longer than their data: the stride is honoured.
                let m_stride = cols + 3;
                let m: Vec<f32> = (0..rows * m_stride).map(|i| i as f32).collect();
                let t = transposed(&m, m_stride, rows, cols);
                let expected: Vec<f32> = (0..rows * cols)
                    .map(|k| m[(k % rows) * m_stride + k / rows])
                    .collect();
                assert_eq!(t, expected, "{rows} × {cols}");
            }
        }
    }
}
