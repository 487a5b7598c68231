//! SHA-256 of the published data files, and the check against them.
//!
//! The hashes are those listed in the data README (`shared/data/README.md`);
//! the MNIST ones equal the checksums torchvision / TFDS publish for the
//! original downloads. A mismatch means a truncated or altered download, which
//! would otherwise only show up as a mysteriously different accuracy.

use std::path::Path;

use sha2::{Digest, Sha256};

use super::DataError;

/// Whether loaders compare files against the published SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub enum ChecksumPolicy {
    /// Check every file whose published hash is known (the default).
    #[default]
    Verify,
    /// Check structure only. For home-made files in the same formats (test
    /// fixtures, subsets); the structural checks still run.
    Skip,
}

/// A published file: its name and SHA-256.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KnownFile {
    /// File name, without directory.
    pub name: &'static str,
    /// Lower-case hex SHA-256.
    pub sha256: &'static str,
    /// How to name it in an error message.
    pub what: &'static str,
}

/// The four original MNIST `.gz` downloads.
pub const MNIST_GZ: [KnownFile; 4] = [
    KnownFile {
        name: "train-images-idx3-ubyte.gz",
        sha256: "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        what: "the official MNIST file",
    },
    KnownFile {
        name: "train-labels-idx1-ubyte.gz",
        sha256: "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
        what: "the official MNIST file",
    },
    KnownFile {
        name: "t10k-images-idx3-ubyte.gz",
        sha256: "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
        what: "the official MNIST file",
    },
    KnownFile {
        name: "t10k-labels-idx1-ubyte.gz",
        sha256: "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        what: "the official MNIST file",
    },
];

/// The project's JPEG copy of CIFAR-10 (`train.tar.gz`, `test.tar.gz`).
pub const CIFAR10_JPEG_TARS: [KnownFile; 2] = [
    KnownFile {
        name: "train.tar.gz",
        sha256: "896a44461ab340f625fa3a7eade3759b8e266ecd6b4e0024d606c2ce74674f94",
        what: "the CIFAR-10 JPEG copy of shared/data",
    },
    KnownFile {
        name: "test.tar.gz",
        sha256: "22633ead461ae138b08a9327759cb9dfd945fa43f5a54710844017c1df39c4b2",
        what: "the CIFAR-10 JPEG copy of shared/data",
    },
];

/// `data_batch_1.bin` as produced by decoding the JPEG copy with Pillow (see
/// the data README). A binary directory whose first batch has this hash is
/// lossy in disguise, so it must not be reported as the lossless original.
pub const CIFAR10_BIN_FROM_JPEG_BATCH1: &str =
    "8da035fc1631e8ce5f25904206b8993b0f3ad02a504c0584d662e806fd76c12b";

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in digest {
        out.push(char::from_digit(u32::from(b >> 4), 16).unwrap_or('0'));
        out.push(char::from_digit(u32::from(b & 0x0f), 16).unwrap_or('0'));
    }
    out
}

/// The published entry for a file name, if `list` has one.
pub fn known(list: &[KnownFile], name: &str) -> Option<KnownFile> {
    list.iter().copied().find(|k| k.name == name)
}

/// Checks `bytes` (the content of `path`) against `known` under `policy`.
///
/// # Errors
/// [`DataError::Checksum`] naming the file, both hashes and what it should be.
pub fn verify(
    path: &Path,
    bytes: &[u8],
    known: Option<KnownFile>,
    policy: ChecksumPolicy,
) -> Result<(), DataError> {
    let (ChecksumPolicy::Verify, Some(known)) = (policy, known) else {
        return Ok(());
    };
    let actual = sha256_hex(bytes);
    if actual == known.sha256 {
        Ok(())
    } else {
        Err(DataError::Checksum {
            path: path.to_path_buf(),
            actual,
            expected: known.sha256.to_owned(),
            what: known.what,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_is_the_standard_vector() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn skip_accepts_anything_and_verify_names_the_file() {
        let k = known(&MNIST_GZ, "t10k-labels-idx1-ubyte.gz");
        let p = Path::new("/x/t10k-labels-idx1-ubyte.gz");
        assert!(verify(p, b"junk", k, ChecksumPolicy::Skip).is_ok());
        assert!(verify(p, b"junk", None, ChecksumPolicy::Verify).is_ok());
        let msg = verify(p, b"junk", k, ChecksumPolicy::Verify)
            .unwrap_err()
            .to_string();
        assert!(msg.contains("/x/t10k-labels-idx1-ubyte.gz"), "{msg}");
        assert!(msg.contains("expected f7ae60f92e00"), "{msg}");
        assert!(msg.contains("the official MNIST file"), "{msg}");
    }
}
