//! CIFAR-10 loading (binary version and JPEG copy) on fixtures written by the tests.

mod common;

use std::path::Path;

use common::{CLASSES, TempDir, assert_msg, jpeg, jpeg_members, smooth_rgb, tar_gz, write};
use sprig_data::vision::cifar_bin::{CIFAR10_FILE_LEN, CIFAR10_RECORD_LEN};
use sprig_data::vision::cifar_jpeg::{read_cifar10_jpeg_dir, read_jpeg_tar_gz};
use sprig_data::{ChecksumPolicy, DataSource, ImageShape, LoadOptions, load_cifar10};

const SKIP: ChecksumPolicy = ChecksumPolicy::Skip;

fn skip_opts(validation: usize) -> LoadOptions {
    LoadOptions {
        validation,
        seed: 5,
        checksums: SKIP,
    }
}

/// Writes a JPEG copy (`train.tar.gz`, `test.tar.gz`) into `dir`; returns the
/// interleaved RGB sources of the train members.
fn write_jpeg_copy(dir: &Path, train_labels: &[usize], test_labels: &[usize]) -> Vec<Vec<u8>> {
    let (train, sources) = jpeg_members("train", train_labels);
    let (test, _) = jpeg_members("test", test_labels);
    write(&dir.join("train.tar.gz"), &tar_gz(&train));
    write(&dir.join("test.tar.gz"), &tar_gz(&test));
    sources
}

fn hwc_to_chw(rgb: &[u8]) -> Vec<u8> {
    (0..3)
        .flat_map(|c| rgb.chunks_exact(3).map(move |px| px[c]))
        .collect()
}

#[test]
fn jpeg_copy_decodes_to_the_binary_layout_within_a_few_levels() {
    let dir = TempDir::new("cifar-jpeg");
    let labels: Vec<usize> = (0..13).map(|i| (i * 7) % 10).collect();
    let sources = write_jpeg_copy(dir.path(), &labels, &[0, 1, 2, 3]);
    let sets = read_cifar10_jpeg_dir(dir.path(), SKIP).unwrap();
    assert_eq!(sets.train.shape(), ImageShape::CIFAR10);
    assert_eq!(sets.train.len(), 13);
    assert_eq!(sets.test.len(), 4);
    let want_labels: Vec<u8> = labels.iter().map(|&l| l as u8).collect();
    assert_eq!(sets.train.labels(), &want_labels[..]);
    assert_eq!(sets.train.classes()[9], "truck");
    assert!(!sets.source.is_lossless());
    for (i, src) in sources.iter().enumerate() {
        let want = hwc_to_chw(src);
        let got = sets.train.image(i).unwrap();
        let max = want.iter().zip(got).map(|(a, b)| a.abs_diff(*b)).max();
        let mean = want
            .iter()
            .zip(got)
            .map(|(a, b)| f64::from(a.abs_diff(*b)))
            .sum::<f64>()
            / want.len() as f64;
        assert!(
            max <= Some(8) && mean < 1.5,
            "image {i}: max {max:?}, mean {mean}"
        );
    }
}

/// Member-list corruptions of a train archive and the words the error must contain.
struct BadArchive {
    what: &'static str,
    members: fn() -> Vec<(String, Vec<u8>)>,
    expect: &'static [&'static str],
}

fn good(n: usize) -> Vec<(String, Vec<u8>)> {
    jpeg_members("train", &(0..n).map(|i| i % 10).collect::<Vec<_>>()).0
}

