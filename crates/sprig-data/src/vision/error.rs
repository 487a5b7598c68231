//! The one error type of the data loaders.
//!
//! Every variant that comes from a file carries that file's path, and its
//! message says what was expected, so a user can fix a broken data directory
//! from the message alone (re-download, un-truncate, move a file).

use std::path::{Path, PathBuf};

/// Anything that can go wrong while finding, reading, checking or slicing a data set.
///
/// Bad input (a missing, truncated or corrupt file) is always reported through
/// this type; the loaders never panic on it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataError {
    /// None of the accepted layouts of a data set was found.
    #[error("no {dataset} found in {}: expected {expected}", list_paths(searched))]
    NotFound {
        /// Which data set was looked for ("MNIST", "CIFAR-10").
        dataset: &'static str,
        /// The directories that were searched, in order.
        searched: Vec<PathBuf>,
        /// The files that would have been accepted.
        expected: String,
    },

    /// A layout was recognised but one of its files is missing.
    #[error("{}: missing, expected {expected}", path.display())]
    MissingFile {
        /// The file that should exist.
        path: PathBuf,
        /// What the file should contain.
        expected: String,
    },

    /// Reading a file failed at the operating-system level.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// A gzip (or tar.gz) stream could not be decompressed: usually a truncated download.
    #[error("{}: not a complete gzip stream ({source}), expected {expected}", path.display())]
    Decompress {
        /// The compressed file.
        path: PathBuf,
        /// What the file should contain.
        expected: String,
        /// The decompressor's error.
        #[source]
        source: std::io::Error,
    },

    /// A file's SHA-256 differs from the published one.
    #[error("{}: sha256 is {actual}, expected {expected} ({what})", path.display())]
    Checksum {
        /// The file that was hashed.
        path: PathBuf,
        /// Its SHA-256, lower-case hex.
        actual: String,
        /// The published SHA-256, lower-case hex.
        expected: String,
        /// Which published file the hash belongs to.
        what: &'static str,
    },

    /// A file (or decompressed stream) has the wrong number of bytes.
    #[error("{}: {actual} bytes, expected {expected} ({detail})", path.display())]
    Length {
        /// The file.
        path: PathBuf,
        /// Its length in bytes (after decompression where that applies).
        actual: u64,
        /// The length the format requires.
        expected: u64,
        /// Why that length: the layout it follows from.
        detail: String,
    },

    /// A file has the right size but its content breaks the format.
    #[error("{}: {message}", path.display())]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong and what was expected.
        message: String,
    },

    /// One JPEG member of a tar archive could not be decoded.
    #[error("{}: member {member}: {message}", path.display())]
    Jpeg {
        /// The archive.
        path: PathBuf,
        /// The member's name inside the archive.
        member: String,
        /// What went wrong, with the expectation.
        message: String,
    },

    /// One line (or record) of a text file breaks its format.
    #[error("{}:{line}: {message}", path.display())]
    Line {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What is wrong and what was expected.
        message: String,
    },

    /// A caller asked for something the data cannot give (an index past the
    /// end, a split larger than the set, a normalisation for another channel count).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
}

impl DataError {
    /// Wraps an I/O error with the path it happened on.
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        if source.kind() == std::io::ErrorKind::NotFound {
            return Self::MissingFile {
                path: path.to_path_buf(),
                expected: "an existing, readable file".to_owned(),
            };
        }
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// Whether the data set (or one of its files) is absent, rather than broken: the case
    /// where downloading it is the fix.
    pub fn is_missing(&self) -> bool {
        matches!(self, Self::NotFound { .. } | Self::MissingFile { .. })
    }

    /// Fails with [`DataError::InvalidArgument`] if an index is `>= len` (a set of `len`
    /// `items`).
    pub(crate) fn check_indices(indices: &[usize], len: usize, items: &str) -> Result<(), Self> {
        match indices.iter().find(|&&i| i >= len) {
            Some(bad) => Err(Self::InvalidArgument(format!(
                "index {bad} is past the end of a set of {len} {items}"
            ))),
            None => Ok(()),
        }
    }

    /// A format violation on line `line` (1-based) of `path`.
    pub(crate) fn line(path: &Path, line: u64, message: impl Into<String>) -> Self {
        Self::Line {
            path: path.to_path_buf(),
            line,
            message: message.into(),
        }
    }

    /// A format violation in `path`.
    pub(crate) fn format(path: &Path, message: impl Into<String>) -> Self {
        Self::Format {
            path: path.to_path_buf(),
            message: message.into(),
        }
    }
}

fn list_paths(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join(" or ")
}
