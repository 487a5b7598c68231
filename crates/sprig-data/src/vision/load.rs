//! One entry point per data set that finds whichever format a data directory
//! holds, loads it, and holds out the validation split.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::checksum::ChecksumPolicy;
use super::cifar_bin::{CIFAR10_BIN_SUBDIR, find_cifar10_bin_dir, read_cifar10_bin_dir};
use super::cifar_jpeg::{looks_like_cifar10_jpeg, read_cifar10_jpeg_dir};
use super::mnist::{MNIST_EXPECTED, looks_like_mnist, read_mnist_dir};
use super::split::{LTH_VALIDATION_SIZE, split_validation};
use super::{DataError, ImageSet, Normalization};

/// Which files a data set was loaded from. Record it with every result: the
/// CIFAR-10 JPEG copy is lossy and its numbers are not comparable with
/// published CIFAR-10 numbers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub enum DataSource {
    /// MNIST IDX files (each gzipped or not).
    MnistIdx {
        /// Directory of the four files.
        dir: PathBuf,
        /// All four were the original `.gz` files and matched their published SHA-256.
        sha256_verified: bool,
    },
    /// The CIFAR-10 binary version (`data_batch_*.bin`).
    Cifar10Binary {
        /// Directory of the six batch files.
        dir: PathBuf,
        /// `data_batch_1.bin` is the one made by decoding the lossy JPEG copy
        /// (detected by hash): lossy despite the lossless format.
        decoded_from_jpeg: bool,
    },
    /// The project's JPEG copy of CIFAR-10 (`train.tar.gz`, `test.tar.gz`): lossy.
    Cifar10Jpeg {
        /// Directory of the two archives.
        dir: PathBuf,
    },
    /// A user's image folder (one folder per class), read as its files are.
    ImageFolder {
        /// The folder.
        dir: PathBuf,
    },
}

impl DataSource {
    /// True when the pixels are the data set's original pixels.
    pub fn is_lossless(&self) -> bool {
        match self {
            Self::MnistIdx { .. } => true,
            Self::Cifar10Binary {
                decoded_from_jpeg, ..
            } => !decoded_from_jpeg,
            Self::Cifar10Jpeg { .. } => false,
            Self::ImageFolder { .. } => true,
        }
    }

    /// The directory the files were read from.
    pub fn dir(&self) -> &Path {
        match self {
            Self::MnistIdx { dir, .. }
            | Self::Cifar10Binary { dir, .. }
            | Self::Cifar10Jpeg { dir }
            | Self::ImageFolder { dir } => dir,
        }
    }
}

impl std::fmt::Display for DataSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::MnistIdx {
                dir,
                sha256_verified,
            } => write!(
                f,
                "MNIST IDX files in {} ({})",
                dir.display(),
                if *sha256_verified {
                    "original .gz, sha256 verified"
                } else {
                    "not checksum-verified"
                }
            ),
            Self::Cifar10Binary {
                dir,
                decoded_from_jpeg: false,
            } => write!(f, "CIFAR-10 binary version in {} (lossless)", dir.display()),
            Self::Cifar10Binary {
                dir,
                decoded_from_jpeg: true,
            } => write!(
                f,
                "CIFAR-10 binary layout in {} decoded from the JPEG copy (LOSSY)",
                dir.display()
            ),
            Self::Cifar10Jpeg { dir } => write!(
                f,
                "CIFAR-10 JPEG copy in {} (LOSSY: JPEG q≈75 re-encoding, not comparable with published CIFAR-10 numbers)",
                dir.display()
            ),
            Self::ImageFolder { dir } => write!(f, "image folder {}", dir.display()),
        }
    }
}

/// A data set's official train and test sets, before any validation hold-out.
#[derive(Debug, Clone)]
pub struct TrainTest {
    /// The official training set, in record order.
    pub train: ImageSet,
    /// The official test set.
    pub test: ImageSet,
    /// Where it came from.
    pub source: DataSource,
}

/// How [`load_mnist`] and [`load_cifar10`] check and split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadOptions {
    /// Images held out of the training set for validation (0 for none).
    pub validation: usize,
    /// The experiment seed; picks the validation images.
    pub seed: u64,
    /// Whether to check published SHA-256 hashes.
    pub checksums: ChecksumPolicy,
}

impl LoadOptions {
    /// The lottery-ticket setup: 5,000 validation images, checksums verified.
    pub fn lth(seed: u64) -> Self {
        Self {
            validation: LTH_VALIDATION_SIZE,
            seed,
            checksums: ChecksumPolicy::Verify,
        }
    }
}

