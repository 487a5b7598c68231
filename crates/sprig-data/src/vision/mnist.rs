//! MNIST from its four IDX files, each gzipped (`.gz`) or not.
//!
//! When both forms of a file are present the `.gz` is read, because only the
//! original `.gz` downloads have published hashes: integrity is worth the cost of
//! decompressing.

use std::path::{Path, PathBuf};

use super::checksum::{self, ChecksumPolicy, MNIST_GZ};
use super::idx::{self, IDX_IMAGES_MAGIC, IDX_LABELS_MAGIC};
use super::image_set::class_list;
use super::{DataError, DataSource, ImageSet, ImageShape, TrainTest, fsio};

/// Official name of the training images file (without `.gz`).
pub const MNIST_TRAIN_IMAGES: &str = "train-images-idx3-ubyte";
/// Official name of the training labels file (without `.gz`).
pub const MNIST_TRAIN_LABELS: &str = "train-labels-idx1-ubyte";
/// Official name of the test images file (without `.gz`).
pub const MNIST_TEST_IMAGES: &str = "t10k-images-idx3-ubyte";
/// Official name of the test labels file (without `.gz`).
pub const MNIST_TEST_LABELS: &str = "t10k-labels-idx1-ubyte";

/// MNIST class names: label `d` is the digit `d`.
pub const MNIST_CLASSES: [&str; 10] = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];

/// The four file names as an error message lists them.
pub(crate) const MNIST_EXPECTED: &str = "train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], \
     t10k-images-idx3-ubyte[.gz] and t10k-labels-idx1-ubyte[.gz] (the four IDX files of MNIST)";

/// True when `dir` holds at least the MNIST training images (either form):
/// enough to call it an MNIST directory, so that missing siblings are then
/// reported one by one instead of "not found".
pub fn looks_like_mnist(dir: &Path) -> bool {
    dir.join(MNIST_TRAIN_IMAGES).is_file() || dir.join(format!("{MNIST_TRAIN_IMAGES}.gz")).is_file()
}

/// Reads MNIST (train 60,000 and test 10,000 for the official files) from the
/// four IDX files in `dir`.
///
/// Checks, always: IDX magic (2051 images, 2049 labels), exact byte lengths,
/// equal image and label counts, labels below 10, the same image size for
/// train and test. Under [`ChecksumPolicy::Verify`], every `.gz` read must
/// also have the SHA-256 of the original download.
///
/// # Errors
/// A [`DataError`] naming the offending file and what was expected.
pub fn read_mnist_dir(dir: &Path, policy: ChecksumPolicy) -> Result<TrainTest, DataError> {
    let classes = class_list(&MNIST_CLASSES);
    // The training images are most of the work (10 MB gzip → 47 MB); read
    // them on a second thread while this one reads the three small files.
    let (train_images, rest) = std::thread::scope(|s| {
        let big = s.spawn(|| read_idx(dir, MNIST_TRAIN_IMAGES, policy));
        let rest = read_small_files(dir, policy);
        let big = big.join().unwrap_or_else(|_| {
            Err(DataError::format(
                &dir.join(MNIST_TRAIN_IMAGES),
                "reader thread panicked",
            ))
        });
        (big, rest)
    });
    let train_images = train_images?;
    let (train_labels, test_images, test_labels) = rest?;
    let verified = [&train_images, &train_labels, &test_images, &test_labels]
        .iter()
        .all(|f| f.verified);
    let train = assemble(&train_images, &train_labels, classes.clone())?;
    let test = assemble(&test_images, &test_labels, classes)?;
    if train.shape() != test.shape() {
        return Err(DataError::format(
            &test_images.path,
            format!(
                "images are {}, expected {} like the training images",
                test.shape(),
                train.shape()
            ),
        ));
    }
    Ok(TrainTest {
        train,
        test,
        source: DataSource::MnistIdx {
            dir: dir.to_path_buf(),
            sha256_verified: verified,
        },
    })
}

/// Train labels, test images, test labels.
fn read_small_files(
    dir: &Path,
    policy: ChecksumPolicy,
) -> Result<(IdxFile, IdxFile, IdxFile), DataError> {
    Ok((
        read_idx(dir, MNIST_TRAIN_LABELS, policy)?,
        read_idx(dir, MNIST_TEST_IMAGES, policy)?,
        read_idx(dir, MNIST_TEST_LABELS, policy)?,
    ))
}

/// One IDX file's decompressed bytes and where they came from.
struct IdxFile {
    path: PathBuf,
    bytes: Vec<u8>,
    verified: bool,
}

fn read_idx(dir: &Path, base: &str, policy: ChecksumPolicy) -> Result<IdxFile, DataError> {
    let gz = dir.join(format!("{base}.gz"));
    let raw = dir.join(base);
    let what = describe(base);
    if gz.is_file() {
        let compressed = fsio::read_file(&gz)?;
        let known = checksum::known(&MNIST_GZ, &format!("{base}.gz"));
        checksum::verify(&gz, &compressed, known, policy)?;
        let hint = if base.contains("images") {
            compressed.len() * 5
        } else {
            compressed.len() * 3
        };
        let bytes = fsio::gunzip(&gz, &compressed, hint, &what)?;
        let verified = policy == ChecksumPolicy::Verify && known.is_some();
        Ok(IdxFile {
            path: gz,
            bytes,
            verified,
        })
    } else if raw.is_file() {
        Ok(IdxFile {
            bytes: fsio::read_file(&raw)?,
            path: raw,
            verified: false,
        })
    } else {
        Err(DataError::MissingFile {
            path: dir.join(format!("{base}[.gz]")),
            expected: what,
        })
    }
}

fn describe(base: &str) -> String {
    let split = if base.starts_with("train") {
        "training"
    } else {
        "test"
    };
    if base.contains("images") {
        format!("the MNIST {split} images (IDX, magic {IDX_IMAGES_MAGIC}), gzipped or not")
    } else {
        format!("the MNIST {split} labels (IDX, magic {IDX_LABELS_MAGIC}), gzipped or not")
    }
}

fn assemble(
    images: &IdxFile,
    labels: &IdxFile,
    classes: std::sync::Arc<[String]>,
) -> Result<ImageSet, DataError> {
    let img = idx::parse_u8(&images.path, &images.bytes, IDX_IMAGES_MAGIC)?;
    let lab = idx::parse_u8(&labels.path, &labels.bytes, IDX_LABELS_MAGIC)?;
    let (n, h, w) = (img.dims[0], img.dims[1], img.dims[2]);
    if n == 0 || h == 0 || w == 0 {
        return Err(DataError::format(
            &images.path,
            format!("header says {n} images of {h}×{w}, expected at least one non-empty image"),
        ));
    }
    if lab.dims[0] != n {
        return Err(DataError::format(
            &labels.path,
            format!(
                "{} labels, expected {n}, one per image of {}",
                lab.dims[0],
                images.path.display()
            ),
        ));
    }
    if let Some((i, &l)) = lab
        .data
        .iter()
        .enumerate()
        .find(|&(_, &l)| usize::from(l) >= classes.len())
    {
        return Err(DataError::format(
            &labels.path,
            format!(
                "label {l} at index {i}, expected a digit 0..={}",
                classes.len() - 1
            ),
        ));
    }
    ImageSet::new(
        ImageShape::new(1, h, w),
        img.data.to_vec(),
        lab.data.to_vec(),
        classes,
    )
}
