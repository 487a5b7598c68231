//! A user's own images: one folder per class (`CLASS/*.png|jpg|jpeg`), as most image
//! tools write them.
//!
//! Two layouts: `ROOT/train/CLASS/…` and `ROOT/test/CLASS/…` (the test split is the
//! user's), or `ROOT/CLASS/…` alone, of which a fixed share (seeded by 0, the same for
//! every experiment seed) becomes the test split. The validation images are then held out
//! of the training split with the experiment's seed. Every image must have the size of
//! the first one read; its colour decides the channels (grey images give one channel,
//! colour ones three; others are converted). Files are read in name order, so a folder
//! always gives the same sets.

use std::path::{Path, PathBuf};

use zune_jpeg::JpegDecoder;
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;

use super::split::split_indices;
use super::{DataError, DataSource, ImageSet, ImageShape, LoadOptions, TrainTest, VisionData};

/// File extensions read as images (lower-case).
const EXTENSIONS: [&str; 3] = ["png", "jpg", "jpeg"];

/// How an image folder is split.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FolderSplit {
    /// Share of the images held out as the test split when the folder has no `test/`.
    pub test_fraction: f64,
    /// Share of the training images held out for validation.
    pub validation_fraction: f64,
}

impl Default for FolderSplit {
    /// 10% test (without a `test/` folder), 10% of the rest for validation.
    fn default() -> Self {
        Self {
            test_fraction: 0.1,
            validation_fraction: 0.1,
        }
    }
}

/// Loads the image folder `root` (see the module documentation).
///
/// # Errors
/// A folder without class folders or images; an image that cannot be decoded or whose
/// size differs from the first one's (the file is named); more than 256 classes; a
/// split share outside [0, 1).
pub fn load_image_folder(
    root: &Path,
    split: &FolderSplit,
    opts: &LoadOptions,
) -> Result<VisionData, DataError> {
    for (name, share) in [
        ("test_fraction", split.test_fraction),
        ("validation_fraction", split.validation_fraction),
    ] {
        if !(0.0..1.0).contains(&share) {
            return Err(DataError::InvalidArgument(format!(
                "{name} is {share}: expected a share in [0, 1)"
            )));
        }
    }
    let (train_dir, test_dir) = (root.join("train"), root.join("test"));
    let sets = if train_dir.is_dir() && test_dir.is_dir() {
        let classes = class_names(&train_dir)?;
        let mut shape = None;
        let train = read_split(&train_dir, &classes, &mut shape)?;
        let test = read_split(&test_dir, &classes, &mut shape)?;
        TrainTest {
            train,
            test,
            source: DataSource::ImageFolder {
                dir: root.to_path_buf(),
            },
        }
    } else {
        let classes = class_names(root)?;
        let all = read_split(root, &classes, &mut None)?;
        let n_test = (all.len() as f64 * split.test_fraction).round() as usize;
        // Seed 0, not the experiment's: every seed is tested on the same images.
        let (test_idx, train_idx) = split_indices(all.len(), n_test, 0)?;
        TrainTest {
            train: all.subset(&train_idx)?,
            test: all.subset(&test_idx)?,
            source: DataSource::ImageFolder {
                dir: root.to_path_buf(),
            },
        }
    };
    let opts = LoadOptions {
        validation: (sets.train.len() as f64 * split.validation_fraction).round() as usize,
        ..*opts
    };
    let data = VisionData::from_train_test(sets, &opts)?;
    tracing::info!(source = %data.source, classes = data.classes.len(),
        train = data.train.len(), validation = data.validation.len(), test = data.test.len(),
        "loaded an image folder");
    Ok(data)
}

/// The class folders of `dir`, in name order.
fn class_names(dir: &Path) -> Result<Vec<String>, DataError> {
    let mut names: Vec<String> = entries(dir)?
        .into_iter()
        .filter(|p| p.is_dir())
        .filter_map(|p| p.file_name().and_then(|n| n.to_str()).map(str::to_owned))
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(DataError::format(
            dir,
            "holds no class folders: expected one folder per class with its images \
             (CLASS/*.png, *.jpg), or train/ and test/ folders laid out so",
        ));
    }
    if names.len() > 256 {
        return Err(DataError::format(
            dir,
            format!(
                "holds {} class folders; at most 256 are supported",
                names.len()
            ),
        ));
    }
    Ok(names)
}

/// The entries of `dir`, sorted.
fn entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let read = std::fs::read_dir(dir).map_err(|source| DataError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut paths = Vec::new();
    for entry in read {
        let entry = entry.map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        paths.push(entry.path());
    }
    paths.sort();
    Ok(paths)
}

