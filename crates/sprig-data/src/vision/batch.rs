//! The trainer's batch path: normalised f32 straight into reused buffers.
//!
//! Going through `Dataset::get` costs one `Vec` per image plus a second pass
//! to convert; for MNIST-sized models that is a visible share of a step. Here
//! one call writes a whole batch, and the caller keeps the two buffers across
//! steps so the steady state allocates nothing.

use std::ops::Range;

use super::normalize::push_plane;
use super::{DataError, ImageSet, Normalization};

impl ImageSet {
    /// Writes the images at `indices` (normalised, CHW, in that order) into
    /// `images` and their labels into `labels`, replacing previous contents.
    ///
    /// Afterwards `images.len() == indices.len() * shape().image_len()`, ready
    /// for a tensor of shape `[indices.len(), C, H, W]`, and
    /// `labels.len() == indices.len()`. Capacity is kept, so reusing the
    /// buffers across steps allocates only on the first (largest) batch.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if an index is past the end or `norm`
    /// is for another channel count; the buffers are then left empty.
    pub fn fill_batch(
        &self,
        indices: &[usize],
        norm: &Normalization,
        images: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        images.clear();
        labels.clear();
        self.check_indices(indices)?;
        self.fill(indices.iter().copied(), norm, images, labels)
    }

    /// [`fill_batch`](Self::fill_batch) for the consecutive images `range`:
    /// the evaluation path, which walks a set in order without building an
    /// index list.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the range ends past the set or `norm`
    /// is for another channel count; the buffers are then left empty.
    pub fn fill_batch_range(
        &self,
        range: Range<usize>,
        norm: &Normalization,
        images: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        images.clear();
        labels.clear();
        if range.end > self.len() {
            return Err(DataError::InvalidArgument(format!(
                "range {range:?} ends past a set of {} images",
                self.len()
            )));
        }
        self.fill(range, norm, images, labels)
    }

    /// Shared body; `indices` are already known to be in range.
    fn fill(
        &self,
        indices: impl ExactSizeIterator<Item = usize>,
        norm: &Normalization,
        images: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        norm.check_channels(self.shape())?;
        let shape = self.shape();
        let plane = shape.plane_len();
        let n = shape.image_len();
        let (scale, offset) = norm.scale_offset();
        images.reserve(indices.len() * n);
        labels.reserve(indices.len());
        let pixels = self.pixels();
        let all_labels = self.labels();
        for i in indices {
            let image = &pixels[i * n..(i + 1) * n];
            for (c, chan) in image.chunks_exact(plane).enumerate() {
                push_plane(chan, scale[c], offset[c], images);
            }
            labels.push(i64::from(all_labels[i]));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::vision::image_set::class_list;
    use crate::vision::{ImageSet, ImageShape, Normalization};

    #[test]
    fn fill_batch_matches_per_item_normalisation_and_reuses_buffers() {
        let shape = ImageShape::new(3, 2, 2);
        let pixels: Vec<u8> = (0..4 * 12).map(|i| (i * 5) as u8).collect();
        let set = ImageSet::new(
            shape,
            pixels,
            vec![0, 1, 2, 1],
            class_list(&["a", "b", "c"]),
        )
        .unwrap();
        let norm = Normalization::fit(&set).unwrap();
        let (mut x, mut y) = (Vec::new(), Vec::new());
        set.fill_batch(&[3, 0, 3], &norm, &mut x, &mut y).unwrap();
        assert_eq!(y, vec![1, 0, 1]);
        let mut want = Vec::new();
        for i in [3, 0, 3] {
            norm.append_images(shape, set.image(i).unwrap(), &mut want)
                .unwrap();
        }
        assert_eq!(x, want);
        for (k, v) in x.iter().enumerate() {
            let (img, c) = ([3, 0, 3][k / 12], (k % 12) / 4);
            let p = f32::from(set.image(img).unwrap()[k % 12]);
            let direct = (p / 255.0 - norm.mean()[c]) / norm.std()[c];
            assert!((v - direct).abs() < 1e-5);
        }
        let cap = x.capacity();
        set.fill_batch(&[1], &norm, &mut x, &mut y).unwrap();
        assert_eq!((x.len(), y.len(), x.capacity()), (12, 1, cap));
        assert!(set.fill_batch(&[4], &norm, &mut x, &mut y).is_err());
        assert!(x.is_empty() && y.is_empty());
        assert!(
            set.fill_batch(&[0], &Normalization::unit(1), &mut x, &mut y)
                .is_err()
        );
        let (mut x2, mut y2) = (Vec::new(), Vec::new());
        set.fill_batch_range(1..4, &norm, &mut x, &mut y).unwrap();
        set.fill_batch(&[1, 2, 3], &norm, &mut x2, &mut y2).unwrap();
        assert_eq!((x, y), (x2, y2));
        let (mut x, mut y) = (Vec::new(), Vec::new());
        assert!(set.fill_batch_range(2..5, &norm, &mut x, &mut y).is_err());
        assert!(set.fill_batch_range(4..4, &norm, &mut x, &mut y).is_ok());
    }
}
