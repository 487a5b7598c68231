//! Where each data set is published, under which names, and how a download is checked.

use std::fmt;
use std::str::FromStr;

use crate::vision::checksum::{KnownFile, MNIST_GZ, MR, TREC};

/// A data set `sprig data fetch` can download. Its [`name`](Self::name) is also the
/// folder under the data directory the loaders read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DataSet {
    /// MNIST: the four IDX `.gz` files.
    Mnist,
    /// CIFAR-10: the official binary version (lossless).
    Cifar10,
    /// TREC question classification (Li & Roth).
    Trec,
    /// MR sentence polarity v1.0 (Pang & Lee).
    Mr,
    /// The Free Spoken Digit Dataset, release v1.0.10.
    Fsdd,
}

impl DataSet {
    /// Every data set, in the order `all` fetches them (smallest first).
    pub const ALL: [DataSet; 5] = [Self::Trec, Self::Mr, Self::Mnist, Self::Fsdd, Self::Cifar10];

    /// The name on the command line and of the folder under the data directory.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mnist => "mnist",
            Self::Cifar10 => "cifar10",
            Self::Trec => "trec",
            Self::Mr => "mr",
            Self::Fsdd => "fsdd",
        }
    }
}

impl fmt::Display for DataSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for DataSet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|set| set.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                let names: Vec<_> = Self::ALL.iter().map(|set| set.name()).collect();
                format!(
                    "unknown data set {s:?}: expected {} or all",
                    names.join(", ")
                )
            })
    }
}

/// How a downloaded file is checked before anything is made of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// Against a published SHA-256.
    Sha256(&'static str),
    /// Against a published MD5 (all CIFAR-10's authors publish).
    Md5(&'static str),
    /// No stable hash of the download exists (GitHub builds release archives on demand):
    /// the files unpacked from it are checked instead.
    Unpacked,
}

/// One file to download.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Download {
    /// Its name at the origin (and in a mirror).
    pub file: &'static str,
    /// Folders that serve it, tried in order: the origin first, then mirrors.
    pub bases: &'static [&'static str],
    /// What the bytes must hash to.
    pub check: Check,
}

impl Download {
    /// The download's URL under `base` (with or without a trailing slash).
    pub fn url(&self, base: &str) -> String {
        format!("{}/{}", base.trim_end_matches('/'), self.file)
    }
}

/// What becomes of the downloads in the data set's folder.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The downloads are the files the loader reads, kept as they are.
    Files,
    /// CIFAR-10's archive: its `cifar-10-batches-bin/` folder, unpacked as it is.
    CifarBinary,
    /// MR's archive: the two snippet files, re-encoded from Windows-1252 to UTF-8 (the
    /// loader's published hashes are of the UTF-8 files).
    MrArchive,
    /// FSDD's release archive: `recordings/*.wav`, with a `SHA256SUMS` list beside them.
    FsddArchive,
}

/// A data set's downloads and what is made of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Source {
    /// The files to download.
    pub downloads: &'static [Download],
    /// What becomes of them.
    pub layout: Layout,
}

/// MNIST: LeCun's page refuses many automated downloads, so the mirrors torchvision and
/// TensorFlow use follow it.
const MNIST_BASES: &[&str] = &[
    "https://yann.lecun.com/exdb/mnist",
    "https://ossci-datasets.s3.amazonaws.com/mnist",
    "https://storage.googleapis.com/cvdf-datasets/mnist",
];
const TREC_BASES: &[&str] = &[
    "https://cogcomp.seas.upenn.edu/Data/QA/QC",
    "http://cogcomp.org/Data/QA/QC",
];