const BAD_ARCHIVES: &[BadArchive] = &[
    BadArchive {
        what: "missing index",
        members: || {
            let mut m = good(4);
            m.remove(2);
            m
        },
        expect: &[
            "train.tar.gz: member train/00003_3_cat.jpg",
            "index 3, expected 2",
            "missing",
        ],
    },
    BadArchive {
        what: "out of order",
        members: || {
            let mut m = good(3);
            m.swap(1, 2);
            m
        },
        expect: &["member train/00002_2_bird.jpg", "index 2, expected 1"],
    },
    BadArchive {
        what: "class name disagrees with label",
        members: || {
            let mut m = good(2);
            m[1].0 = "train/00001_3_dog.jpg".to_owned();
            m
        },
        expect: &["class name \"dog\" for label 3, expected \"cat\""],
    },
    BadArchive {
        what: "label out of range",
        members: || {
            let mut m = good(1);
            m[0].0 = "train/00000_12_cat.jpg".to_owned();
            m
        },
        expect: &["member train/00000_12_cat.jpg", "label 12, expected 0..=9"],
    },
    BadArchive {
        what: "wrong prefix",
        members: || {
            let mut m = good(1);
            m[0].0 = "test/00000_0_airplane.jpg".to_owned();
            m
        },
        expect: &["expected train/00000_L_name.jpg"],
    },
    BadArchive {
        what: "not a jpeg",
        members: || {
            let mut m = good(2);
            m[1].1 = b"definitely not a jpeg".to_vec();
            m
        },
        expect: &["member train/00001_1_automobile.jpg", "not a JPEG"],
    },
    BadArchive {
        what: "jpeg cut inside its headers",
        members: || {
            let mut m = good(2);
            m[0].1.truncate(100);
            m
        },
        expect: &["member train/00000_0_airplane.jpg", "not a JPEG"],
    },
    BadArchive {
        what: "jpeg cut inside its image data",
        members: || {
            let mut m = good(2);
            let keep = m[1].1.len() - 40;
            m[1].1.truncate(keep);
            m
        },
        expect: &["member train/00001_1_automobile.jpg", "corrupt JPEG data"],
    },
    BadArchive {
        what: "wrong image size",
        members: || {
            let mut m = good(2);
            m[1].1 = jpeg(&smooth_rgb(0, 16, 8), 16, 8);
            m
        },
        expect: &["16×8 image, expected 32×32"],
    },
    BadArchive {
        what: "empty archive",
        members: Vec::new,
        expect: &["train.tar.gz: no members"],
    },
];

#[test]
fn bad_archives_are_errors_naming_archive_member_and_expectation() {
    let classes: Vec<String> = CLASSES.iter().map(|s| s.to_string()).collect();
    for case in BAD_ARCHIVES {
        let dir = TempDir::new("cifar-bad");
        let path = dir.join("train.tar.gz");
        write(&path, &tar_gz(&(case.members)()));
        let err = read_jpeg_tar_gz(&path, "train", &classes, SKIP).expect_err(case.what);
        let msg = assert_msg(&err, case.expect);
        assert!(msg.starts_with(&path.display().to_string()), "{msg}");
    }
}

#[test]
fn truncated_archive_and_checksums() {
    let dir = TempDir::new("cifar-trunc");
    write_jpeg_copy(dir.path(), &[0, 1, 2], &[3]);
    // Published hash of the shared copy: a home-made archive fails under Verify.
    assert_msg(
        read_cifar10_jpeg_dir(dir.path(), ChecksumPolicy::Verify).unwrap_err(),
        &[
            "train.tar.gz: sha256 is ",
            "expected 896a44461ab340f625fa3a7eade3759b8e266ecd6b4e0024d606c2ce74674f94",
        ],
    );
    let path = dir.join("test.tar.gz");
    let bytes = std::fs::read(&path).unwrap();
    write(&path, &bytes[..bytes.len() / 2]);
    assert_msg(
        read_cifar10_jpeg_dir(dir.path(), SKIP).unwrap_err(),
        &[
            "test.tar.gz: not a complete gzip stream",
            "test/NNNNN_L_name.jpg",
        ],
    );
    std::fs::remove_file(&path).unwrap();
    assert_msg(
        read_cifar10_jpeg_dir(dir.path(), SKIP).unwrap_err(),
        &["test.tar.gz: missing"],
    );
}

#[test]
fn class_names_come_from_batches_meta_txt() {
    let dir = TempDir::new("cifar-meta");
    write_jpeg_copy(dir.path(), &[0, 1], &[1]);
    write(&dir.join("batches.meta.txt"), b"a\nb\nc\n");
    assert_msg(
        read_cifar10_jpeg_dir(dir.path(), SKIP).unwrap_err(),
        &["batches.meta.txt: 3 class names, expected 10"],
    );
    let names = CLASSES.join("\n") + "\n\n";
    write(&dir.join("batches.meta.txt"), names.as_bytes());
    let sets = read_cifar10_jpeg_dir(dir.path(), SKIP).unwrap();
    assert_eq!(sets.test.classes()[1], "automobile");
}

