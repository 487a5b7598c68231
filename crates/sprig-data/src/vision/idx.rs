//! The IDX file format of MNIST (and Fashion-MNIST, EMNIST).
//!
//! Layout: a 4-byte magic `00 00 TT NN` (TT = element type, 0x08 = u8;
//! NN = number of dimensions), then NN big-endian u32 sizes, then the elements
//! in row-major order. MNIST images use magic 2051 (`00 00 08 03`: u8, 3 dims),
//! labels 2049 (`00 00 08 01`: u8, 1 dim).

use std::path::Path;

use super::DataError;

/// Magic number of an IDX file of u8 images (`n × rows × cols`).
pub const IDX_IMAGES_MAGIC: u32 = 2051;
/// Magic number of an IDX file of u8 labels (`n`).
pub const IDX_LABELS_MAGIC: u32 = 2049;

/// A parsed u8 IDX array borrowing its data from the file bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdxArray<'a> {
    /// Sizes of the dimensions, outermost first.
    pub dims: Vec<usize>,
    /// The elements, row-major; exactly the product of `dims` bytes.
    pub data: &'a [u8],
}

/// Parses `bytes` (the decompressed content of `path`) as a u8 IDX array
/// whose magic must be `magic`.
///
/// The byte length must be exactly header + product of the dimensions: a
/// shorter file is truncated, a longer one is not what its header says.
///
/// # Errors
/// [`DataError::Format`] for a short header or wrong magic,
/// [`DataError::Length`] for a body of the wrong size.
pub fn parse_u8<'a>(path: &Path, bytes: &'a [u8], magic: u32) -> Result<IdxArray<'a>, DataError> {
    let kind = match magic {
        IDX_IMAGES_MAGIC => "IDX u8 images",
        IDX_LABELS_MAGIC => "IDX u8 labels",
        _ => "IDX u8 array",
    };
    let Some(head) = bytes.get(..4) else {
        return Err(DataError::format(
            path,
            format!(
                "{} bytes, too short for an IDX header (expected {kind}, magic {magic})",
                bytes.len()
            ),
        ));
    };
    let found = u32::from_be_bytes([head[0], head[1], head[2], head[3]]);
    if found != magic {
        return Err(DataError::format(
            path,
            format!(
                "bad magic number {found} (0x{found:08x}), expected {magic} (0x{magic:08x}, {kind}); \
                 a gzip file not named .gz, or the wrong file?"
            ),
        ));
    }
    // The low byte of the magic is the number of dimensions.
    let ndims = (magic & 0xff) as usize;
    let header_len = 4 + 4 * ndims;
    let Some(dim_bytes) = bytes.get(4..header_len) else {
        return Err(DataError::Length {
            path: path.to_path_buf(),
            actual: bytes.len() as u64,
            expected: header_len as u64,
            detail: format!("at least the {header_len}-byte header of {kind}"),
        });
    };
    let dims: Vec<usize> = dim_bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let body_len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_add(header_len));
    let dims_text = dims
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" × ");
    let Some(total) = body_len else {
        return Err(DataError::format(
            path,
            format!("header claims dimensions {dims_text}, too large to be real"),
        ));
    };
    if bytes.len() != total {
        return Err(DataError::Length {
            path: path.to_path_buf(),
            actual: bytes.len() as u64,
            expected: total as u64,
            detail: format!(
                "{header_len}-byte header + {dims_text} bytes of {kind}{}",
                if bytes.len() < total {
                    "; the file is truncated"
                } else {
                    ""
                }
            ),
        });
    }
    Ok(IdxArray {
        dims,
        data: &bytes[header_len..],
    })
}

/// Encodes a u8 IDX array (the inverse of [`parse_u8`]); used to write test
/// fixtures and to convert data sets into the MNIST layout.
///
/// # Errors
/// [`DataError::InvalidArgument`] when `data` does not hold the product of
/// `dims` bytes or a dimension does not fit in u32.
pub fn encode_u8(dims: &[usize], data: &[u8]) -> Result<Vec<u8>, DataError> {
    let expected = dims.iter().product::<usize>();
    if expected != data.len() || dims.len() > 255 {
        return Err(DataError::InvalidArgument(format!(
            "IDX dims {dims:?} need {expected} bytes, got {}",
            data.len()
        )));
    }
    let mut out = Vec::with_capacity(4 + 4 * dims.len() + data.len());
    out.extend_from_slice(&[0, 0, 0x08, dims.len() as u8]);
    for &d in dims {
        let d = u32::try_from(d).map_err(|_| {
            DataError::InvalidArgument(format!("IDX dimension {d} does not fit in u32"))
        })?;
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_images_and_labels() {
        let p = Path::new("f");
        let data: Vec<u8> = (0..2 * 3 * 4).map(|i| i as u8).collect();
        let bytes = encode_u8(&[2, 3, 4], &data).unwrap();
        assert_eq!(&bytes[..4], &[0, 0, 8, 3]);
        let a = parse_u8(p, &bytes, IDX_IMAGES_MAGIC).unwrap();
        assert_eq!(a.dims, vec![2, 3, 4]);
        assert_eq!(a.data, &data[..]);
        let labels = encode_u8(&[3], &[1, 2, 3]).unwrap();
        assert_eq!(
            parse_u8(p, &labels, IDX_LABELS_MAGIC).unwrap().data,
            &[1, 2, 3]
        );
    }

    #[test]
    fn rejects_short_wrong_and_huge_headers() {
        let p = Path::new("f");
        assert!(parse_u8(p, &[0, 0], IDX_LABELS_MAGIC).is_err());
        assert!(parse_u8(p, &[0, 0, 8, 1, 0], IDX_LABELS_MAGIC).is_err());
        let huge = [
            0, 0, 8, 3, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255,
        ];
        assert!(parse_u8(p, &huge, IDX_IMAGES_MAGIC).is_err());
        let labels = encode_u8(&[1], &[7]).unwrap();
        let msg = parse_u8(p, &labels, IDX_IMAGES_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad magic number 2049"), "{msg}");
        assert!(msg.contains("expected 2051"), "{msg}");
    }

    #[test]
    fn too_long_is_an_error_too() {
        let mut bytes = encode_u8(&[2], &[1, 2]).unwrap();
        bytes.push(0);
        let msg = parse_u8(Path::new("f"), &bytes, IDX_LABELS_MAGIC)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("11 bytes, expected 10"), "{msg}");
    }
}
