//! The in-memory image set every loader produces.
//!
//! One contiguous `Vec<u8>` of pixels (image after image, each in CHW order:
//! all of channel 0 row by row, then channel 1, …) and one `Vec<u8>` of labels.
//! CHW is what convolution layers take and what the CIFAR binary files already
//! store, so the binary loader copies records as they are and batches need no
//! transpose. u8 keeps the whole of CIFAR-10 at 184 MB instead of 737 MB as f32.

use std::sync::Arc;

use burn_dataset::{Dataset, DatasetError};

use super::DataError;

/// Shape of one image: channels × height × width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct ImageShape {
    /// Number of channels (1 for MNIST, 3 for CIFAR-10 in R, G, B order).
    pub channels: usize,
    /// Rows per image.
    pub height: usize,
    /// Columns per image.
    pub width: usize,
}

impl ImageShape {
    /// MNIST: 1 × 28 × 28.
    pub const MNIST: Self = Self::new(1, 28, 28);
    /// CIFAR-10: 3 × 32 × 32.
    pub const CIFAR10: Self = Self::new(3, 32, 32);

    /// A shape from its three sizes.
    pub const fn new(channels: usize, height: usize, width: usize) -> Self {
        Self {
            channels,
            height,
            width,
        }
    }

    /// Pixels in one channel plane (`height × width`).
    pub const fn plane_len(&self) -> usize {
        self.height * self.width
    }

    /// Values in one image (`channels × height × width`).
    pub const fn image_len(&self) -> usize {
        self.channels * self.height * self.width
    }
}

impl std::fmt::Display for ImageShape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}×{}×{}", self.channels, self.height, self.width)
    }
}

/// One image and its label, as handed out by the [`Dataset`] impl.
///
/// Owning a `Vec` per item is what Burn's `Dataset`/`Batcher` path needs; the
/// trainer's hot loop should use [`ImageSet::fill_batch`] instead, which
/// allocates nothing per item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageItem {
    /// `shape.image_len()` pixels, CHW order, 0..=255.
    pub pixels: Vec<u8>,
    /// Class index, `< classes.len()` of the set it came from.
    pub label: usize,
    /// The image's shape, so a batcher can build tensors from items alone.
    pub shape: ImageShape,
}

/// A labelled set of same-shaped 8-bit images, held in memory.
///
/// Cloning is cheap for the class names (shared) but copies the pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageSet {
    shape: ImageShape,
    pixels: Vec<u8>,
    labels: Vec<u8>,
    classes: Arc<[String]>,
}

impl ImageSet {
    /// Builds a set from CHW pixels, labels and class names, checking they agree.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] when the pixel count is not
    /// `labels.len() × shape.image_len()`, the shape has a zero size, or a
    /// label is not below `classes.len()`.
    pub fn new(
        shape: ImageShape,
        pixels: Vec<u8>,
        labels: Vec<u8>,
        classes: impl Into<Arc<[String]>>,
    ) -> Result<Self, DataError> {
        let classes = classes.into();
        if shape.image_len() == 0 {
            return Err(DataError::InvalidArgument(format!(
                "image shape {shape} has a zero size"
            )));
        }
        let expected = labels.len().checked_mul(shape.image_len());
        if expected != Some(pixels.len()) {
            return Err(DataError::InvalidArgument(format!(
                "{} pixels for {} labels of shape {shape}, expected {}",
                pixels.len(),
                labels.len(),
                labels.len().saturating_mul(shape.image_len())
            )));
        }
        if let Some((i, &l)) = labels
            .iter()
            .enumerate()
            .find(|&(_, &l)| usize::from(l) >= classes.len())
        {
            return Err(DataError::InvalidArgument(format!(
                "label {l} of image {i} is not below the {} classes",
                classes.len()
            )));
        }
        Ok(Self {
            shape,
            pixels,
            labels,
            classes,
        })
    }

    /// Number of images.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// True when the set holds no image.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Shape of every image.
    pub fn shape(&self) -> ImageShape {
        self.shape
    }

    /// All pixels, image after image, each CHW.
    pub fn pixels(&self) -> &[u8] {
        &self.pixels
    }

    /// All labels, one per image.
    pub fn labels(&self) -> &[u8] {
        &self.labels
    }