impl Default for LoadOptions {
    /// [`LoadOptions::lth`] with seed 0.
    fn default() -> Self {
        Self::lth(0)
    }
}

/// Train / validation / test sets of one data set, ready for training.
#[derive(Debug, Clone)]
pub struct VisionData {
    /// Training images: the official training set minus the validation images.
    pub train: ImageSet,
    /// Validation images held out of the official training set (may be empty).
    pub validation: ImageSet,
    /// The official test set, untouched.
    pub test: ImageSet,
    /// Class names; label `l` is `classes[l]`.
    pub classes: Vec<String>,
    /// Which files were read.
    pub source: DataSource,
}

impl VisionData {
    /// Holds `opts.validation` images of `sets.train` out for validation.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the training set is smaller than the hold-out.
    pub fn from_train_test(sets: TrainTest, opts: &LoadOptions) -> Result<Self, DataError> {
        let (train, validation) = split_validation(&sets.train, opts.validation, opts.seed)?;
        Ok(Self {
            classes: sets.train.classes().to_vec(),
            train,
            validation,
            test: sets.test,
            source: sets.source,
        })
    }

    /// Per-channel normalisation fitted on the training split (never on
    /// validation or test images).
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the training split is empty.
    pub fn fit_normalization(&self) -> Result<Normalization, DataError> {
        Normalization::fit(&self.train)
    }
}

/// Loads MNIST from `data_dir/mnist` or `data_dir` itself (the first that has
/// `train-images-idx3-ubyte[.gz]`), then holds out the validation split.
///
/// # Errors
/// [`DataError::NotFound`] listing the directories searched and the files
/// expected; otherwise the error of the first bad file.
pub fn load_mnist(data_dir: impl AsRef<Path>, opts: &LoadOptions) -> Result<VisionData, DataError> {
    let data_dir = data_dir.as_ref();
    let searched = [data_dir.join("mnist"), data_dir.to_path_buf()];
    let Some(dir) = searched.iter().find(|d| looks_like_mnist(d)) else {
        return Err(DataError::NotFound {
            dataset: "MNIST",
            searched: searched.to_vec(),
            expected: MNIST_EXPECTED.to_owned(),
        });
    };
    let start = Instant::now();
    let sets = read_mnist_dir(dir, opts.checksums)?;
    finish("MNIST", sets, opts, start)
}

/// Loads CIFAR-10 from `data_dir/cifar10` or `data_dir` itself (each also
/// with a `cifar-10-batches-bin/` sub-folder), then holds out the validation split.
///
/// The lossless binary version is preferred wherever it is found; the JPEG
/// copy (`train.tar.gz`, `test.tar.gz`) is used only when no binary version
/// exists. [`VisionData::source`] says which was read; it is also logged.
///
/// # Errors
/// [`DataError::NotFound`] listing the directories searched and the files
/// expected; otherwise the error of the first bad file.
pub fn load_cifar10(
    data_dir: impl AsRef<Path>,
    opts: &LoadOptions,
) -> Result<VisionData, DataError> {
    let data_dir = data_dir.as_ref();
    let searched = [data_dir.join("cifar10"), data_dir.to_path_buf()];
    let start = Instant::now();
    let sets = if let Some(dir) = searched.iter().find_map(|d| find_cifar10_bin_dir(d)) {
        read_cifar10_bin_dir(&dir, opts.checksums)?
    } else if let Some(dir) = searched.iter().find(|d| looks_like_cifar10_jpeg(d)) {
        read_cifar10_jpeg_dir(dir, opts.checksums)?
    } else {
        return Err(DataError::NotFound {
            dataset: "CIFAR-10",
            searched: searched.to_vec(),
            expected: format!(
                "data_batch_1.bin … data_batch_5.bin and test_batch.bin (the binary version, \
                 also accepted in a {CIFAR10_BIN_SUBDIR}/ sub-folder), or train.tar.gz and \
                 test.tar.gz (the JPEG copy)"
            ),
        });
    };
    finish("CIFAR-10", sets, opts, start)
}

fn finish(
    name: &str,
    sets: TrainTest,
    opts: &LoadOptions,
    start: Instant,
) -> Result<VisionData, DataError> {
    let data = VisionData::from_train_test(sets, opts)?;
    tracing::info!(
        source = %data.source,
        lossless = data.source.is_lossless(),
        train = data.train.len(),
        validation = data.validation.len(),
        test = data.test.len(),
        seconds = start.elapsed().as_secs_f64(),
        "loaded {name}"
    );
    if !data.source.is_lossless() {
        tracing::warn!(
            "{name} pixels are lossy ({}): results are not comparable with published numbers",
            data.source
        );
    }
    Ok(data)
}