const MNIST: [Download; 4] = [
    known(&MNIST_GZ[0], MNIST_BASES),
    known(&MNIST_GZ[1], MNIST_BASES),
    known(&MNIST_GZ[2], MNIST_BASES),
    known(&MNIST_GZ[3], MNIST_BASES),
];
const TREC_FILES: [Download; 2] = [known(&TREC[0], TREC_BASES), known(&TREC[1], TREC_BASES)];
const CIFAR10: [Download; 1] = [Download {
    file: "cifar-10-binary.tar.gz",
    bases: &["https://www.cs.toronto.edu/~kriz"],
    check: Check::Md5("c32a1d4ab5d03f1284b67883e8d87530"),
}];
const MR_ARCHIVE: [Download; 1] = [Download {
    file: "rt-polaritydata.tar.gz",
    bases: &["https://www.cs.cornell.edu/people/pabo/movie-review-data"],
    check: Check::Unpacked,
}];
const FSDD_ARCHIVE: [Download; 1] = [Download {
    file: "v1.0.10.zip",
    bases: &["https://github.com/Jakobovski/free-spoken-digit-dataset/archive/refs/tags"],
    check: Check::Unpacked,
}];

const fn known(file: &KnownFile, bases: &'static [&'static str]) -> Download {
    Download {
        file: file.name,
        bases,
        check: Check::Sha256(file.sha256),
    }
}

/// The MR files the archive must unpack to (UTF-8), with their hashes.
pub const MR_FILES: &[KnownFile] = &MR;

/// SHA-256 of FSDD v1.0.10's `SHA256SUMS`: one `HASH  recordings/NAME.wav` line per
/// recording, sorted by name. One hash pins all 3,000 recordings.
pub const FSDD_SUMS_SHA256: &str =
    "04e1baae96c6a26e39c623f2b01d0182ddae627ba0ac02a3cdc17ba2af99fd9b";
/// Recordings in FSDD v1.0.10: 6 speakers × 10 digits × 50 takes.
pub const FSDD_RECORDINGS: usize = 3_000;

/// Where `set` is published and what is made of it.
pub fn source(set: DataSet) -> Source {
    match set {
        DataSet::Mnist => Source {
            downloads: &MNIST,
            layout: Layout::Files,
        },
        DataSet::Trec => Source {
            downloads: &TREC_FILES,
            layout: Layout::Files,
        },
        DataSet::Cifar10 => Source {
            downloads: &CIFAR10,
            layout: Layout::CifarBinary,
        },
        DataSet::Mr => Source {
            downloads: &MR_ARCHIVE,
            layout: Layout::MrArchive,
        },
        DataSet::Fsdd => Source {
            downloads: &FSDD_ARCHIVE,
            layout: Layout::FsddArchive,
        },
    }
}

/// The files a [`Layout::Files`] data set consists of, with their published hashes.
pub fn known_files(set: DataSet) -> &'static [KnownFile] {
    match set {
        DataSet::Mnist => &MNIST_GZ,
        DataSet::Trec => &TREC,
        DataSet::Mr => &MR,
        DataSet::Cifar10 | DataSet::Fsdd => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_back_and_unknown_names_list_the_choices() {
        for set in DataSet::ALL {
            assert_eq!(set.name().parse::<DataSet>(), Ok(set));
        }
        assert_eq!("MNIST".parse::<DataSet>(), Ok(DataSet::Mnist));
        let err = "imagenet".parse::<DataSet>().unwrap_err();
        assert_eq!(
            err,
            "unknown data set \"imagenet\": expected trec, mr, mnist, fsdd, cifar10 or all"
        );
    }

    #[test]
    fn urls_join_base_and_file_once() {
        let d = source(DataSet::Mnist).downloads[0];
        assert_eq!(
            d.url("http://127.0.0.1:8000/"),
            "http://127.0.0.1:8000/train-images-idx3-ubyte.gz"
        );
        assert_eq!(
            d.url(d.bases[0]),
            "https://yann.lecun.com/exdb/mnist/train-images-idx3-ubyte.gz"
        );
    }

    #[test]
    fn every_download_can_be_checked() {
        for set in DataSet::ALL {
            let s = source(set);
            for d in s.downloads {
                let checked_after_unpacking =
                    matches!(s.layout, Layout::MrArchive | Layout::FsddArchive);
                assert_eq!(d.check == Check::Unpacked, checked_after_unpacking, "{set}");
            }
        }
    }
}
