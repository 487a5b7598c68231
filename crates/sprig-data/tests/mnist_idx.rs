//! MNIST IDX loading on fixtures written by the tests.

mod common;

use std::path::Path;

use common::{TempDir, assert_msg, gzip, write};
use sprig_data::vision::idx::encode_u8;
use sprig_data::vision::mnist::read_mnist_dir;
use sprig_data::{ChecksumPolicy, DataSource, ImageShape, LoadOptions, load_mnist};

const SKIP: ChecksumPolicy = ChecksumPolicy::Skip;

/// A small MNIST-like data set: `n` images of `h × w` (h ≠ w to catch
/// transposed dimensions), pixel `(i, p) = (7i + p) mod 256`, label `i mod 10`.
struct Fixture {
    n_train: usize,
    n_test: usize,
    h: usize,
    w: usize,
}

const SMALL: Fixture = Fixture {
    n_train: 23,
    n_test: 11,
    h: 5,
    w: 4,
};

impl Fixture {
    fn pixels(&self, n: usize) -> Vec<u8> {
        (0..n * self.h * self.w)
            .map(|k| ((k / (self.h * self.w)) * 7 + k % (self.h * self.w)) as u8)
            .collect()
    }

    fn labels(n: usize) -> Vec<u8> {
        (0..n).map(|i| (i % 10) as u8).collect()
    }

    /// The four decompressed files, by base name.
    fn files(&self) -> Vec<(&'static str, Vec<u8>)> {
        vec![
            (
                "train-images-idx3-ubyte",
                encode_u8(&[self.n_train, self.h, self.w], &self.pixels(self.n_train)).unwrap(),
            ),
            (
                "train-labels-idx1-ubyte",
                encode_u8(&[self.n_train], &Self::labels(self.n_train)).unwrap(),
            ),
            (
                "t10k-images-idx3-ubyte",
                encode_u8(&[self.n_test, self.h, self.w], &self.pixels(self.n_test)).unwrap(),
            ),
            (
                "t10k-labels-idx1-ubyte",
                encode_u8(&[self.n_test], &Self::labels(self.n_test)).unwrap(),
            ),
        ]
    }

    /// Writes the files into `dir`, gzipping those whose index is in `gz`.
    fn write(&self, dir: &Path, gz: &[usize]) {
        for (k, (name, bytes)) in self.files().into_iter().enumerate() {
            if gz.contains(&k) {
                write(&dir.join(format!("{name}.gz")), &gzip(&bytes));
            } else {
                write(&dir.join(name), &bytes);
            }
        }
    }
}

#[test]
fn round_trip_raw_gz_and_mixed() {
    for gz in [&[][..], &[0, 1, 2, 3], &[0, 3]] {
        let dir = TempDir::new("mnist-rt");
        SMALL.write(dir.path(), gz);
        let sets = read_mnist_dir(dir.path(), SKIP).unwrap();
        assert_eq!(sets.train.shape(), ImageShape::new(1, 5, 4));
        assert_eq!(sets.train.len(), 23);
        assert_eq!(sets.test.len(), 11);
        assert_eq!(sets.train.pixels(), &SMALL.pixels(23)[..]);
        assert_eq!(sets.test.pixels(), &SMALL.pixels(11)[..]);
        assert_eq!(sets.train.labels(), &Fixture::labels(23)[..]);
        assert_eq!(sets.train.classes()[3], "3");
        assert_eq!(
            sets.source,
            DataSource::MnistIdx {
                dir: dir.path().to_path_buf(),
                sha256_verified: false
            }
        );
        assert!(sets.source.is_lossless());
    }
}

#[test]
fn gz_wins_over_raw_when_both_exist() {
    let dir = TempDir::new("mnist-both");
    SMALL.write(dir.path(), &[0, 1, 2, 3]);
    // A raw train-images file with different pixels must be ignored.
    let other = encode_u8(&[23, 5, 4], &vec![9; 23 * 20]).unwrap();
    write(&dir.join("train-images-idx3-ubyte"), &other);
    let sets = read_mnist_dir(dir.path(), SKIP).unwrap();
    assert_eq!(sets.train.pixels(), &SMALL.pixels(23)[..]);
}

/// Each case corrupts one file (by index into `Fixture::files`, written raw
/// or gzipped) and names the words the error must contain.
struct Broken {
    what: &'static str,
    file: usize,
    gz: bool,
    mangle: fn(Vec<u8>) -> Vec<u8>,
    expect: &'static [&'static str],
}

