//! How one tensor's values are stored: which positions (dense, bitmask, CSR, delta CSR)
//! and in which number type (f32, int8 with per-tensor or per-row scales).

use alloc::string::String;
use alloc::vec::Vec;

use crate::RuntimeError;
use crate::bytes::{Reader, Writer, width_for};
use crate::error::invalid;
use crate::graph::{TensorSpec, rows_cols};

/// Which positions of a tensor are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Every value, zeros included.
    Dense,
    /// One bit per position (1 = stored), then the stored values.
    Bitmask,
    /// Compressed sparse rows: row pointers and column indices, each in the smallest
    /// sufficient width (1, 2 or 4 bytes).
    Csr,
    /// CSR with each column index stored as a one-byte gap from the previous one; a gap
    /// over 255 is bridged by explicit zero "filler" entries (Han et al., Deep
    /// Compression, 2016).
    CsrDelta,
}

impl Encoding {
    /// Every encoding, in the order ties are broken (the simpler first).
    pub const ALL: [Encoding; 4] = [
        Encoding::Dense,
        Encoding::Bitmask,
        Encoding::Csr,
        Encoding::CsrDelta,
    ];

    /// The name used in reports and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Bitmask => "bitmask",
            Encoding::Csr => "csr",
            Encoding::CsrDelta => "csr-delta",
        }
    }

    fn tag(self) -> u8 {
        match self {
            Encoding::Dense => 0,
            Encoding::Bitmask => 1,
            Encoding::Csr => 2,
            Encoding::CsrDelta => 3,
        }
    }

    fn from_tag(tag: u8) -> Result<Self, RuntimeError> {
        Encoding::ALL
            .into_iter()
            .find(|e| e.tag() == tag)
            .ok_or_else(|| invalid(alloc::format!("unknown tensor encoding {tag}")))
    }
}

/// How an encoding is chosen for each weight tensor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EncodingChoice {
    /// The smallest in bytes, per tensor (the default).
    #[default]
    Smallest,
    /// This one for every weight tensor (rank ≥ 2); biases stay dense.
    Force(Encoding),
}

/// The number type of stored weight values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Quantization {
    /// 32-bit floats, exact.
    #[default]
    F32,
    /// Symmetric int8 with one scale per tensor: `w ≈ q × s`, `|q| ≤ 127`.
    Int8PerTensor,
    /// Symmetric int8 with one scale per row (output feature or filter).
    Int8PerRow,
}

impl Quantization {
    /// The name used in reports.
    pub fn name(self) -> &'static str {
        match self {
            Quantization::F32 => "f32",
            Quantization::Int8PerTensor => "int8-tensor",
            Quantization::Int8PerRow => "int8-row",
        }
    }

    fn tag(self) -> u8 {
        match self {
            Quantization::F32 => 0,
            Quantization::Int8PerTensor => 1,
            Quantization::Int8PerRow => 2,
        }
    }

    fn from_tag(tag: u8) -> Result<Self, RuntimeError> {
        [
            Quantization::F32,
            Quantization::Int8PerTensor,
            Quantization::Int8PerRow,
        ]
        .into_iter()
        .find(|q| q.tag() == tag)
        .ok_or_else(|| invalid(alloc::format!("unknown value type {tag}")))
    }

    fn value_bytes(self) -> usize {
        match self {
            Quantization::F32 => 4,
            _ => 1,
        }
    }
}

/// Options of [`write_model`](crate::write_model). Biases and other rank-1 tensors are
/// always stored dense in f32: they are a few hundred bytes and sensitive to rounding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct EncodeOptions {
    /// How weight tensors are encoded.
    pub encoding: EncodingChoice,
    /// The number type of weight values.
    pub quantization: Quantization,
}

/// What one tensor costs in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorSize {
    /// Parameter path.
    pub name: String,
    /// Number of values, zeros included.
    pub elements: usize,
    /// Non-zero values (before quantisation).
    pub nonzeros: usize,
    /// The encoding used.
    pub encoding: Encoding,
    /// The number type used.
    pub quantization: Quantization,
    /// Bytes of the tensor's record in the file (name, shape, scales and payload).
    pub bytes: usize,
    /// Bytes of the same values as dense f32.
    pub dense_f32_bytes: usize,
}

/// A decoded tensor: its shape and the (row, column, value) entries of its 2-D view in
/// row-major order, dequantised. Entries that decode to 0.0 (fillers, int8 underflow, or
/// the zeros of a dense tensor) are dropped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Decoded {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    pub(crate) rows: usize,
    pub(crate) cols: usize,
    /// Start of each row in `cols_of` / `values` (rows + 1 entries).
    pub(crate) row_ptr: Vec<u32>,
    pub(crate) col_idx: Vec<u32>,
    pub(crate) values: Vec<f32>,
    pub(crate) size: TensorSize,
}

