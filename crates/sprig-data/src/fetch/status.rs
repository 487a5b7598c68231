//! What a data directory holds of each data set, checked against the published hashes
//! (`sprig data list`).

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::Sha256;

use super::catalog::{DataSet, FSDD_RECORDINGS, FSDD_SUMS_SHA256, known_files};
use super::download::digest;
use super::unpack;
use crate::vision::checksum::{CIFAR10_BIN_FROM_JPEG_BATCH1, CIFAR10_JPEG_TARS, sha256_hex};
use crate::vision::cifar_bin::{
    CIFAR10_FILE_LEN, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES, find_cifar10_bin_dir,
};

/// How much of a data set is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Every file matches its published hash.
    Verified,
    /// Complete, but no published hash covers these files (sizes were checked).
    Unverified,
    /// Some or all files are absent.
    Missing,
    /// A file is there but differs from the published one.
    Corrupt,
}

impl State {
    /// Whether the loaders can read it (fetching again is not needed).
    pub fn is_present(self) -> bool {
        matches!(self, Self::Verified | Self::Unverified)
    }
}

/// A data set's state in a data directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// Which data set.
    pub set: DataSet,
    /// Its folder.
    pub dir: PathBuf,
    /// How much is there.
    pub state: State,
    /// What was found, in words.
    pub detail: String,
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match self.state {
            State::Verified => "verified",
            State::Unverified => "present",
            State::Missing => "missing",
            State::Corrupt => "CORRUPT",
        };
        write!(
            f,
            "{:<8} {:<9} {} ({})",
            self.set.name(),
            state,
            self.dir.display(),
            self.detail
        )
    }
}

/// What `data_dir` holds of `set`.
pub fn status(set: DataSet, data_dir: &Path) -> Status {
    let dir = data_dir.join(set.name());
    let (state, detail) = match set {
        DataSet::Mnist | DataSet::Trec | DataSet::Mr => files(set, &dir),
        DataSet::Cifar10 => cifar10(&dir),
        DataSet::Fsdd => fsdd(&dir),
    };
    Status {
        set,
        dir,
        state,
        detail,
    }
}

/// A data set of published files: each hashed.
fn files(set: DataSet, dir: &Path) -> (State, String) {
    let mut missing = Vec::new();
    for known in known_files(set) {
        let path = dir.join(known.name);
        let raw = dir.join(known.name.trim_end_matches(".gz"));
        if path.is_file() {
            match digest::<Sha256>(&path) {
                Ok(hash) if hash == known.sha256 => {}
                Ok(hash) => {
                    return (
                        State::Corrupt,
                        format!(
                            "{}: sha256 {hash}, published {}; delete it and fetch again",
                            known.name, known.sha256
                        ),
                    );
                }
                Err(e) => return (State::Corrupt, e),
            }
        } else if set == DataSet::Mnist && raw.is_file() {
            // The loader also reads MNIST unpacked; no hash is published for that.
            return (
                State::Unverified,
                "uncompressed IDX files (hashes are published for the .gz files)".into(),
            );
        } else {
            missing.push(known.name);
        }
    }
    match missing.len() {
        0 => (
            State::Verified,
            format!("{} files, published sha256", known_files(set).len()),
        ),
        _ => (State::Missing, format!("no {}", missing.join(", "))),
    }
}

fn cifar10(dir: &Path) -> (State, String) {
    if let Some(bin) = find_cifar10_bin_dir(dir) {
        let names = CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]);
        for name in names {
            let len = bin.join(name).metadata().map_or(0, |m| m.len());
            if len != CIFAR10_FILE_LEN as u64 {
                return (
                    State::Corrupt,
                    format!("{name}: {len} bytes, expected {CIFAR10_FILE_LEN}"),
                );
            }
        }
        let first = std::fs::read(bin.join(CIFAR10_TRAIN_FILES[0])).unwrap_or_default();
        if sha256_hex(&first) == CIFAR10_BIN_FROM_JPEG_BATCH1 {
            return (
                State::Unverified,
                "binary layout decoded from the lossy JPEG copy: fetch with --force for the \
                 original"
                    .into(),
            );
        }
        return (
            State::Unverified,
            "binary version, sizes checked (the archive's md5 is checked when fetched; \
             no hash is published for the unpacked files)"
                .into(),
        );
    }
    let jpeg = CIFAR10_JPEG_TARS.iter().all(|k| {
        let path = dir.join(k.name);
        path.is_file() && digest::<Sha256>(&path).is_ok_and(|h| h == k.sha256)
    });
    if jpeg {
        // Present for the loader, but lossy: fetching gets the lossless binary version.
        return (
            State::Missing,
            "only the lossy JPEG copy; fetching adds the lossless binary version".into(),
        );
    }
    (State::Missing, "no binary version".into())
}

fn fsdd(dir: &Path) -> (State, String) {
    let recordings = dir.join(unpack::FSDD_RECORDINGS_DIR);
    let sums = match unpack::sums_of(&recordings) {
        Ok(sums) => sums,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (State::Missing, "no recordings/ folder".into());
        }
        Err(e) => return (State::Corrupt, format!("{}: {e}", recordings.display())),
    };
    let count = sums.lines().count();
    if sha256_hex(sums.as_bytes()) == FSDD_SUMS_SHA256 {
        (
            State::Verified,
            format!("{count} recordings of release v1.0.10"),
        )
    } else if count < FSDD_RECORDINGS {
        (
            State::Missing,
            format!("{count} of {FSDD_RECORDINGS} recordings"),
        )
    } else {
        (
            State::Corrupt,
            format!("{count} recordings, not those of release v1.0.10"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_directory_misses_everything() {
        let dir = tempfile::tempdir().unwrap();
        for set in DataSet::ALL {
            let s = status(set, dir.path());
            assert_eq!(s.state, State::Missing, "{s}");
            assert!(!s.state.is_present());
        }
    }

    #[test]
    fn a_changed_byte_is_corrupt_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let trec = dir.path().join("trec");
        std::fs::create_dir_all(&trec).unwrap();
        std::fs::write(trec.join("train_5500.label"), b"DESC:manner How did ...\n").unwrap();
        let s = status(DataSet::Trec, dir.path());
        assert_eq!(s.state, State::Corrupt);
        assert!(s.detail.starts_with("train_5500.label: sha256 "), "{s}");
    }
}
