//! Spectrograms in memory: `[1, frames, mels]` f32 images with labels and speakers, their
//! normalisation, and the batch path.

use std::sync::Arc;

use burn_dataset::{Dataset, DatasetError};
use serde::{Deserialize, Serialize};

use crate::DataError;

/// One example, as Burn's [`Dataset`] hands it out.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureItem {
    /// `frames × mels` log-mel values, frame-major.
    pub values: Vec<f32>,
    /// Class index.
    pub label: usize,
}

/// Log-mel spectrograms of one split.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureSet {
    frames: usize,
    mels: usize,
    values: Vec<f32>,
    labels: Vec<u16>,
    /// Who spoke each example (an index into `speakers`), for speaker-held-out splits.
    speaker_of: Vec<u16>,
    classes: Arc<[String]>,
    speakers: Arc<[String]>,
}

impl FeatureSet {
    /// A set of `labels.len()` spectrograms of `frames × mels`.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] if the sizes disagree or a label or speaker is out
    /// of range.
    pub fn new(
        [frames, mels]: [usize; 2],
        values: Vec<f32>,
        labels: Vec<u16>,
        speaker_of: Vec<u16>,
        classes: Arc<[String]>,
        speakers: Arc<[String]>,
    ) -> Result<Self, DataError> {
        let per = frames * mels;
        if per == 0
            || Some(values.len()) != labels.len().checked_mul(per)
            || speaker_of.len() != labels.len()
        {
            return Err(DataError::InvalidArgument(format!(
                "{} values, {} labels and {} speakers do not make spectrograms of {frames} × {mels}",
                values.len(),
                labels.len(),
                speaker_of.len()
            )));
        }
        if labels.iter().any(|&l| usize::from(l) >= classes.len())
            || speaker_of.iter().any(|&s| usize::from(s) >= speakers.len())
        {
            return Err(DataError::InvalidArgument(
                "a label or speaker index is out of range".into(),
            ));
        }
        Ok(Self {
            frames,
            mels,
            values,
            labels,
            speaker_of,
            classes,
            speakers,
        })
    }

    /// Number of examples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// `[1, frames, mels]`: one spectrogram as a one-channel image.
    pub fn shape(&self) -> [usize; 3] {
        [1, self.frames, self.mels]
    }

    /// Class names, by label.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Speaker names, by speaker index.
    pub fn speakers(&self) -> &[String] {
        &self.speakers
    }

    /// Every label, in order.
    pub fn labels(&self) -> &[u16] {
        &self.labels
    }

    /// The speaker of every example, in order.
    pub fn speaker_of(&self) -> &[u16] {
        &self.speaker_of
    }

    /// The spectrogram of example `index`, frame-major.
    pub fn example(&self, index: usize) -> Option<&[f32]> {
        let per = self.frames * self.mels;
        (index < self.len()).then(|| &self.values[index * per..(index + 1) * per])
    }

    /// The examples at `indices`, in that order.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an index past the end.
    pub fn subset(&self, indices: &[usize]) -> Result<Self, DataError> {
        DataError::check_indices(indices, self.len(), "spectrograms")?;
        let per = self.frames * self.mels;
        let mut values = Vec::with_capacity(indices.len() * per);
        for &i in indices {
            values.extend_from_slice(&self.values[i * per..(i + 1) * per]);
        }
        Ok(Self {
            values,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            speaker_of: indices.iter().map(|&i| self.speaker_of[i]).collect(),
            ..self.clone_empty()
        })
    }

    fn clone_empty(&self) -> Self {
        Self {
            frames: self.frames,
            mels: self.mels,
            values: Vec::new(),
            labels: Vec::new(),
            speaker_of: Vec::new(),
            classes: self.classes.clone(),
            speakers: self.speakers.clone(),
        }
    }

    /// Writes the normalised spectrograms of `indices` (`[n, 1, frames, mels]`) and their
    /// labels into reused buffers, replacing their contents.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an index past the end or a normalisation of
    /// another band count (the buffers are then left empty).
    pub fn fill_batch(
        &self,
        indices: &[usize],
        norm: &FeatureNorm,
        values: &mut Vec<f32>,
        labels: &mut Vec<i64>,
    ) -> Result<(), DataError> {
        values.clear();
        labels.clear();
        DataError::check_indices(indices, self.len(), "spectrograms")?;
        if norm.mean.len() != self.mels {
            return Err(DataError::InvalidArgument(format!(
                "a normalisation of {} bands for spectrograms of {}",
                norm.mean.len(),
                self.mels
            )));
        }
        let per = self.frames * self.mels;
        for &i in indices {
            for frame in self.values[i * per..(i + 1) * per].chunks_exact(self.mels) {
                values.extend(
                    frame
                        .iter()
                        .zip(norm.mean.iter().zip(&norm.inv_std))
                        .map(|(v, (m, k))| (v - m) * k),
                );
            }
            labels.push(i64::from(self.labels[i]));
        }
        Ok(())
    }
}