impl Decoded {
    /// The dense row-major values.
    pub(crate) fn dense(&self) -> Vec<f32> {
        let mut out = alloc::vec![0.0; self.rows * self.cols];
        for r in 0..self.rows {
            let (s, e) = (self.row_ptr[r] as usize, self.row_ptr[r + 1] as usize);
            for k in s..e {
                out[r * self.cols + self.col_idx[k] as usize] = self.values[k];
            }
        }
        out
    }
}

/// Rounds half away from zero into `[-127, 127]` (no `f32::round` in `core`).
fn quantize(x: f32, scale: f32) -> i8 {
    let v = x / scale;
    let r = if v >= 0.0 { v + 0.5 } else { v - 0.5 };
    (r as i32).clamp(-127, 127) as i8
}

/// The smallest scale tried is `max|w| / 127`, the largest `max|w| / SCALE_STEPS_MIN`:
/// between them, the one with the least squared rounding error over the group.
const SCALE_STEPS_MIN: u16 = 96;

/// The scale of one group of weights (a row or a whole tensor): among `max|w| / k` for
/// `k` from 127 down to [`SCALE_STEPS_MIN`], the one whose [`rounding_error`] is least
/// (ties to the larger `k`); 1.0 for an all-zero group.
///
/// Why not just `max|w| / 127`: a pruned row keeps a handful of weights, and a grid a
/// little coarser often puts all of them nearer to grid points than the finest grid that
/// still holds the largest (weights 1.0 and 0.5 are exact with `k` = 126, off by half a
/// step with 127). The largest weight stays exact and nothing is clipped, so no group's
/// error is ever above the `max|w| / 127` scheme's, and the reader needs nothing new.
fn group_scale(vals: &[f32]) -> f32 {
    let m = vals.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    if m == 0.0 {
        return 1.0;
    }
    let mut best = (m / 127.0, rounding_error(vals, m / 127.0));
    for k in (SCALE_STEPS_MIN..127).rev() {
        let s = m / f32::from(k);
        let e = rounding_error(vals, s);
        if e < best.1 {
            best = (s, e);
        }
    }
    best.0
}

/// What storing `vals` as int8 at scale `s` loses: `Σ d² + (Σ d)²` over the rounding
/// errors `d = w − s·q(w)`. The second term is the error of the row's output when its
/// inputs are alike (as ReLU outputs, all non-negative, often are): errors of one sign
/// add up there instead of averaging out.
fn rounding_error(vals: &[f32], s: f32) -> f32 {
    let (squares, sum) = vals.iter().fold((0.0, 0.0), |(squares, sum), &v| {
        let d = v - f32::from(quantize(v, s)) * s;
        (squares + d * d, sum + d)
    });
    squares + sum * sum
}

/// Per-row or per-tensor scales ([`group_scale`]).
fn scales(t: &TensorSpec, q: Quantization) -> Vec<f32> {
    let (rows, cols) = t.rows_cols();
    match q {
        Quantization::F32 => Vec::new(),
        Quantization::Int8PerTensor => alloc::vec![group_scale(&t.values)],
        Quantization::Int8PerRow => (0..rows)
            .map(|r| group_scale(&t.values[r * cols..(r + 1) * cols]))
            .collect(),
    }
}

/// One stored entry: row, column, value (a filler has value 0.0).
type Entry = (usize, usize, f32);

/// The entries each encoding stores.
fn entries(t: &TensorSpec, encoding: Encoding) -> Vec<Entry> {
    let (rows, cols) = t.rows_cols();
    let mut out = Vec::new();
    for r in 0..rows {
        let row = &t.values[r * cols..(r + 1) * cols];
        match encoding {
            Encoding::Dense => out.extend(row.iter().enumerate().map(|(c, &v)| (r, c, v))),
            Encoding::Bitmask | Encoding::Csr => out.extend(
                row.iter()
                    .enumerate()
                    .filter(|(_, v)| **v != 0.0)
                    .map(|(c, &v)| (r, c, v)),
            ),
            Encoding::CsrDelta => {
                let mut next = 0; // the column a gap of 0 points at
                for (c, &v) in row.iter().enumerate().filter(|(_, v)| **v != 0.0) {
                    while c - next > 255 {
                        out.push((r, next + 255, 0.0));
                        next += 256;
                    }
                    out.push((r, c, v));
                    next = c + 1;
                }
            }
        }
    }
    out
}

