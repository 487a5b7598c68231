//! [`Mask`]: one keep/prune bit per element of one tensor.
//!
//! Bits are packed 64 to a word because masks are kept for every round of
//! iterative pruning and for every prunable tensor; a `Vec<bool>` would be
//! eight times larger. Element `i` lives in bit `i % 64` of word `i / 64`
//! (row-major order of the flat tensor).

use crate::error::{MaskError, Result, UNNAMED, numel};

const WORD_BITS: usize = 64;

/// Keep (`true`) / prune (`false`) bit per element of one tensor.
///
/// Invariants, checked by [`Mask::validate`] and upheld by every
/// constructor: `len == shape.iter().product()`, the word vector holds
/// exactly `ceil(len / 64)` words, and every bit at position `>= len` is
/// zero (so popcounts and equality never see garbage).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Mask {
    shape: Vec<usize>,
    len: usize,
    words: Vec<u64>,
}

impl Mask {
    /// A mask keeping every element of a tensor of `shape` (the dense start
    /// of iterative magnitude pruning).
    ///
    /// # Errors
    /// [`MaskError::ShapeOverflow`] if the element count overflows `usize`.
    pub fn all_kept(shape: &[usize]) -> Result<Self> {
        let len = numel(shape)?;
        let mut words = vec![u64::MAX; len.div_ceil(WORD_BITS)];
        if let Some(last) = words.last_mut() {
            *last = tail_mask(len);
        }
        Ok(Self {
            shape: shape.to_vec(),
            len,
            words,
        })
    }

    /// A mask pruning every element of a tensor of `shape`.
    ///
    /// # Errors
    /// [`MaskError::ShapeOverflow`] if the element count overflows `usize`.
    pub fn all_pruned(shape: &[usize]) -> Result<Self> {
        let len = numel(shape)?;
        Ok(Self {
            shape: shape.to_vec(),
            len,
            words: vec![0; len.div_ceil(WORD_BITS)],
        })
    }

    /// Builds a mask from one bool per element (`true` = kept).
    ///
    /// # Errors
    /// [`MaskError::LengthMismatch`] if `kept.len()` differs from the
    /// element count of `shape`; [`MaskError::ShapeOverflow`].
    pub fn from_bools(shape: &[usize], kept: &[bool]) -> Result<Self> {
        let len = numel(shape)?;
        if kept.len() != len {
            return Err(length_mismatch(len, kept.len()));
        }
        let mut words = vec![0u64; len.div_ceil(WORD_BITS)];
        for (i, _) in kept.iter().enumerate().filter(|(_, k)| **k) {
            words[i / WORD_BITS] |= 1 << (i % WORD_BITS);
        }
        Ok(Self {
            shape: shape.to_vec(),
            len,
            words,
        })
    }

    /// Builds a mask from bytes packed as by [`Mask::to_packed_bytes`]
    /// (element `i` in bit `i % 8` of byte `i / 8`). This is the path
    /// deserialisation takes, so it trusts nothing.
    ///
    /// # Errors
    /// [`MaskError::CorruptMask`] if the byte count is not `ceil(len / 8)` or
    /// a bit beyond the last element is set; [`MaskError::ShapeOverflow`].
    pub fn from_packed_bytes(shape: &[usize], bytes: &[u8]) -> Result<Self> {
        let len = numel(shape)?;
        let expected = len.div_ceil(8);
        if bytes.len() != expected {
            return Err(corrupt(format!(
                "expected {expected} packed bytes for shape {shape:?} ({len} elements), found {}",
                bytes.len()
            )));
        }
        if let Some(&last) = bytes.last()
            && len % 8 != 0
            && last >> (len % 8) != 0
        {
            return Err(corrupt(format!(
                "bits set beyond the last of {len} elements"
            )));
        }
        let words = bytes
            .chunks(8)
            .map(|chunk| {
                let mut buf = [0u8; 8];
                buf[..chunk.len()].copy_from_slice(chunk);
                u64::from_le_bytes(buf)
            })
            .collect();
        let mask = Self {
            shape: shape.to_vec(),
            len,
            words,
        };
        mask.validate()?;
        Ok(mask)
    }

    /// The bits packed into bytes, element `i` in bit `i % 8` of byte
    /// `i / 8`; `ceil(len / 8)` bytes, unused high bits of the last byte zero.
    /// The layout is fixed (little-endian), so it is portable across
    /// platforms.
    #[must_use]
    pub fn to_packed_bytes(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = self.words.iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.truncate(self.len.div_ceil(8));
        bytes
    }