/// Reads `dir/CLASS/*` for every class of `classes` (a missing class folder has no
/// images). `shape` is the first image's, set by the first image read.
fn read_split(
    dir: &Path,
    classes: &[String],
    shape: &mut Option<ImageShape>,
) -> Result<ImageSet, DataError> {
    let mut pixels = Vec::new();
    let mut labels = Vec::new();
    let mut first: Option<PathBuf> = None;
    for (label, class) in classes.iter().enumerate() {
        let class_dir = dir.join(class);
        if !class_dir.is_dir() {
            continue;
        }
        for path in entries(&class_dir)? {
            let is_image = path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()));
            if !is_image {
                continue;
            }
            let image = decode(&path)?;
            let wanted = *shape.get_or_insert(ImageShape::new(
                if image.grey { 1 } else { 3 },
                image.height,
                image.width,
            ));
            if (image.height, image.width) != (wanted.height, wanted.width) {
                let reference = first
                    .as_ref()
                    .map_or_else(|| "the first image".to_owned(), |p| p.display().to_string());
                return Err(DataError::format(
                    &path,
                    format!(
                        "is {}×{}, but {reference} is {}×{}: every image must have one size",
                        image.width, image.height, wanted.width, wanted.height
                    ),
                ));
            }
            first.get_or_insert(path);
            image.append_chw(wanted.channels, &mut pixels);
            labels.push(u8::try_from(label).unwrap_or(u8::MAX));
        }
    }
    let Some(shape) = *shape else {
        return Err(DataError::format(
            dir,
            "holds no images (.png, .jpg, .jpeg) in its class folders",
        ));
    };
    if labels.is_empty() {
        return Err(DataError::format(
            dir,
            "holds no images (.png, .jpg, .jpeg)",
        ));
    }
    ImageSet::new(shape, pixels, labels, classes.to_vec())
}

/// One decoded image: interleaved RGB (or grey) rows.
struct Decoded {
    width: usize,
    height: usize,
    grey: bool,
    /// `height × width` grey values, or `height × width × 3` interleaved RGB.
    data: Vec<u8>,
}

impl Decoded {
    /// Appends the image as `channels` planes (grey ↔ RGB converted).
    fn append_chw(&self, channels: usize, out: &mut Vec<u8>) {
        let n = self.width * self.height;
        match (self.grey, channels) {
            (true, 1) => out.extend_from_slice(&self.data),
            (true, _) => {
                for _ in 0..3 {
                    out.extend_from_slice(&self.data);
                }
            }
            (false, 1) => out.extend(self.data.chunks_exact(3).map(|p| {
                let luma =
                    0.299 * f32::from(p[0]) + 0.587 * f32::from(p[1]) + 0.114 * f32::from(p[2]);
                luma.round().clamp(0.0, 255.0) as u8
            })),
            (false, _) => {
                for c in 0..3 {
                    out.extend((0..n).map(|i| self.data[3 * i + c]));
                }
            }
        }
    }
}

/// Decodes a PNG or JPEG file.
fn decode(path: &Path) -> Result<Decoded, DataError> {
    let bytes = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let is_png = bytes.starts_with(b"\x89PNG");
    let decoded = if is_png {
        decode_png(&bytes)
    } else {
        decode_jpeg(&bytes)
    };
    decoded.map_err(|message| DataError::format(path, message))
}

fn decode_png(bytes: &[u8]) -> Result<Decoded, String> {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder
        .read_info()
        .map_err(|e| format!("not a PNG (bad header): {e}"))?;
    let (width, height) = (reader.info().width as usize, reader.info().height as usize);
    if width == 0 || height == 0 || width > 4096 || height > 4096 {
        return Err(format!(
            "{width}×{height} image: expected 1 to 4096 pixels a side"
        ));
    }
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader
        .next_frame(&mut buf)
        .map_err(|e| format!("corrupt PNG data: {e}"))?;
    let raw = &buf[..frame.buffer_size()];
    let pixels = width * height;
    let (grey, data) = match frame.color_type {
        png::ColorType::Grayscale => (true, raw.to_vec()),
        png::ColorType::GrayscaleAlpha => (true, raw.chunks_exact(2).map(|p| p[0]).collect()),
        png::ColorType::Rgb => (false, raw.to_vec()),
        png::ColorType::Rgba => (
            false,
            raw.chunks_exact(4)
                .flat_map(|p| [p[0], p[1], p[2]])
                .collect(),
        ),
        other => return Err(format!("unsupported PNG colour type {other:?}")),
    };
    let expected = pixels * if grey { 1 } else { 3 };
    if data.len() != expected {
        return Err(format!(
            "decodes to {} bytes, expected {expected} ({width}×{height})",
            data.len()
        ));
    }
    Ok(Decoded {
        width,
        height,
        grey,
        data,
    })
}