/// Bytes of a tensor's payload in `encoding` (scales and header excluded).
fn payload_bytes(t: &TensorSpec, encoding: Encoding, q: Quantization) -> usize {
    let (rows, cols) = t.rows_cols();
    let n = rows * cols;
    let vb = q.value_bytes();
    let nnz = t.values.iter().filter(|v| **v != 0.0).count();
    match encoding {
        Encoding::Dense => n * vb,
        Encoding::Bitmask => n.div_ceil(8) + 4 + nnz * vb,
        Encoding::Csr => {
            let pw = usize::from(width_for(nnz as u64));
            let cw = usize::from(width_for(cols.saturating_sub(1) as u64));
            2 + (rows + 1) * pw + nnz * (cw + vb)
        }
        Encoding::CsrDelta => {
            let m = entries(t, Encoding::CsrDelta).len();
            1 + (rows + 1) * usize::from(width_for(m as u64)) + m * (1 + vb)
        }
    }
}

/// Writes one tensor's record; returns its size report.
pub(crate) fn write_tensor(
    w: &mut Writer,
    t: &TensorSpec,
    options: &EncodeOptions,
) -> Result<TensorSize, RuntimeError> {
    let (rows, cols) = t.rows_cols();
    if t.values.len() != rows * cols
        || t.shape.is_empty()
        || t.shape.len() > 8
        || t.shape.contains(&0)
    {
        return Err(invalid(alloc::format!(
            "tensor `{}`: shape {:?} (rank 1 to 8, no empty dimension) does not hold {} values",
            t.name,
            t.shape,
            t.values.len()
        )));
    }
    if t.values.iter().any(|v| !v.is_finite()) {
        return Err(invalid(alloc::format!(
            "tensor `{}` holds a NaN or infinite value",
            t.name
        )));
    }
    let weight = t.shape.len() >= 2;
    let q = if weight {
        options.quantization
    } else {
        Quantization::F32
    };
    let encoding = match (options.encoding, weight) {
        (EncodingChoice::Force(e), true) => e,
        (_, false) => Encoding::Dense,
        (EncodingChoice::Smallest, true) => Encoding::ALL
            .into_iter()
            .min_by_key(|&e| payload_bytes(t, e, q))
            .unwrap_or(Encoding::Dense),
    };
    let start = w.bytes.len();
    w.str(&t.name);
    w.u8(t.shape.len() as u8);
    for &d in &t.shape {
        w.u32(u32::try_from(d).map_err(|_| invalid("a dimension over 2^32"))?);
    }
    w.u8(encoding.tag());
    w.u8(q.tag());
    let scales = scales(t, q);
    for &s in &scales {
        w.f32(s);
    }
    let list = entries(t, encoding);
    let row_ptr = |list: &[Entry]| {
        let mut ptr = alloc::vec![0u32; rows + 1];
        for &(r, _, _) in list {
            ptr[r + 1] += 1;
        }
        for r in 0..rows {
            ptr[r + 1] += ptr[r];
        }
        ptr
    };
    match encoding {
        Encoding::Dense => {}
        Encoding::Bitmask => {
            let mut bits = alloc::vec![0u8; (rows * cols).div_ceil(8)];
            for &(r, c, _) in &list {
                let i = r * cols + c;
                bits[i / 8] |= 1 << (i % 8);
            }
            w.bytes.extend_from_slice(&bits);
            w.u32(list.len() as u32);
        }
        Encoding::Csr => {
            let pw = width_for(list.len() as u64);
            let cw = width_for(cols.saturating_sub(1) as u64);
            w.u8(pw);
            w.u8(cw);
            for p in row_ptr(&list) {
                w.uint(p, pw);
            }
            for &(_, c, _) in &list {
                w.uint(c as u32, cw);
            }
        }
        Encoding::CsrDelta => {
            let pw = width_for(list.len() as u64);
            w.u8(pw);
            for p in row_ptr(&list) {
                w.uint(p, pw);
            }
            let mut next = (usize::MAX, 0); // (row, column a gap of 0 points at)
            for &(r, c, _) in &list {
                if next.0 != r {
                    next = (r, 0);
                }
                w.u8((c - next.1) as u8);
                next.1 = c + 1;
            }
        }
    }
    for &(r, _, v) in &list {
        match q {
            Quantization::F32 => w.f32(v),
            Quantization::Int8PerTensor => w.u8(quantize(v, scales[0]) as u8),
            Quantization::Int8PerRow => w.u8(quantize(v, scales[r]) as u8),
        }
    }
    Ok(TensorSize {
        name: t.name.clone(),
        elements: t.values.len(),
        nonzeros: t.values.iter().filter(|v| **v != 0.0).count(),
        encoding,
        quantization: q,
        bytes: w.bytes.len() - start,
        dense_f32_bytes: t.values.len() * 4,
    })
}