    /// Checks the invariants (see the type docs). Useful after building a
    /// mask from untrusted data; always `Ok` for masks made by this crate.
    ///
    /// # Errors
    /// [`MaskError::CorruptMask`] describing the broken invariant.
    pub fn validate(&self) -> Result<()> {
        let len = numel(&self.shape)?;
        if len != self.len {
            return Err(corrupt(format!(
                "length {} does not match shape {:?} ({len} elements)",
                self.len, self.shape
            )));
        }
        let words = len.div_ceil(WORD_BITS);
        if self.words.len() != words {
            return Err(corrupt(format!(
                "expected {words} words for {len} elements, found {}",
                self.words.len()
            )));
        }
        if let Some(&last) = self.words.last()
            && last & !tail_mask(len) != 0
        {
            return Err(corrupt(format!(
                "bits set beyond the last of {len} elements"
            )));
        }
        Ok(())
    }

    /// Number of elements (product of the shape).
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the tensor has no elements.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Shape of the tensor this mask belongs to.
    #[must_use]
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// Number of kept (surviving) elements.
    #[must_use]
    pub fn kept_count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Number of pruned elements.
    #[must_use]
    pub fn pruned_count(&self) -> usize {
        self.len - self.kept_count()
    }

    /// Fraction of elements pruned, in `[0, 1]`; `0.0` for an empty tensor.
    #[must_use]
    pub fn sparsity(&self) -> f64 {
        if self.len == 0 {
            0.0
        } else {
            self.pruned_count() as f64 / self.len as f64
        }
    }

    /// Whether element `index` is kept.
    ///
    /// # Errors
    /// [`MaskError::IndexOutOfBounds`] if `index >= len`.
    pub fn is_kept(&self, index: usize) -> Result<bool> {
        self.check_index(index)?;
        Ok(self.bit(index))
    }

    /// Prunes element `index` (a no-op if it is already pruned). There is
    /// deliberately no public way to revive a single element: masks only
    /// shrink during iterative pruning.
    ///
    /// # Errors
    /// [`MaskError::IndexOutOfBounds`] if `index >= len`.
    pub fn prune_index(&mut self, index: usize) -> Result<()> {
        self.check_index(index)?;
        self.clear(index);
        Ok(())
    }

    /// Iterates over the bits in element order (`true` = kept).
    #[must_use]
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            mask: self,
            next: 0,
        }
    }

    /// Iterates over the indices of kept elements, in increasing order.
    /// Skips whole pruned words, so it is cheap on sparse masks.
    pub fn kept_indices(&self) -> impl Iterator<Item = usize> + '_ {
        self.words.iter().enumerate().flat_map(|(w, &word)| {
            let mut bits = word;
            std::iter::from_fn(move || {
                if bits == 0 {
                    return None;
                }
                let b = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                Some(w * WORD_BITS + b)
            })
        })
    }

    /// One bool per element (`true` = kept).
    #[must_use]
    pub fn to_bools(&self) -> Vec<bool> {
        self.iter().collect()
    }

    /// `1.0` for kept and `0.0` for pruned elements, in element order: the
    /// values of a tensor multiplier that a training backend applies to
    /// weights and gradients.
    #[must_use]
    pub fn to_multiplier(&self) -> Vec<f32> {
        self.iter().map(|k| if k { 1.0 } else { 0.0 }).collect()
    }

    /// Sets every pruned entry of `values` to exactly `+0.0` and leaves kept
    /// entries untouched (bit for bit). Assignment rather than
    /// multiplication, so pruned NaN/inf/-0.0 become `+0.0` too.
    ///
    /// # Errors
    /// [`MaskError::LengthMismatch`] if `values.len() != self.len()`;
    /// `values` is then left unchanged.
    pub fn apply(&self, values: &mut [f32]) -> Result<()> {
        if values.len() != self.len {
            return Err(length_mismatch(self.len, values.len()));
        }
        for (v, kept) in values.iter_mut().zip(self.iter()) {
            if !kept {
                *v = 0.0;
            }
        }
        Ok(())
    }

    /// Whether every element kept here is also kept in `other`. Masks of
    /// different shapes are never subsets of each other.
    #[must_use]
    pub fn is_subset_of(&self, other: &Self) -> bool {
        self.shape == other.shape
            && self
                .words
                .iter()
                .zip(&other.words)
                .all(|(a, b)| a & !b == 0)
    }

    /// Elements kept in both masks.
    ///
    /// # Errors
    /// [`MaskError::ShapeMismatch`] if the shapes differ.
    pub fn intersection(&self, other: &Self) -> Result<Self> {
        if self.shape != other.shape {
            return Err(MaskError::ShapeMismatch {
                tensor: UNNAMED.to_owned(),
                expected: self.shape.clone(),
                found: other.shape.clone(),
            });
        }
        let words = self
            .words
            .iter()
            .zip(&other.words)
            .map(|(a, b)| a & b)
            .collect();
        Ok(Self {
            shape: self.shape.clone(),
            len: self.len,
            words,
        })
    }

    /// Prunes element `index`; the caller guarantees `index < len`.
    pub(crate) fn clear(&mut self, index: usize) {
        debug_assert!(index < self.len);
        if let Some(w) = self.words.get_mut(index / WORD_BITS) {
            *w &= !(1 << (index % WORD_BITS));
        }
    }

    fn bit(&self, index: usize) -> bool {
        self.words
            .get(index / WORD_BITS)
            .is_some_and(|w| (w >> (index % WORD_BITS)) & 1 == 1)
    }

    fn check_index(&self, index: usize) -> Result<()> {
        if index < self.len {
            Ok(())
        } else {
            Err(MaskError::IndexOutOfBounds {
                tensor: UNNAMED.to_owned(),
                index,
                len: self.len,
            })
        }
    }
}