const BROKEN: &[Broken] = &[
    Broken {
        what: "truncated raw images",
        file: 0,
        gz: false,
        mangle: |mut b| {
            b.truncate(b.len() - 3);
            b
        },
        expect: &[
            "train-images-idx3-ubyte:",
            "473 bytes, expected 476",
            "23 × 5 × 4",
            "truncated",
        ],
    },
    Broken {
        what: "truncated gzip stream",
        file: 2,
        gz: true,
        mangle: |b| gzip(&b)[..20].to_vec(),
        expect: &[
            "t10k-images-idx3-ubyte.gz:",
            "not a complete gzip stream",
            "MNIST test images",
        ],
    },
    Broken {
        what: "bad magic (labels file where images belong)",
        file: 0,
        gz: true,
        mangle: |_| gzip(&encode_u8(&[23], &[0; 23]).unwrap()),
        expect: &[
            "train-images-idx3-ubyte.gz:",
            "bad magic number 2049",
            "expected 2051",
        ],
    },
    Broken {
        what: "a gzip file not named .gz",
        file: 1,
        gz: false,
        mangle: |b| gzip(&b),
        expect: &[
            "train-labels-idx1-ubyte:",
            "bad magic number",
            "expected 2049",
        ],
    },
    Broken {
        what: "mismatched counts",
        file: 3,
        gz: false,
        mangle: |_| encode_u8(&[10], &[0; 10]).unwrap(),
        expect: &[
            "t10k-labels-idx1-ubyte:",
            "10 labels, expected 11",
            "t10k-images-idx3-ubyte",
        ],
    },
    Broken {
        what: "label out of range",
        file: 1,
        gz: true,
        mangle: |_| {
            let mut l: Vec<u8> = (0..23).map(|i| (i % 10) as u8).collect();
            l[17] = 10;
            gzip(&encode_u8(&[23], &l).unwrap())
        },
        expect: &[
            "train-labels-idx1-ubyte.gz:",
            "label 10 at index 17",
            "expected a digit 0..=9",
        ],
    },
    Broken {
        what: "empty file",
        file: 3,
        gz: false,
        mangle: |_| Vec::new(),
        expect: &["t10k-labels-idx1-ubyte:", "too short for an IDX header"],
    },
    Broken {
        what: "test images of another size",
        file: 2,
        gz: false,
        mangle: |_| encode_u8(&[11, 4, 5], &[0; 220]).unwrap(),
        expect: &[
            "t10k-images-idx3-ubyte:",
            "images are 1×4×5, expected 1×5×4",
        ],
    },
];

#[test]
fn broken_files_are_errors_that_name_the_file_and_the_expectation() {
    for case in BROKEN {
        let dir = TempDir::new("mnist-broken");
        let gz: Vec<usize> = if case.gz { vec![case.file] } else { vec![] };
        SMALL.write(dir.path(), &gz);
        let (name, bytes) = SMALL.files().swap_remove(case.file);
        let target = if case.gz {
            dir.join(format!("{name}.gz"))
        } else {
            dir.join(name)
        };
        write(&target, &(case.mangle)(bytes));
        let err = read_mnist_dir(dir.path(), SKIP).expect_err(case.what);
        let msg = assert_msg(&err, case.expect);
        assert!(msg.contains(&dir.path().display().to_string()), "{msg}");
    }
}

#[test]
fn missing_file_and_missing_dataset_say_what_is_expected() {
    let dir = TempDir::new("mnist-missing");
    SMALL.write(dir.path(), &[0, 1, 2]);
    std::fs::remove_file(dir.join("t10k-labels-idx1-ubyte")).unwrap();
    assert_msg(
        read_mnist_dir(dir.path(), SKIP).unwrap_err(),
        &[
            "t10k-labels-idx1-ubyte[.gz]: missing",
            "MNIST test labels",
            "magic 2049",
        ],
    );

    let empty = TempDir::new("mnist-none");
    let msg = assert_msg(
        load_mnist(empty.path(), &LoadOptions::lth(0)).unwrap_err(),
        &[
            "no MNIST found in",
            "expected train-images-idx3-ubyte[.gz]",
            "t10k-labels-idx1-ubyte[.gz]",
        ],
    );
    assert!(
        msg.contains(&empty.join("mnist").display().to_string()),
        "{msg}"
    );
}

#[test]
fn official_gz_names_are_checksummed_unless_skipped() {
    let dir = TempDir::new("mnist-sha");
    SMALL.write(dir.path(), &[0, 1, 2, 3]);
    let opts = LoadOptions {
        validation: 3,
        ..LoadOptions::lth(1)
    };
    assert_msg(
        load_mnist(dir.path(), &opts).unwrap_err(),
        &[
            "train-images-idx3-ubyte.gz: sha256 is ",
            "expected 440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "(the official MNIST file)",
        ],
    );
    let skip = LoadOptions {
        checksums: SKIP,
        ..opts
    };
    assert_eq!(load_mnist(dir.path(), &skip).unwrap().train.len(), 20);
}

#[test]
fn load_mnist_looks_in_data_dir_mnist_then_data_dir() {
    let opts = LoadOptions {
        validation: 5,
        seed: 3,
        checksums: SKIP,
    };
    for sub in ["mnist", ""] {
        let root = TempDir::new("mnist-find");
        let dir = root.join(sub);
        SMALL.write(&dir, &[1]);
        let data = load_mnist(root.path(), &opts).unwrap();
        assert_eq!(data.source.dir(), dir.as_path());
        assert_eq!(
            (data.train.len(), data.validation.len(), data.test.len()),
            (18, 5, 11)
        );
        assert_eq!(data.classes.len(), 10);
        // Same seed, same split.
        let again = load_mnist(root.path(), &opts).unwrap();
        assert_eq!(again.validation.labels(), data.validation.labels());
    }
}