    /// Class names; label `l` is `classes()[l]`.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Number of classes.
    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// The pixels of image `index` (CHW), or `None` past the end.
    pub fn image(&self, index: usize) -> Option<&[u8]> {
        let n = self.shape.image_len();
        let start = index.checked_mul(n)?;
        self.pixels.get(start..start.checked_add(n)?)
    }

    /// The label of image `index`, or `None` past the end.
    pub fn label(&self, index: usize) -> Option<usize> {
        self.labels.get(index).map(|&l| usize::from(l))
    }

    /// Item `index` with its own copy of the pixels, or `None` past the end.
    pub fn item(&self, index: usize) -> Option<ImageItem> {
        Some(ImageItem {
            pixels: self.image(index)?.to_vec(),
            label: self.label(index)?,
            shape: self.shape,
        })
    }

    /// Number of images of each class (`result[l]` = count of label `l`).
    pub fn class_counts(&self) -> Vec<usize> {
        let mut counts = vec![0; self.classes.len()];
        for &l in &self.labels {
            counts[usize::from(l)] += 1;
        }
        counts
    }

    /// A new set of the images at `indices`, in that order (repeats allowed).
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] when an index is past the end.
    pub fn subset(&self, indices: &[usize]) -> Result<Self, DataError> {
        self.check_indices(indices)?;
        let n = self.shape.image_len();
        let mut pixels = Vec::with_capacity(indices.len() * n);
        let mut labels = Vec::with_capacity(indices.len());
        for &i in indices {
            pixels.extend_from_slice(&self.pixels[i * n..(i + 1) * n]);
            labels.push(self.labels[i]);
        }
        Ok(Self {
            shape: self.shape,
            pixels,
            labels,
            classes: Arc::clone(&self.classes),
        })
    }

    /// Fails with [`DataError::InvalidArgument`] if any index is `>= len()`.
    pub(crate) fn check_indices(&self, indices: &[usize]) -> Result<(), DataError> {
        DataError::check_indices(indices, self.len(), "images")
    }
}

/// Burn's random-access dataset view, so the set plugs into
/// `burn::data::dataloader::DataLoaderBuilder` unchanged.
impl Dataset<ImageItem> for ImageSet {
    /// # Panics
    /// If `index >= len()`, as the `Dataset` contract (and slice indexing) requires.
    fn get(&self, index: usize) -> Result<ImageItem, DatasetError> {
        match self.item(index) {
            Some(item) => Ok(item),
            None => panic!("Index out of bounds for dataset: {index} >= {}", self.len()),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

/// Class names as shared strings.
pub(crate) fn class_list<S: AsRef<str>>(names: &[S]) -> Arc<[String]> {
    names.iter().map(|s| s.as_ref().to_owned()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> ImageSet {
        // 3 images of 2×1×2: image i has pixels 10i..10i+3.
        let pixels = (0..3u8)
            .flat_map(|i| (0..4).map(move |j| 10 * i + j))
            .collect();
        ImageSet::new(
            ImageShape::new(2, 1, 2),
            pixels,
            vec![0, 1, 1],
            class_list(&["a", "b"]),
        )
        .unwrap()
    }

    #[test]
    fn accessors_and_dataset_view_agree() {
        let s = tiny();
        assert_eq!(s.len(), 3);
        assert_eq!(s.image(1), Some(&[10, 11, 12, 13][..]));
        assert_eq!(s.image(3), None);
        assert_eq!(s.label(2), Some(1));
        assert_eq!(s.class_counts(), vec![1, 2]);
        let item = Dataset::get(&s, 2).unwrap();
        assert_eq!(item.pixels, vec![20, 21, 22, 23]);
        assert_eq!(item.label, 1);
        assert_eq!(Dataset::len(&s), 3);
    }

    #[test]
    fn subset_copies_in_order() {
        let s = tiny().subset(&[2, 0]).unwrap();
        assert_eq!(s.pixels(), &[20, 21, 22, 23, 0, 1, 2, 3]);
        assert_eq!(s.labels(), &[1, 0]);
        assert!(tiny().subset(&[3]).is_err());
    }

    #[test]
    fn new_rejects_inconsistent_parts() {
        let names = class_list(&["a"]);
        let sh = ImageShape::new(1, 1, 2);
        assert!(ImageSet::new(sh, vec![0; 3], vec![0, 0], names.clone()).is_err());
        assert!(ImageSet::new(sh, vec![0; 2], vec![1], names.clone()).is_err());
        assert!(ImageSet::new(ImageShape::new(0, 1, 1), vec![], vec![], names).is_err());
    }
}