/// The most values one tensor may have (2^28, a gigabyte of f32: more than any device
/// this runtime targets holds): a corrupt shape cannot make the loader allocate more.
const MAX_ELEMENTS: usize = 1 << 28;

/// Reads one tensor's record, validating every index.
pub(crate) fn read_tensor(r: &mut Reader<'_>) -> Result<Decoded, RuntimeError> {
    let start_len = r.consumed();
    let name = r.str("tensor name")?;
    let rank = usize::from(r.u8("tensor rank")?);
    if !(1..=8).contains(&rank) {
        return Err(invalid(alloc::format!(
            "tensor `{name}` has rank {rank} (1 to 8)"
        )));
    }
    let shape: Vec<usize> = r.many(rank, 4, "tensor shape", |r| {
        r.u32("tensor shape").map(|d| d as usize)
    })?;
    // An empty dimension holds nothing a model could use, and would let the product of
    // the other dimensions (the 2-D view's columns) overflow unchecked.
    if shape.contains(&0) {
        return Err(invalid(alloc::format!(
            "tensor `{name}` has an empty dimension: shape {shape:?}"
        )));
    }
    let elements = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .filter(|&n| n <= MAX_ELEMENTS)
        .ok_or_else(|| {
            invalid(alloc::format!(
                "tensor `{name}`: shape {shape:?} is too large"
            ))
        })?;
    let (rows, cols) = rows_cols(&shape);
    let encoding = Encoding::from_tag(r.u8("tensor encoding")?)?;
    let q = Quantization::from_tag(r.u8("tensor value type")?)?;
    let n_scales = match q {
        Quantization::F32 => 0,
        Quantization::Int8PerTensor => 1,
        Quantization::Int8PerRow => rows,
    };
    let scales = r.many(n_scales, 4, "quantisation scales", |r| r.f32("scale"))?;
    if scales.iter().any(|s| !(s.is_finite() && *s > 0.0)) {
        return Err(invalid(alloc::format!(
            "tensor `{name}` has a scale that is not a positive number"
        )));
    }
    // Positions first, then values.
    let (row_ptr, col_idx): (Vec<u32>, Vec<u32>) = match encoding {
        Encoding::Dense => {
            let ptr = (0..=rows).map(|i| (i * cols) as u32).collect();
            let idx = (0..rows).flat_map(|_| 0..cols as u32).collect();
            (ptr, idx)
        }
        Encoding::Bitmask => {
            let bits = r.take(elements.div_ceil(8), "bitmask")?;
            let nnz = r.u32("bitmask count")? as usize;
            let mut ptr = alloc::vec![0u32; rows + 1];
            let mut idx = Vec::new();
            for i in 0..elements {
                if bits[i / 8] & (1 << (i % 8)) != 0 {
                    ptr[i / cols + 1] += 1;
                    idx.push((i % cols) as u32);
                }
            }
            let trailing = (elements..bits.len() * 8).any(|i| bits[i / 8] & (1 << (i % 8)) != 0);
            if idx.len() != nnz || trailing {
                return Err(invalid(alloc::format!(
                    "tensor `{name}`: the bitmask has {} bits set but says {nnz}",
                    idx.len()
                )));
            }
            for i in 0..rows {
                ptr[i + 1] += ptr[i];
            }
            (ptr, idx)
        }
        Encoding::Csr | Encoding::CsrDelta => {
            let pw = read_width(r, "row pointer width")?;
            let cw = if encoding == Encoding::Csr {
                read_width(r, "column index width")?
            } else {
                1
            };
            let ptr = r.many(rows + 1, usize::from(pw), "row pointers", |r| {
                r.uint(pw, "row pointer")
            })?;
            if ptr[0] != 0 || ptr.windows(2).any(|p| p[0] > p[1]) {
                return Err(invalid(alloc::format!(
                    "tensor `{name}`: row pointers do not start at 0 and grow"
                )));
            }
            let m = ptr[rows] as usize;
            let raw = r.many(m, usize::from(cw), "column indices", |r| {
                r.uint(cw, "column index")
            })?;
            let idx = if encoding == Encoding::Csr {
                raw
            } else {
                let mut idx = Vec::with_capacity(m);
                for row in 0..rows {
                    let mut next = 0u32;
                    for &gap in &raw[ptr[row] as usize..ptr[row + 1] as usize] {
                        idx.push(next + gap);
                        next += gap + 1;
                    }
                }
                idx
            };
            for row in 0..rows {
                let cols_of = &idx[ptr[row] as usize..ptr[row + 1] as usize];
                let increasing = cols_of.windows(2).all(|c| c[0] < c[1]);
                if !increasing || cols_of.last().is_some_and(|&c| c as usize >= cols) {
                    return Err(invalid(alloc::format!(
                        "tensor `{name}`: row {row} has column indices out of order or past {cols}"
                    )));
                }
            }
            (ptr, idx)
        }
    };
    let m = col_idx.len();
    let raw: Vec<f32> = match q {
        Quantization::F32 => r.many(m, 4, "tensor values", |r| r.f32("value"))?,
        _ => {
            let bytes = r.take(m, "tensor values")?;
            let mut out = Vec::with_capacity(m);
            for row in 0..rows {
                let scale = if q == Quantization::Int8PerRow {
                    scales[row]
                } else {
                    scales[0]
                };
                for &b in &bytes[row_ptr[row] as usize..row_ptr[row + 1] as usize] {
                    out.push(f32::from(b as i8) * scale);
                }
            }
            out
        }
    };
    if raw.iter().any(|v| !v.is_finite()) {
        return Err(invalid(alloc::format!(
            "tensor `{name}` holds a NaN or infinite value"
        )));
    }
    // Drop the entries that are zero: fillers, the zeros of a dense tensor, int8 underflow.
    let mut ptr = alloc::vec![0u32; rows + 1];
    let (mut idx, mut values) = (Vec::new(), Vec::new());
    for row in 0..rows {
        for k in row_ptr[row] as usize..row_ptr[row + 1] as usize {
            if raw[k] != 0.0 {
                idx.push(col_idx[k]);
                values.push(raw[k]);
            }
        }
        ptr[row + 1] = idx.len() as u32;
    }
    let size = TensorSize {
        name: name.clone(),
        elements,
        nonzeros: values.len(),
        encoding,
        quantization: q,
        bytes: r.consumed() - start_len,
        dense_f32_bytes: elements * 4,
    };
    Ok(Decoded {
        name,
        shape,
        rows,
        cols,
        row_ptr: ptr,
        col_idx: idx,
        values,
        size,
    })
}

