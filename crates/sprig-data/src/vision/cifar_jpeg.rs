//! The project's JPEG copy of CIFAR-10: `train.tar.gz` and `test.tar.gz`.
//!
//! Each tar holds one baseline JPEG per image, named `train/NNNNN_L_name.jpg`
//! (`test/…` in the test tar) in record order, `L` the label and `name` the
//! class. Every member is decoded to 32×32 RGB and stored CHW, giving exactly
//! the [`ImageSet`] the binary version gives, only with lossy pixels (see the
//! data README: JPEG q≈75, 4:2:0, median PSNR 30.5 dB against the original).
//!
//! Decoding 60,000 small JPEGs is the slow part of loading, so members are
//! first gathered into one buffer (inflate + tar parse, one thread per
//! archive), then decoded on all cores with `std::thread::scope`, each thread
//! writing straight into its own slice of the final pixel buffer. Nothing is
//! cached on disk: the data directory may be read-only.

use std::io::Read;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use flate2::read::GzDecoder;
use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::checksum::{self, CIFAR10_JPEG_TARS, ChecksumPolicy};
use super::cifar_bin::read_class_names;
use super::{DataError, DataSource, ImageSet, ImageShape, TrainTest, fsio};

/// The training archive's file name.
pub const CIFAR10_JPEG_TRAIN_TAR: &str = "train.tar.gz";
/// The test archive's file name.
pub const CIFAR10_JPEG_TEST_TAR: &str = "test.tar.gz";

/// True when `dir` holds the JPEG copy's training archive.
pub fn looks_like_cifar10_jpeg(dir: &Path) -> bool {
    dir.join(CIFAR10_JPEG_TRAIN_TAR).is_file()
}

/// Reads and decodes both archives of the JPEG copy in `dir`.
///
/// Class names come from `dir/batches.meta.txt` when present. Under
/// [`ChecksumPolicy::Verify`] each archive must have its published SHA-256.
///
/// # Errors
/// A [`DataError`] naming the archive (and member) that is missing, corrupt,
/// out of order, mislabelled or not a 32×32 JPEG.
pub fn read_cifar10_jpeg_dir(dir: &Path, policy: ChecksumPolicy) -> Result<TrainTest, DataError> {
    let start = std::time::Instant::now();
    let classes = read_class_names(dir)?;
    let train_path = dir.join(CIFAR10_JPEG_TRAIN_TAR);
    let test_path = dir.join(CIFAR10_JPEG_TEST_TAR);
    // Inflate and index both archives at once: one per core on this 2-core box.
    let (train, test) = std::thread::scope(|s| {
        let test = s.spawn(|| read_members(&test_path, "test", &classes, policy));
        let train = read_members(&train_path, "train", &classes, policy);
        let test = test.join().unwrap_or_else(|_| {
            Err(DataError::format(
                &test_path,
                "archive reader thread panicked",
            ))
        });
        (train, test)
    });
    let (train, test) = (train?, test?);
    let read = start.elapsed();
    let sets = TrainTest {
        train: decode_members(&train, classes.clone())?,
        test: decode_members(&test, classes)?,
        source: DataSource::Cifar10Jpeg {
            dir: dir.to_path_buf(),
        },
    };
    tracing::debug!(
        read_and_check_s = read.as_secs_f64(),
        decode_s = (start.elapsed() - read).as_secs_f64(),
        images = sets.train.len() + sets.test.len(),
        "CIFAR-10 JPEG copy decoded"
    );
    Ok(sets)
}

/// Reads one archive of JPEG members (`{prefix}/NNNNN_L_name.jpg`) and
/// decodes it into a set; for archives other than the two standard ones.
///
/// # Errors
/// As [`read_cifar10_jpeg_dir`].
pub fn read_jpeg_tar_gz(
    path: &Path,
    prefix: &str,
    classes: &[String],
    policy: ChecksumPolicy,
) -> Result<ImageSet, DataError> {
    let classes: Arc<[String]> = classes.into();
    let members = read_members(path, prefix, &classes, policy)?;
    decode_members(&members, classes)
}

