//! File reading and gunzip, with the path attached to every error.
//!
//! Files are read whole into memory: the largest (a 30.7 MB CIFAR batch, a
//! 47 MB decompressed MNIST image file) is small next to the decoded set, and
//! one read lets us hash the exact bytes we then parse.

use std::io::Read;
use std::path::Path;

use flate2::read::GzDecoder;

use super::DataError;

/// The whole content of `path`.
pub fn read_file(path: &Path) -> Result<Vec<u8>, DataError> {
    std::fs::read(path).map_err(|e| DataError::io(path, e))
}

/// Decompresses a whole gzip stream read from `path`.
///
/// `size_hint` pre-sizes the output (the expected decompressed length, when
/// known) so a 47 MB file is not grown by doubling.
pub fn gunzip(
    path: &Path,
    compressed: &[u8],
    size_hint: usize,
    expected: &str,
) -> Result<Vec<u8>, DataError> {
    let mut out = Vec::with_capacity(size_hint);
    GzDecoder::new(compressed)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Decompress {
            path: path.to_path_buf(),
            expected: expected.to_owned(),
            source,
        })?;
    Ok(out)
}