impl<'a> IntoIterator for &'a Mask {
    type Item = bool;
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

/// Iterator over a mask's bits in element order; see [`Mask::iter`].
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    mask: &'a Mask,
    next: usize,
}

impl Iterator for Iter<'_> {
    type Item = bool;

    fn next(&mut self) -> Option<bool> {
        if self.next >= self.mask.len {
            return None;
        }
        let bit = self.mask.bit(self.next);
        self.next += 1;
        Some(bit)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.mask.len - self.next;
        (left, Some(left))
    }
}

impl ExactSizeIterator for Iter<'_> {}

/// The valid bits of the last word for a mask of `len` elements.
fn tail_mask(len: usize) -> u64 {
    match len % WORD_BITS {
        0 => u64::MAX,
        r => (1u64 << r) - 1,
    }
}

fn length_mismatch(expected: usize, found: usize) -> MaskError {
    MaskError::LengthMismatch {
        tensor: UNNAMED.to_owned(),
        expected,
        found,
    }
}

fn corrupt(reason: String) -> MaskError {
    MaskError::CorruptMask {
        tensor: UNNAMED.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_kept_has_no_stray_bits() {
        for n in [0, 1, 63, 64, 65, 130] {
            let m = Mask::all_kept(&[n]).unwrap();
            m.validate().unwrap();
            assert_eq!(m.kept_count(), n);
            assert_eq!(m.pruned_count(), 0);
        }
    }

    #[test]
    fn scalar_shape_has_one_element() {
        let m = Mask::all_kept(&[]).unwrap();
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn from_bools_round_trips_and_checks_length() {
        let bools = [true, false, true, true, false];
        let m = Mask::from_bools(&[5], &bools).unwrap();
        assert_eq!(m.to_bools(), bools);
        assert_eq!(m.kept_indices().collect::<Vec<_>>(), vec![0, 2, 3]);
        assert_eq!(m.to_multiplier(), vec![1.0, 0.0, 1.0, 1.0, 0.0]);
        assert!((m.sparsity() - 0.4).abs() < 1e-12);
        let err = Mask::from_bools(&[2, 3], &bools).unwrap_err();
        assert!(matches!(
            err,
            MaskError::LengthMismatch {
                expected: 6,
                found: 5,
                ..
            }
        ));
    }

    #[test]
    fn apply_zeroes_exactly_and_checks_length() {
        let m = Mask::from_bools(&[4], &[false, true, false, true]).unwrap();
        let mut v = [-1.5, f32::NAN, -0.0, 2.0];
        m.apply(&mut v).unwrap();
        assert_eq!(v[0].to_bits(), 0);
        assert!(v[1].is_nan());
        assert_eq!(v[2].to_bits(), 0);
        assert_eq!(v[3], 2.0);
        let mut short = [1.0; 3];
        assert!(m.apply(&mut short).is_err());
        assert_eq!(short, [1.0; 3]);
    }

    #[test]
    fn index_errors_instead_of_panics() {
        let mut m = Mask::all_kept(&[3]).unwrap();
        assert!(m.is_kept(3).is_err());
        assert!(m.prune_index(3).is_err());
        m.prune_index(1).unwrap();
        assert!(!m.is_kept(1).unwrap());
    }

    #[test]
    fn subset_and_intersection() {
        let a = Mask::from_bools(&[3], &[true, true, false]).unwrap();
        let b = Mask::from_bools(&[3], &[true, false, false]).unwrap();
        assert!(b.is_subset_of(&a));
        assert!(!a.is_subset_of(&b));
        assert!(!a.is_subset_of(&Mask::all_kept(&[1, 3]).unwrap()));
        assert_eq!(a.intersection(&b).unwrap(), b);
        assert!(a.intersection(&Mask::all_kept(&[4]).unwrap()).is_err());
    }

    #[test]
    fn packed_bytes_reject_corruption() {
        let m = Mask::from_bools(&[10], &[true; 10]).unwrap();
        let bytes = m.to_packed_bytes();
        assert_eq!(bytes, vec![0xFF, 0x03]);
        assert_eq!(Mask::from_packed_bytes(&[10], &bytes).unwrap(), m);
        assert!(Mask::from_packed_bytes(&[10], &[0xFF]).is_err());
        assert!(Mask::from_packed_bytes(&[10], &[0xFF, 0x07]).is_err());
        assert!(Mask::from_packed_bytes(&[usize::MAX, 2], &[]).is_err());
    }
}
