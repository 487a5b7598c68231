//! Per-channel normalisation: `x = (p / 255 - mean[c]) / std[c]`.
//!
//! Mean and std are fitted on a training set (after the validation hold-out,
//! so the validation images stay unseen) and then applied to every split.

use super::{DataError, ImageSet, ImageShape};

/// Per-channel mean and standard deviation, in units of `p / 255` (0..=1).
///
/// Serialisable so a run can record the exact constants it trained with;
/// deserialising re-runs the checks of [`Normalization::new`].
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "RawNormalization")]
pub struct Normalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

/// The unchecked serialised form.
#[derive(serde::Deserialize)]
struct RawNormalization {
    mean: Vec<f32>,
    std: Vec<f32>,
}

impl TryFrom<RawNormalization> for Normalization {
    type Error = DataError;

    fn try_from(raw: RawNormalization) -> Result<Self, DataError> {
        Self::new(raw.mean, raw.std)
    }
}

impl Normalization {
    /// Plain scaling to 0..=1 (mean 0, std 1) for `channels` channels.
    pub fn unit(channels: usize) -> Self {
        Self {
            mean: vec![0.0; channels],
            std: vec![1.0; channels],
        }
    }

    /// Given constants, e.g. published ones.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the lengths differ, are zero, or a
    /// value is not finite or a std is not positive (it divides).
    pub fn new(mean: Vec<f32>, std: Vec<f32>) -> Result<Self, DataError> {
        let ok_lens = mean.len() == std.len() && !mean.is_empty();
        let ok_vals =
            mean.iter().all(|m| m.is_finite()) && std.iter().all(|s| s.is_finite() && *s > 0.0);
        if ok_lens && ok_vals {
            Ok(Self { mean, std })
        } else {
            Err(DataError::InvalidArgument(format!(
                "normalisation needs one finite mean and one positive std per channel, got mean {mean:?}, std {std:?}"
            )))
        }
    }

    /// Mean and (population) std of each channel over every pixel of `set`.
    ///
    /// Sums are exact integers, so the result does not depend on image order.
    /// A channel that is constant over the whole set gets std 1 (centering
    /// only) rather than a division by zero.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an empty set.
    pub fn fit(set: &ImageSet) -> Result<Self, DataError> {
        if set.is_empty() {
            return Err(DataError::InvalidArgument(
                "cannot fit a normalisation on an empty set".to_owned(),
            ));
        }
        let shape = set.shape();
        let mut sum = vec![0u64; shape.channels];
        let mut sum_sq = vec![0u64; shape.channels];
        for (c, plane) in set.pixels().chunks_exact(shape.plane_len()).enumerate() {
            // Per plane in u64: no overflow for any realistic plane size, and
            // the compiler vectorises the two reductions.
            let (s, s2) = plane.iter().fold((0u64, 0u64), |(s, s2), &p| {
                let p = u64::from(p);
                (s + p, s2 + p * p)
            });
            sum[c % shape.channels] += s;
            sum_sq[c % shape.channels] += s2;
        }
        let count = (set.len() * shape.plane_len()) as f64;
        let mut mean = Vec::with_capacity(shape.channels);
        let mut std = Vec::with_capacity(shape.channels);
        for c in 0..shape.channels {
            let m = sum[c] as f64 / count;
            let var = (sum_sq[c] as f64 / count - m * m).max(0.0);
            let s = var.sqrt() / 255.0;
            mean.push((m / 255.0) as f32);
            std.push(if s > 1e-6 { s as f32 } else { 1.0 });
        }
        Ok(Self { mean, std })
    }

    /// Number of channels this normalisation is for.
    pub fn channels(&self) -> usize {
        self.mean.len()
    }

    /// Per-channel means, in `p / 255` units.
    pub fn mean(&self) -> &[f32] {
        &self.mean
    }

    /// Per-channel standard deviations, in `p / 255` units.
    pub fn std(&self) -> &[f32] {
        &self.std
    }

