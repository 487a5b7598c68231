//! What can go wrong loading or running an exported model.

use alloc::string::String;
use core::fmt;

/// Every error of the runtime. Loading never panics on bad bytes: a truncated,
/// corrupted or newer file is one of these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeError {
    /// The file does not start with the format's magic bytes.
    NotAModel,
    /// The file is of a format version this runtime does not read.
    Version {
        /// The version in the file.
        found: u16,
        /// The version this runtime reads.
        supported: u16,
    },
    /// The file ends before the data it announces.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Byte offset where it was expected.
        at: usize,
        /// Bytes needed from there.
        needed: usize,
    },
    /// The body's CRC-32 does not match the header's.
    Checksum {
        /// CRC-32 recorded in the header.
        expected: u32,
        /// CRC-32 of the bytes read.
        found: u32,
    },
    /// A value in the file is impossible (an unknown tag, an index out of range, …).
    Invalid(String),
    /// The model cannot be built or run as described (shapes that do not chain, an
    /// input of the wrong length, …).
    Shape(String),
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::NotAModel => {
                f.write_str("not a Sprig model file (the magic bytes `SPRIGTKT` are missing)")
            }
            RuntimeError::Version { found, supported } => write!(
                f,
                "format version {found} is not supported (this runtime reads version {supported})"
            ),
            RuntimeError::Truncated { what, at, needed } => write!(
                f,
                "the file is truncated: {what} needs {needed} bytes at offset {at}"
            ),
            RuntimeError::Checksum { expected, found } => write!(
                f,
                "the file is corrupt: its CRC-32 is {found:#010x}, the header says {expected:#010x}"
            ),
            RuntimeError::Invalid(why) => write!(f, "invalid model file: {why}"),
            RuntimeError::Shape(why) => write!(f, "shape error: {why}"),
        }
    }
}

impl core::error::Error for RuntimeError {}

/// Shorthand for [`RuntimeError::Invalid`].
pub(crate) fn invalid(why: impl Into<String>) -> RuntimeError {
    RuntimeError::Invalid(why.into())
}

/// Shorthand for [`RuntimeError::Shape`].
pub(crate) fn shape(why: impl Into<String>) -> RuntimeError {
    RuntimeError::Shape(why.into())
}
