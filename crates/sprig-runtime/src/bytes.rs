//! Little-endian reading and writing of the format's primitive values.

use alloc::string::String;
use alloc::vec::Vec;

use crate::RuntimeError;
use crate::error::invalid;

/// Appends little-endian values to a byte vector.
#[derive(Debug, Default)]
pub(crate) struct Writer {
    pub(crate) bytes: Vec<u8>,
}

impl Writer {
    pub(crate) fn u8(&mut self, v: u8) {
        self.bytes.push(v);
    }
    pub(crate) fn u16(&mut self, v: u16) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u32(&mut self, v: u32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn u64(&mut self, v: u64) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    pub(crate) fn f32(&mut self, v: f32) {
        self.bytes.extend_from_slice(&v.to_le_bytes());
    }
    /// An unsigned integer in `width` bytes (1, 2 or 4); the caller chose a width it fits.
    pub(crate) fn uint(&mut self, v: u32, width: u8) {
        self.bytes
            .extend_from_slice(&v.to_le_bytes()[..usize::from(width)]);
    }
    /// A string as a u16 length and UTF-8 bytes (longer strings are cut at a char boundary).
    pub(crate) fn str(&mut self, s: &str) {
        let mut end = s.len().min(usize::from(u16::MAX));
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.u16(end as u16);
        self.bytes.extend_from_slice(&s.as_bytes()[..end]);
    }
}

/// Reads little-endian values, failing with [`RuntimeError::Truncated`] at the end.
#[derive(Debug)]
pub(crate) struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// Offset of `bytes[0]` in the file, for error messages.
    base: usize,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8], base: usize) -> Self {
        Self {
            bytes,
            pos: 0,
            base,
        }
    }

    /// Bytes read so far.
    pub(crate) fn consumed(&self) -> usize {
        self.pos
    }

    pub(crate) fn is_at_end(&self) -> bool {
        self.pos == self.bytes.len()
    }

    pub(crate) fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], RuntimeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.bytes.len());
        let Some(end) = end else {
            return Err(RuntimeError::Truncated {
                what,
                at: self.base + self.pos,
                needed: n,
            });
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], RuntimeError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, RuntimeError> {
        Ok(self.array::<1>(what)?[0])
    }
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, RuntimeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, RuntimeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, RuntimeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub(crate) fn f32(&mut self, what: &'static str) -> Result<f32, RuntimeError> {
        Ok(f32::from_le_bytes(self.array(what)?))
    }
    /// An unsigned integer stored in `width` bytes.
    pub(crate) fn uint(&mut self, width: u8, what: &'static str) -> Result<u32, RuntimeError> {
        let mut out = [0; 4];
        let w = usize::from(width);
        out[..w].copy_from_slice(self.take(w, what)?);
        Ok(u32::from_le_bytes(out))
    }
    /// `n` values read by `one`, with the allocation bounded by the bytes left (so a
    /// corrupt count cannot ask for gigabytes).
    pub(crate) fn many<T>(
        &mut self,
        n: usize,
        bytes_each: usize,
        what: &'static str,
        mut one: impl FnMut(&mut Self) -> Result<T, RuntimeError>,
    ) -> Result<Vec<T>, RuntimeError> {
        let left = self.bytes.len() - self.pos;
        if n.saturating_mul(bytes_each) > left {
            return Err(RuntimeError::Truncated {
                what,
                at: self.base + self.pos,
                needed: n.saturating_mul(bytes_each),
            });
        }
        (0..n).map(|_| one(self)).collect()
    }
    pub(crate) fn str(&mut self, what: &'static str) -> Result<String, RuntimeError> {
        let n = usize::from(self.u16(what)?);
        let bytes = self.take(n, what)?;
        core::str::from_utf8(bytes)
            .map(String::from)
            .map_err(|_| invalid(alloc::format!("{what} is not UTF-8")))
    }
}

/// Bytes needed for unsigned values up to `max`: 1, 2 or 4.
pub(crate) fn width_for(max: u64) -> u8 {
    match max {
        0..=0xFF => 1,
        0x100..=0xFFFF => 2,
        _ => 4,
    }
}