    /// Appends the normalised values of whole CHW images of `shape` to `out`.
    ///
    /// For a Burn `Batcher` that receives [`ImageItem`](super::ImageItem)s;
    /// [`ImageSet::fill_batch`] does the same straight from the set.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the channel counts differ or
    /// `pixels` is not a whole number of images.
    pub fn append_images(
        &self,
        shape: ImageShape,
        pixels: &[u8],
        out: &mut Vec<f32>,
    ) -> Result<(), DataError> {
        self.check_channels(shape)?;
        if shape.image_len() == 0 || !pixels.len().is_multiple_of(shape.image_len()) {
            return Err(DataError::InvalidArgument(format!(
                "{} pixels are not a whole number of {shape} images",
                pixels.len()
            )));
        }
        out.reserve(pixels.len());
        let (scale, offset) = self.scale_offset();
        for (k, plane) in pixels.chunks_exact(shape.plane_len()).enumerate() {
            let c = k % shape.channels;
            push_plane(plane, scale[c], offset[c], out);
        }
        Ok(())
    }

    /// The per-channel `(scale, offset)` with `x = p × scale + offset`: the one multiply-add
    /// training applies to a pixel `p`, which an exported model must repeat exactly.
    pub fn scale_offset(&self) -> (Vec<f32>, Vec<f32>) {
        let scale = self.std.iter().map(|s| 1.0 / (255.0 * s)).collect();
        let offset = self
            .mean
            .iter()
            .zip(&self.std)
            .map(|(m, s)| -m / s)
            .collect();
        (scale, offset)
    }

    pub(crate) fn check_channels(&self, shape: ImageShape) -> Result<(), DataError> {
        if self.channels() == shape.channels {
            Ok(())
        } else {
            Err(DataError::InvalidArgument(format!(
                "normalisation has {} channels, images are {shape}",
                self.channels()
            )))
        }
    }
}

/// Appends one normalised channel plane.
///
/// A plain multiply and add, not `mul_add`: without the `fma` target feature
/// (the default x86-64 target) `mul_add` is a slow library call.
#[inline]
pub(crate) fn push_plane(plane: &[u8], scale: f32, offset: f32, out: &mut Vec<f32>) {
    out.extend(plane.iter().map(|&p| f32::from(p) * scale + offset));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vision::image_set::class_list;

    #[test]
    fn fit_matches_direct_formula() {
        // Two 2-channel 1×2 images: channel 0 values {0, 255, 0, 255}, channel 1 all 51.
        let set = ImageSet::new(
            ImageShape::new(2, 1, 2),
            vec![0, 255, 51, 51, 0, 255, 51, 51],
            vec![0, 0],
            class_list(&["x"]),
        )
        .unwrap();
        let n = Normalization::fit(&set).unwrap();
        assert!((n.mean()[0] - 0.5).abs() < 1e-6);
        assert!((n.std()[0] - 0.5).abs() < 1e-6);
        assert!((n.mean()[1] - 0.2).abs() < 1e-6);
        assert_eq!(n.std()[1], 1.0, "constant channel gets std 1");
        let mut out = Vec::new();
        n.append_images(set.shape(), set.image(0).unwrap(), &mut out)
            .unwrap();
        let want = [-1.0, 1.0, 0.0, 0.0];
        for (a, b) in out.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{out:?}");
        }
    }

    #[test]
    fn serde_round_trip_revalidates() {
        let n = Normalization::new(vec![0.5, 0.25], vec![0.2, 0.1]).unwrap();
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(serde_json::from_str::<Normalization>(&json).unwrap(), n);
        let bad = r#"{"mean":[0.5,0.5],"std":[0.2]}"#;
        assert!(serde_json::from_str::<Normalization>(bad).is_err());
    }

    #[test]
    fn rejects_bad_constants_and_shapes() {
        assert!(Normalization::new(vec![0.0], vec![0.0]).is_err());
        assert!(Normalization::new(vec![0.0, 1.0], vec![1.0]).is_err());
        assert!(Normalization::new(vec![], vec![]).is_err());
        let n = Normalization::unit(3);
        let mut out = Vec::new();
        assert!(
            n.append_images(ImageShape::new(1, 2, 2), &[0; 4], &mut out)
                .is_err()
        );
        assert!(
            n.append_images(ImageShape::new(3, 1, 1), &[0; 4], &mut out)
                .is_err()
        );
    }
}
