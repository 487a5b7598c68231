//! Log-mel spectrograms: Hann-windowed frames, an FFT, a triangular mel filterbank (HTK
//! mel scale), natural log — computed by `sprig_runtime::LogMel`, the extractor a device
//! runs, so a deployed keyword spotter sees the features it was trained on.

use serde::{Deserialize, Serialize};

use crate::DataError;

/// How a clip becomes a `[frames, mels]` image. Part of the feature cache's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureConfig {
    /// Every clip is resampled to this rate first.
    pub sample_rate: u32,
    /// Clips are cut or padded (with silence at the end) to this length.
    pub duration_ms: u32,
    /// FFT window, samples.
    pub window: usize,
    /// Step between windows, samples.
    pub hop: usize,
    /// Mel bands.
    pub mels: usize,
    /// Lowest frequency of the filterbank, Hz.
    pub fmin: f32,
    /// Highest frequency of the filterbank, Hz (at most half the sample rate).
    pub fmax: f32,
}

impl FeatureConfig {
    /// For spoken digits at 8 kHz: 1 s clips, 32 ms windows every 16 ms (61 frames), 40
    /// mel bands from 20 Hz to 4 kHz.
    pub fn spoken_digits() -> Self {
        Self {
            sample_rate: 8_000,
            duration_ms: 1_000,
            window: 256,
            hop: 128,
            mels: 40,
            fmin: 20.0,
            fmax: 4_000.0,
        }
    }

    /// Samples per clip.
    pub fn clip_len(&self) -> usize {
        (u64::from(self.sample_rate) * u64::from(self.duration_ms) / 1000) as usize
    }

    /// Frames per clip.
    pub fn frames(&self) -> usize {
        1 + self.clip_len().saturating_sub(self.window) / self.hop.max(1)
    }

    /// Checks that the numbers describe a spectrogram.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] saying which setting is wrong.
    pub fn check(&self) -> Result<(), DataError> {
        let nyquist = self.sample_rate as f32 / 2.0;
        let problem = if self.sample_rate == 0 || self.duration_ms == 0 {
            Some("sample rate and duration must be positive".to_string())
        } else if self.window < 2 || self.hop == 0 {
            Some("the window needs at least 2 samples and the hop at least 1".into())
        } else if self.clip_len() < self.window {
            Some(format!(
                "a clip of {} samples is shorter than one window of {}",
                self.clip_len(),
                self.window
            ))
        } else if self.mels == 0 || self.mels > self.window / 2 {
            Some(format!(
                "{} mel bands do not fit {} FFT bins",
                self.mels,
                self.window / 2 + 1
            ))
        } else if !(0.0 <= self.fmin && self.fmin < self.fmax && self.fmax <= nyquist) {
            Some(format!(
                "need 0 ≤ fmin < fmax ≤ {nyquist} Hz, not {} .. {}",
                self.fmin, self.fmax
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |p| {
            Err(DataError::InvalidArgument(format!("features: {p}")))
        })
    }
}

/// A prepared log-mel extractor: `sprig_runtime::LogMel`, the one a device runs on its
/// recorded samples, so training's features and a device's are the same computation.
#[derive(Debug, Clone)]
pub struct LogMel {
    config: FeatureConfig,
    extractor: sprig_runtime::LogMel,
}

impl From<&FeatureConfig> for sprig_runtime::LogMelConfig {
    fn from(c: &FeatureConfig) -> Self {
        Self {
            sample_rate: c.sample_rate,
            duration_ms: c.duration_ms,
            window: c.window,
            hop: c.hop,
            mels: c.mels,
            fmin: c.fmin,
            fmax: c.fmax,
        }
    }
}

impl LogMel {
    /// An extractor for `config`.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for a configuration that is not a spectrogram.
    pub fn new(config: FeatureConfig) -> Result<Self, DataError> {
        config.check()?;
        let extractor = sprig_runtime::LogMel::new((&config).into())
            .map_err(|e| DataError::InvalidArgument(format!("features: {e}")))?;
        Ok(Self { config, extractor })
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Appends the `[frames, mels]` log-mel spectrogram of `samples` (already at the
    /// configured rate; cut or padded to the configured duration here) to `out`.
    pub fn extend(&self, samples: &[f32], out: &mut Vec<f32>) {
        self.extractor.extend(samples, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn impossible_configurations_are_errors() {
        let good = FeatureConfig::spoken_digits();
        for bad in [
            FeatureConfig {
                hop: 0,
                ..good.clone()
            },
            FeatureConfig {
                mels: 200,
                ..good.clone()
            },
            FeatureConfig {
                fmax: 5_000.0,
                ..good.clone()
            },
            FeatureConfig {
                duration_ms: 10,
                ..good.clone()
            },
        ] {
            assert!(LogMel::new(bad).is_err());
        }
    }
}