fn read_width(r: &mut Reader<'_>, what: &'static str) -> Result<u8, RuntimeError> {
    match r.u8(what)? {
        w @ (1 | 2 | 4) => Ok(w),
        w => Err(invalid(alloc::format!("{what} is {w} (1, 2 or 4)"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn group_scales_put_a_few_kept_weights_on_the_grid() {
        // (weights, the grid step k the scale is max|w| / k for, error under it)
        let check = |vals: &[f32], k: f32, expected_error: f32| {
            let s = group_scale(vals);
            let max = vals.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            assert!(
                (s - max / k).abs() <= 1e-6 * s,
                "{vals:?}: scale {s}, expected max/{k}"
            );
            assert!(
                (rounding_error(vals, s) - expected_error).abs() < 1e-9,
                "{vals:?}: error {}",
                rounding_error(vals, s)
            );
        };
        // Off by half a step at 127; exact at 126.
        check(&[1.0, 0.5], 126.0, 0.0);
        check(&[0.0, -0.5, 0.0, 0.25], 126.0, 0.0);
        // Quarters need a multiple of 4: 124 is the first below 127.
        check(&[1.0, 0.0, -0.5, 0.25], 124.0, 0.0);
        // One weight is exact at 127: the finest grid wins the tie.
        check(&[0.0, 0.3, 0.0], 127.0, 0.0);
        // All zero: any scale stores zeros; 1.0 keeps the file's scales positive.
        assert_eq!(group_scale(&[0.0, 0.0]), 1.0);
    }

    proptest! {
        /// The search only ever lowers the rounding error of the `max|w| / 127` scheme,
        /// and keeps the largest weight exact (nothing clipped).
        #[test]
        fn group_scales_never_round_worse_than_the_finest_grid(
            vals in proptest::collection::vec(-4.0_f32..4.0, 1..40)
        ) {
            let max = vals.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
            prop_assume!(max > 1e-6);
            let s = group_scale(&vals);
            prop_assert!(rounding_error(&vals, s) <= rounding_error(&vals, max / 127.0) + 1e-12);
            let top = f32::from(quantize(max, s)) * s;
            prop_assert!((top - max).abs() <= 1e-6 * max, "{} stored as {}", max, top);
        }
    }
}
