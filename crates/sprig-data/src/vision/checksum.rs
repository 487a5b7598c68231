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

/// TREC question classification (Li & Roth), the original files.
pub const TREC: [KnownFile; 2] = [
    KnownFile {
        name: "train_5500.label",
        sha256: "9e4c8bdcaffb96ed61041bd64b564183d52793a8e91d84fc3a8646885f466ec3",
        what: "the original TREC training file",
    },
    KnownFile {
        name: "TREC_10.label",
        sha256: "033f22c028c2bbba9ca682f68ffe204dc1aa6e1cf35dd6207f2d4ca67f0d0e8e",
        what: "the original TREC test file",
    },
];

/// MR sentence polarity v1.0 (Pang & Lee), as UTF-8 (see the data README).
pub const MR: [KnownFile; 2] = [
    KnownFile {
        name: "rt-polarity.pos",
        sha256: "4134882974a28d0c7b5151256f0e33a6169984ee7372c279e673f1114f475d58",
        what: "the MR positive snippets (UTF-8 copy of shared/data)",
    },
    KnownFile {
        name: "rt-polarity.neg",
        sha256: "2d11cfbc790f1cd96d78339f41ce53ced1efa83cd22d37d6788fa3fe3d17e2fd",
        what: "the MR negative snippets (UTF-8 copy of shared/data)",
    },
];

/// `data_batch_1.bin` as produced by decoding the JPEG copy with Pillow (see
/// the data README). A binary directory whose first batch has this hash is
/// lossy in disguise, so it must not be reported as the lossless original.
pub const CIFAR10_BIN_FROM_JPEG_BATCH1: &str =
    "8da035fc1631e8ce5f25904206b8993b0f3ad02a504c0584d662e806fd76c12b";

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// Lower-case hex of a digest.
pub(crate) fn hex(digest: &[u8]) -> String {
    let mut out = String::with_capacity(2 * digest.len());
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