fn decode_jpeg(bytes: &[u8]) -> Result<Decoded, String> {
    let options = DecoderOptions::default()
        .jpeg_set_out_colorspace(ColorSpace::RGB)
        .set_strict_mode(true)
        .set_max_width(4096)
        .set_max_height(4096);
    let decoded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut dec = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
        dec.decode()
            .map_err(|e| format!("not a PNG or JPEG image, or a corrupt one: {e}"))
            .map(|data| (dec.dimensions().unwrap_or((0, 0)), data))
    }));
    let ((width, height), data) = match decoded {
        Ok(result) => result?,
        Err(_) => return Err("the JPEG decoder panicked on this file".to_owned()),
    };
    let (width, height) = (width, height);
    if data.len() != width * height * 3 || data.is_empty() {
        return Err(format!(
            "decodes to {} bytes, expected {} (RGB {width}×{height})",
            data.len(),
            width * height * 3
        ));
    }
    // A grey JPEG decoded as RGB has three equal channels.
    let grey = data.chunks_exact(3).all(|p| p[0] == p[1] && p[1] == p[2]);
    let data = if grey {
        data.chunks_exact(3).map(|p| p[0]).collect()
    } else {
        data
    };
    Ok(Decoded {
        width,
        height,
        grey,
        data,
    })
}

/// Writes `image` (one channel, `height × width`) as an 8-bit grey PNG: to build image
/// folders in tests and examples.
///
/// # Errors
/// The file cannot be written, or the size does not match the pixels.
pub fn write_grey_png(
    path: &Path,
    width: usize,
    height: usize,
    image: &[u8],
) -> Result<(), DataError> {
    let io = |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    };
    if image.len() != width * height {
        return Err(DataError::InvalidArgument(format!(
            "{} pixels for a {width}×{height} image",
            image.len()
        )));
    }
    let file = std::fs::File::create(path).map_err(io)?;
    let (w, h) = (
        u32::try_from(width).unwrap_or(u32::MAX),
        u32::try_from(height).unwrap_or(u32::MAX),
    );
    let mut encoder = png::Encoder::new(std::io::BufWriter::new(file), w, h);
    encoder.set_color(png::ColorType::Grayscale);
    encoder.set_depth(png::BitDepth::Eight);
    let fail = |e: png::EncodingError| DataError::format(path, format!("writing PNG: {e}"));
    let mut writer = encoder.write_header().map_err(fail)?;
    writer.write_image_data(image).map_err(fail)?;
    writer.finish().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sprig-folder-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// `count` 4×3 grey images per class, image `i` of class `c` filled with `10c + i`.
    fn folder(root: &Path, classes: &[&str], count: u8) {
        for (c, class) in classes.iter().enumerate() {
            std::fs::create_dir_all(root.join(class)).unwrap();
            for i in 0..count {
                let value = 10 * c as u8 + i;
                write_grey_png(
                    &root.join(class).join(format!("{i:03}.png")),
                    4,
                    3,
                    &[value; 12],
                )
                .unwrap();
            }
        }
    }

    #[test]
    fn a_class_folder_is_read_split_and_labelled_by_name() {
        let root = scratch("plain");
        folder(&root, &["cat", "dog"], 10);
        std::fs::write(root.join("cat/notes.txt"), "not an image").unwrap();
        let data = load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(3)).unwrap();
        assert_eq!(data.classes, ["cat", "dog"]);
        assert_eq!(data.train.shape(), ImageShape::new(1, 3, 4));
        assert_eq!(data.test.len(), 2);
        assert_eq!(data.validation.len(), 2);
        assert_eq!(data.train.len(), 16);
        // The test split does not depend on the experiment seed.
        let again =
            load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(9)).unwrap();
        assert_eq!(again.test.image(0), data.test.image(0));
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn train_and_test_folders_are_the_users_split() {
        let root = scratch("split");
        folder(&root.join("train"), &["a", "b", "c"], 5);
        folder(&root.join("test"), &["a", "c"], 2);
        let split = FolderSplit {
            validation_fraction: 0.0,
            ..FolderSplit::default()
        };
        let data = load_image_folder(&root, &split, &LoadOptions::lth(0)).unwrap();
        assert_eq!(data.classes, ["a", "b", "c"]);
        assert_eq!((data.train.len(), data.test.len()), (15, 4));
        assert_eq!(data.test.label(3), Some(2), "class c keeps its label");
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn bad_folders_and_images_are_named() {
        let root = scratch("bad");
        let message = load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(0))
            .unwrap_err()
            .to_string();
        assert!(message.contains("no class folders"), "{message}");
        folder(&root, &["x"], 3);
        write_grey_png(&root.join("x/big.png"), 5, 5, &[0; 25]).unwrap();
        let message = load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(0))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("big.png") && message.contains("one size"),
            "{message}"
        );
        std::fs::write(root.join("x/big.png"), b"\x89PNG but cut short").unwrap();
        let message = load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(0))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("big.png") && message.contains("PNG"),
            "{message}"
        );
        std::fs::write(root.join("x/big.png"), b"neither").unwrap();
        std::fs::rename(root.join("x/big.png"), root.join("x/big.jpg")).unwrap();
        let message = load_image_folder(&root, &FolderSplit::default(), &LoadOptions::lth(0))
            .unwrap_err()
            .to_string();
        assert!(message.contains("big.jpg"), "{message}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