/// Per-band mean and standard deviation, fitted on the training split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureNorm {
    /// Mean of each mel band.
    pub mean: Vec<f32>,
    /// 1 / standard deviation of each band (1 for a constant band).
    pub inv_std: Vec<f32>,
}

impl FeatureNorm {
    /// The per-band statistics of `set`.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for an empty set.
    pub fn fit(set: &FeatureSet) -> Result<Self, DataError> {
        if set.is_empty() {
            return Err(DataError::InvalidArgument(
                "cannot fit a normalisation on no spectrograms".into(),
            ));
        }
        let mels = set.mels;
        let (mut sum, mut sq) = (vec![0.0f64; mels], vec![0.0f64; mels]);
        for frame in set.values.chunks_exact(mels) {
            for (b, &v) in frame.iter().enumerate() {
                sum[b] += f64::from(v);
                sq[b] += f64::from(v) * f64::from(v);
            }
        }
        let n = (set.values.len() / mels) as f64;
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let inv_std = sq
            .iter()
            .zip(&mean)
            .map(|(q, m)| {
                let var = (q / n - m * m).max(0.0);
                if var > 1e-12 {
                    (1.0 / var.sqrt()) as f32
                } else {
                    1.0
                }
            })
            .collect();
        Ok(Self {
            mean: mean.iter().map(|&m| m as f32).collect(),
            inv_std,
        })
    }
}

/// Burn's random-access dataset view.
impl Dataset<FeatureItem> for FeatureSet {
    /// # Panics
    /// If `index >= len()`, as the `Dataset` contract (and slice indexing) requires.
    fn get(&self, index: usize) -> Result<FeatureItem, DatasetError> {
        match self.example(index) {
            Some(values) => Ok(FeatureItem {
                values: values.to_vec(),
                label: usize::from(self.labels[index]),
            }),
            None => panic!("Index out of bounds for dataset: {index} >= {}", self.len()),
        }
    }

    fn len(&self) -> usize {
        self.labels.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set() -> FeatureSet {
        let names = |v: &[&str]| -> Arc<[String]> { v.iter().map(|s| s.to_string()).collect() };
        // 3 examples of 2 frames × 2 bands.
        FeatureSet::new(
            [2, 2],
            vec![
                1.0, 10.0, 3.0, 10.0, 5.0, 10.0, 7.0, 10.0, 9.0, 10.0, 11.0, 10.0,
            ],
            vec![0, 1, 1],
            vec![1, 0, 1],
            names(&["zero", "one"]),
            names(&["ann", "bob"]),
        )
        .unwrap()
    }

    #[test]
    fn normalisation_subsets_and_batches() {
        let s = set();
        let norm = FeatureNorm::fit(&s).unwrap();
        assert_eq!(norm.mean, [6.0, 10.0]);
        assert_eq!(norm.inv_std[1], 1.0, "a constant band is left as it is");
        let (mut v, mut l) = (Vec::new(), Vec::new());
        s.fill_batch(&[2, 0], &norm, &mut v, &mut l).unwrap();
        assert_eq!(l, [1, 0]);
        assert_eq!(v.len(), 8);
        assert!((v[0] - 3.0 * norm.inv_std[0]).abs() < 1e-6 && v[1] == 0.0);
        let sub = s.subset(&[1]).unwrap();
        assert_eq!(
            (sub.example(0), sub.speaker_of()),
            (Some(&[5.0, 10.0, 7.0, 10.0][..]), &[0][..])
        );
        assert!(s.fill_batch(&[3], &norm, &mut v, &mut l).is_err());
        assert!(v.is_empty());
        let wrong = FeatureNorm {
            mean: vec![0.0],
            inv_std: vec![1.0],
        };
        assert!(s.fill_batch(&[0], &wrong, &mut v, &mut l).is_err());
    }
}