#[test]
fn load_cifar10_finds_the_jpeg_copy_and_reports_it() {
    for sub in ["cifar10", ""] {
        let root = TempDir::new("cifar-find");
        let dir = root.join(sub);
        write_jpeg_copy(&dir, &(0..20).map(|i| i % 10).collect::<Vec<_>>(), &[4, 5]);
        let data = load_cifar10(root.path(), &skip_opts(6)).unwrap();
        assert_eq!(data.source, DataSource::Cifar10Jpeg { dir: dir.clone() });
        assert!(data.source.to_string().contains("LOSSY"));
        assert_eq!(
            (data.train.len(), data.validation.len(), data.test.len()),
            (14, 6, 2)
        );
    }
    let empty = TempDir::new("cifar-none");
    assert_msg(
        load_cifar10(empty.path(), &skip_opts(0)).unwrap_err(),
        &[
            "no CIFAR-10 found in",
            "data_batch_1.bin",
            "cifar-10-batches-bin",
            "train.tar.gz and test.tar.gz",
        ],
    );
}

/// Byte `k` of record `r` of batch file `f` (the label byte is `k = 0`).
fn record_byte(f: usize, r: usize, k: usize) -> u8 {
    if k == 0 {
        ((r + f) % 10) as u8
    } else {
        ((r * 31 + f * 17 + k) % 251) as u8
    }
}

fn batch_file(f: usize) -> Vec<u8> {
    let mut v = Vec::with_capacity(CIFAR10_FILE_LEN);
    for r in 0..10_000 {
        v.extend((0..CIFAR10_RECORD_LEN).map(|k| record_byte(f, r, k)));
    }
    v
}

/// One full binary version (6 × 30.7 MB) serves several checks, to write it once.
#[test]
fn binary_version_is_preferred_checked_and_copied_as_chw() {
    let root = TempDir::new("cifar-bin");
    let bin = root.join("cifar10/cifar-10-batches-bin");
    let names = [
        "data_batch_1.bin",
        "data_batch_2.bin",
        "data_batch_3.bin",
        "data_batch_4.bin",
        "data_batch_5.bin",
        "test_batch.bin",
    ];
    for (f, name) in names.iter().enumerate() {
        write(&bin.join(name), &batch_file(f));
    }
    // The JPEG copy next to it must lose: the binary version is lossless.
    write_jpeg_copy(&root.join("cifar10"), &[0, 1], &[2]);

    let data = load_cifar10(root.path(), &skip_opts(0)).unwrap();
    assert_eq!(
        data.source,
        DataSource::Cifar10Binary {
            dir: bin.clone(),
            decoded_from_jpeg: false
        }
    );
    assert!(data.source.is_lossless());
    assert_eq!((data.train.len(), data.test.len()), (50_000, 10_000));
    // Image 23_456 is record 3_456 of data_batch_3 (f = 2); pixels copied as stored (CHW).
    let (f, r) = (2, 3_456);
    let want: Vec<u8> = (1..CIFAR10_RECORD_LEN)
        .map(|k| record_byte(f, r, k))
        .collect();
    assert_eq!(data.train.image(23_456).unwrap(), &want[..]);
    assert_eq!(data.train.label(23_456), Some((r + f) % 10));
    assert_eq!(data.test.label(9_999), Some((9_999 + 5) % 10));

    write(&bin.join("data_batch_3.bin"), &[0; 1234]);
    assert_msg(
        load_cifar10(root.path(), &skip_opts(0)).unwrap_err(),
        &["data_batch_3.bin: 1234 bytes, expected 30730000 (10000 records of 3073 bytes)"],
    );
    write(&bin.join("data_batch_3.bin"), &batch_file(2));

    let mut test = batch_file(5);
    test[7 * CIFAR10_RECORD_LEN] = 10;
    write(&bin.join("test_batch.bin"), &test);
    assert_msg(
        load_cifar10(root.path(), &skip_opts(0)).unwrap_err(),
        &["test_batch.bin: record 7", "has label 10, expected 0..=9"],
    );

    std::fs::remove_file(bin.join("test_batch.bin")).unwrap();
    assert_msg(
        load_cifar10(root.path(), &skip_opts(0)).unwrap_err(),
        &["test_batch.bin: missing, expected 30730000 bytes"],
    );
}
