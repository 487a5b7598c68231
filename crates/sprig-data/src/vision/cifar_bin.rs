//! CIFAR-10 "binary version": `data_batch_{1..5}.bin` and `test_batch.bin`.
//!
//! Each file is 10,000 records of 3,073 bytes: the label, then the 1,024 red,
//! 1,024 green and 1,024 blue values of a 32×32 image, rows top to bottom.
//! That is already CHW, so a record's last 3,072 bytes are copied as they are.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::checksum::{self, ChecksumPolicy};
use super::image_set::class_list;
use super::{DataError, DataSource, ImageSet, ImageShape, TrainTest, fsio};

/// Bytes per record: 1 label + 3 × 32 × 32 pixels.
pub const CIFAR10_RECORD_LEN: usize = 1 + 3 * 32 * 32;
/// Records per batch file.
pub const CIFAR10_RECORDS_PER_FILE: usize = 10_000;
/// Size of every batch file: 30,730,000 bytes.
pub const CIFAR10_FILE_LEN: usize = CIFAR10_RECORD_LEN * CIFAR10_RECORDS_PER_FILE;
/// The five training batch files, in record order.
pub const CIFAR10_TRAIN_FILES: [&str; 5] = [
    "data_batch_1.bin",
    "data_batch_2.bin",
    "data_batch_3.bin",
    "data_batch_4.bin",
    "data_batch_5.bin",
];
/// The test batch file.
pub const CIFAR10_TEST_FILE: &str = "test_batch.bin";
/// The sub-folder the official archive unpacks to.
pub const CIFAR10_BIN_SUBDIR: &str = "cifar-10-batches-bin";
/// File with one class name per line (label order); optional.
pub const CIFAR10_META_FILE: &str = "batches.meta.txt";
/// CIFAR-10 class names in label order, used when no `batches.meta.txt` exists.
pub const CIFAR10_CLASSES: [&str; 10] = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
];

/// The directory holding the binary batches: `dir` itself or its
/// `cifar-10-batches-bin/` sub-folder, if either has `data_batch_1.bin`.
pub fn find_cifar10_bin_dir(dir: &Path) -> Option<PathBuf> {
    [dir.to_path_buf(), dir.join(CIFAR10_BIN_SUBDIR)]
        .into_iter()
        .find(|d| d.join(CIFAR10_TRAIN_FILES[0]).is_file())
}

/// Reads the six binary batch files from `dir` (or `dir/cifar-10-batches-bin`).
///
/// Under [`ChecksumPolicy::Verify`] the first batch is hashed to recognise a
/// binary directory made by decoding the project's lossy JPEG copy, which is
/// then reported as such in the [`DataSource`] rather than as lossless.
///
/// # Errors
/// [`DataError::NotFound`] without `data_batch_1.bin`; otherwise a
/// [`DataError`] naming the missing, short or corrupt file.
pub fn read_cifar10_bin_dir(dir: &Path, policy: ChecksumPolicy) -> Result<TrainTest, DataError> {
    let Some(dir) = find_cifar10_bin_dir(dir) else {
        return Err(DataError::NotFound {
            dataset: "CIFAR-10 binary version",
            searched: vec![dir.to_path_buf(), dir.join(CIFAR10_BIN_SUBDIR)],
            expected: "data_batch_1.bin … data_batch_5.bin and test_batch.bin".to_owned(),
        });
    };
    let classes = read_class_names(&dir)?;
    let mut decoded_from_jpeg = false;
    let mut train = Batches::with_files(CIFAR10_TRAIN_FILES.len());
    for (k, name) in CIFAR10_TRAIN_FILES.iter().enumerate() {
        let path = dir.join(name);
        let bytes = read_batch_file(&path, classes.len())?;
        if k == 0 && policy == ChecksumPolicy::Verify {
            decoded_from_jpeg =
                checksum::sha256_hex(&bytes) == checksum::CIFAR10_BIN_FROM_JPEG_BATCH1;
        }
        train.push(&bytes);
    }
    let mut test = Batches::with_files(1);
    test.push(&read_batch_file(
        &dir.join(CIFAR10_TEST_FILE),
        classes.len(),
    )?);
    Ok(TrainTest {
        train: batches_to_set(train, classes.clone())?,
        test: batches_to_set(test, classes)?,
        source: DataSource::Cifar10Binary {
            dir,
            decoded_from_jpeg,
        },
    })
}

/// Pixels and labels gathered from whole batch files.
struct Batches {
    pixels: Vec<u8>,
    labels: Vec<u8>,
}

impl Batches {
    fn with_files(files: usize) -> Self {
        let n = files * CIFAR10_RECORDS_PER_FILE;
        Self {
            pixels: Vec::with_capacity(n * (CIFAR10_RECORD_LEN - 1)),
            labels: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, file: &[u8]) {
        for rec in file.chunks_exact(CIFAR10_RECORD_LEN) {
            self.labels.push(rec[0]);
            self.pixels.extend_from_slice(&rec[1..]);
        }
    }
}

fn batches_to_set(b: Batches, classes: Arc<[String]>) -> Result<ImageSet, DataError> {
    ImageSet::new(ImageShape::CIFAR10, b.pixels, b.labels, classes)
}

/// Reads one batch file, checking its exact length and every label.
fn read_batch_file(path: &Path, num_classes: usize) -> Result<Vec<u8>, DataError> {
    if !path.is_file() {
        return Err(DataError::MissingFile {
            path: path.to_path_buf(),
            expected: format!(
                "{CIFAR10_FILE_LEN} bytes ({CIFAR10_RECORDS_PER_FILE} records of {CIFAR10_RECORD_LEN} bytes)"
            ),
        });
    }
    let bytes = fsio::read_file(path)?;
    if bytes.len() != CIFAR10_FILE_LEN {
        return Err(DataError::Length {
            path: path.to_path_buf(),
            actual: bytes.len() as u64,
            expected: CIFAR10_FILE_LEN as u64,
            detail: format!("{CIFAR10_RECORDS_PER_FILE} records of {CIFAR10_RECORD_LEN} bytes"),
        });
    }
    if let Some((i, rec)) = bytes
        .chunks_exact(CIFAR10_RECORD_LEN)
        .enumerate()
        .find(|(_, r)| usize::from(r[0]) >= num_classes)
    {
        return Err(DataError::format(
            path,
            format!(
                "record {i} (byte {}) has label {}, expected 0..={}",
                i * CIFAR10_RECORD_LEN,
                rec[0],
                num_classes - 1
            ),
        ));
    }
    Ok(bytes)
}

/// Class names from `dir/batches.meta.txt` (one per line, blank lines
/// ignored), or [`CIFAR10_CLASSES`] when the file is absent.
///
/// # Errors
/// [`DataError::Format`] if the file exists but does not list 10 names.
pub fn read_class_names(dir: &Path) -> Result<Arc<[String]>, DataError> {
    let path = dir.join(CIFAR10_META_FILE);
    if !path.is_file() {
        return Ok(class_list(&CIFAR10_CLASSES));
    }
    let bytes = fsio::read_file(&path)?;
    let text = String::from_utf8_lossy(&bytes);
    let names: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if names.len() != CIFAR10_CLASSES.len() {
        return Err(DataError::format(
            &path,
            format!(
                "{} class names, expected {} (one per line, label order)",
                names.len(),
                CIFAR10_CLASSES.len()
            ),
        ));
    }
    Ok(class_list(&names))
}