/// The members of one archive: all JPEG bytes back to back, plus where each starts.
#[derive(Debug)]
struct Members {
    archive: PathBuf,
    prefix: String,
    /// Concatenated JPEG files.
    bytes: Vec<u8>,
    /// `bytes[ends[i-1]..ends[i]]` is member `i` (with `ends[-1] = 0`).
    ends: Vec<usize>,
    labels: Vec<u8>,
}

impl Members {
    fn jpeg(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The member's name, rebuilt from what was checked when reading it.
    fn name(&self, i: usize, classes: &[String]) -> String {
        let label = usize::from(self.labels[i]);
        format!("{}/{i:05}_{label}_{}.jpg", self.prefix, classes[label])
    }
}

fn read_members(
    path: &Path,
    prefix: &str,
    classes: &[String],
    policy: ChecksumPolicy,
) -> Result<Members, DataError> {
    let expected =
        format!("a gzipped tar of JPEG members {prefix}/NNNNN_L_name.jpg in record order");
    if !path.is_file() {
        return Err(DataError::MissingFile {
            path: path.to_path_buf(),
            expected,
        });
    }
    let compressed = fsio::read_file(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    checksum::verify(
        path,
        &compressed,
        checksum::known(&CIFAR10_JPEG_TARS, name),
        policy,
    )?;
    let stream_err = |source: std::io::Error| DataError::Decompress {
        path: path.to_path_buf(),
        expected: expected.clone(),
        source,
    };
    let mut members = Members {
        archive: path.to_path_buf(),
        prefix: prefix.to_owned(),
        // A JPEG of 32×32 is ~6% of the gzipped tar; over-reserve a little.
        bytes: Vec::with_capacity(compressed.len() + compressed.len() / 4),
        ends: Vec::new(),
        labels: Vec::new(),
    };
    let mut archive = tar::Archive::new(GzDecoder::new(&compressed[..]));
    for entry in archive.entries().map_err(stream_err)? {
        let mut entry = entry.map_err(stream_err)?;
        let kind = entry.header().entry_type();
        if kind.is_dir() {
            continue;
        }
        let member = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if !kind.is_file() {
            return Err(DataError::Jpeg {
                path: path.to_path_buf(),
                member,
                message: format!("entry of type {kind:?}, expected a regular file"),
            });
        }
        let index = members.labels.len();
        let label = check_member_name(&member, prefix, index, classes).map_err(|message| {
            DataError::Jpeg {
                path: path.to_path_buf(),
                member: member.clone(),
                message,
            }
        })?;
        entry.read_to_end(&mut members.bytes).map_err(stream_err)?;
        members.ends.push(members.bytes.len());
        members.labels.push(label);
    }
    if members.labels.is_empty() {
        return Err(DataError::format(
            path,
            format!("no members, expected {expected}"),
        ));
    }
    Ok(members)
}

/// Checks `member` is `{prefix}/{index:05}_{L}_{classes[L]}.jpg` and returns `L`.
fn check_member_name(
    member: &str,
    prefix: &str,
    index: usize,
    classes: &[String],
) -> Result<u8, String> {
    let want =
        || format!("expected {prefix}/{index:05}_L_name.jpg (member {index} in record order)");
    let stem = member
        .strip_prefix(prefix)
        .and_then(|s| s.strip_prefix('/'))
        .and_then(|s| s.strip_suffix(".jpg"))
        .ok_or_else(want)?;
    let mut parts = stem.splitn(3, '_');
    let (Some(num), Some(lab), Some(class)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(want());
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(num) || !digits(lab) {
        return Err(want());
    }
    match num.parse::<usize>() {
        Ok(n) if n == index => {}
        Ok(n) if n == index + 1 => {
            return Err(format!(
                "index {n}, expected {index}: member {index} is missing"
            ));
        }
        Ok(n) if n > index => {
            return Err(format!(
                "index {n}, expected {index}: members {index}..={} are missing",
                n - 1
            ));
        }
        _ => return Err(format!("index {num}, expected {index} (record order)")),
    }
    let label = lab.parse::<usize>().ok().filter(|&l| l < classes.len());
    let Some(label) = label else {
        return Err(format!(
            "label {lab}, expected 0..={}",
            classes.len().saturating_sub(1)
        ));
    };
    if class != classes[label] {
        return Err(format!(
            "class name {class:?} for label {label}, expected {:?}",
            classes[label]
        ));
    }
    u8::try_from(label).map_err(|_| format!("label {label} does not fit in a byte"))
}

/// Decodes every member into one CIFAR-shaped set, on all available cores.
fn decode_members(m: &Members, classes: Arc<[String]>) -> Result<ImageSet, DataError> {
    let shape = ImageShape::CIFAR10;
    let n = m.labels.len();
    let per_image = shape.image_len();
    let mut pixels = vec![0u8; n * per_image];
    let threads = std::thread::available_parallelism()
        .map_or(1, |t| t.get())
        .clamp(1, 16)
        .min(n.max(1));
    let chunk = n.div_ceil(threads).max(1);
    let results: Vec<Result<(), DataError>> = std::thread::scope(|s| {
        let handles: Vec<_> = pixels
            .chunks_mut(chunk * per_image)
            .enumerate()
            .map(|(t, out)| {
                let classes = &classes;
                s.spawn(move || {
                    let mut rgb = vec![0u8; per_image];
                    for (k, dst) in out.chunks_exact_mut(per_image).enumerate() {
                        let i = t * chunk + k;
                        decode_one(m.jpeg(i), shape, &mut rgb, dst).map_err(|message| {
                            DataError::Jpeg {
                                path: m.archive.clone(),
                                member: m.name(i, classes),
                                message,
                            }
                        })?;
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(DataError::format(
                        &m.archive,
                        "JPEG decoder thread panicked",
                    ))
                })
            })
            .collect()
    });
    // Threads cover increasing index ranges, so the first error is the earliest member's.
    results.into_iter().collect::<Result<(), _>>()?;
    ImageSet::new(shape, pixels, m.labels.clone(), classes)
}

/// Decodes one JPEG of `shape` into `chw`, using `rgb` as interleaved scratch.
fn decode_one(
    jpeg: &[u8],
    shape: ImageShape,
    rgb: &mut [u8],
    chw: &mut [u8],
) -> Result<(), String> {
    // Strict mode turns the decoder's "best effort" on corrupt data (e.g. a
    // truncated stream padded with grey) into an error; the size caps stop a
    // corrupt header from asking for a huge allocation.
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_strict_mode(true)
        .set_max_width(4096)
        .set_max_height(4096);
    // zune-jpeg is fuzzed, but a panic in it must still not take the loader down.
    let decoded = catch_unwind(AssertUnwindSafe(|| {
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(jpeg), options);
        dec.decode_headers()
            .map_err(|e| format!("not a JPEG (bad or cut header): {e}"))?;
        let (w, h) = dec.dimensions().unwrap_or((0, 0));
        if (h, w) != (shape.height, shape.width) {
            return Err(format!(
                "{w}×{h} image, expected {}×{}",
                shape.width, shape.height
            ));
        }
        match dec.output_buffer_size() {
            Some(len) if len == rgb.len() => {}
            other => {
                return Err(format!(
                    "decodes to {} bytes, expected {} (RGB {}×{})",
                    other.unwrap_or(0),
                    rgb.len(),
                    shape.width,
                    shape.height
                ));
            }
        }
        dec.decode_into(rgb)
            .map_err(|e| format!("corrupt JPEG data: {e}"))
    }));
    match decoded {
        Ok(Ok(())) => {}
        Ok(Err(message)) => return Err(message),
        Err(_) => return Err("the JPEG decoder panicked on this member".to_owned()),
    }
    // Interleaved RGB (HWC) to planes (CHW).
    let plane = shape.plane_len();
    let (r, gb) = chw.split_at_mut(plane);
    let (g, b) = gb.split_at_mut(plane);
    for (((px, r), g), b) in rgb.chunks_exact(3).zip(r).zip(g).zip(b) {
        *r = px[0];
        *g = px[1];
        *b = px[2];
    }
    Ok(())
}
