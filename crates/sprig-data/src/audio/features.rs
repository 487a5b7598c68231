//! Log-mel spectrograms: Hann-windowed frames, a real FFT (`realfft`), a triangular mel
//! filterbank (HTK mel scale), natural log.

use std::f32::consts::PI;
use std::sync::Arc;

use realfft::{RealFftPlanner, RealToComplex};
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

/// A prepared log-mel extractor (window, filterbank and FFT plan made once; share it
/// across threads).
#[derive(Clone)]
pub struct LogMel {
    config: FeatureConfig,
    hann: Vec<f32>,
    /// Per mel band: first FFT bin and the weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    fft: Arc<dyn RealToComplex<f32>>,
}

impl std::fmt::Debug for LogMel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LogMel")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * (1.0 + hz / 700.0).log10()
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (10f32.powf(mel / 2595.0) - 1.0)
}

/// Added before the log, so silence is a finite floor.
const LOG_FLOOR: f32 = 1e-6;

impl LogMel {
    /// An extractor for `config`.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for a configuration that is not a spectrogram.
    pub fn new(config: FeatureConfig) -> Result<Self, DataError> {
        config.check()?;
        let n = config.window;
        // Periodic Hann window.
        let hann = (0..n)
            .map(|i| 0.5 - 0.5 * (2.0 * PI * i as f32 / n as f32).cos())
            .collect();
        let bins = n / 2 + 1;
        let bin_hz = config.sample_rate as f32 / n as f32;
        let (lo, hi) = (hz_to_mel(config.fmin), hz_to_mel(config.fmax));
        let edges: Vec<f32> = (0..config.mels + 2)
            .map(|i| mel_to_hz(lo + (hi - lo) * i as f32 / (config.mels + 1) as f32))
            .collect();
        let filters = edges
            .windows(3)
            .map(|e| {
                let weights: Vec<(usize, f32)> = (0..bins)
                    .filter_map(|b| {
                        let f = b as f32 * bin_hz;
                        let w = if f <= e[1] {
                            (f - e[0]) / (e[1] - e[0])
                        } else {
                            (e[2] - f) / (e[2] - e[1])
                        };
                        (w > 0.0).then_some((b, w))
                    })
                    .collect();
                // A band narrower than one bin still takes the bin nearest its centre.
                if weights.is_empty() {
                    let b = ((e[1] / bin_hz).round() as usize).min(bins - 1);
                    (b, vec![1.0])
                } else {
                    (weights[0].0, weights.iter().map(|w| w.1).collect())
                }
            })
            .collect();
        let fft = RealFftPlanner::<f32>::new().plan_fft_forward(n);
        Ok(Self {
            config,
            hann,
            filters,
            fft,
        })
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        &self.config
    }

    /// Appends the `[frames, mels]` log-mel spectrogram of `samples` (already at the
    /// configured rate; cut or padded to the configured duration here) to `out`.
    pub fn extend(&self, samples: &[f32], out: &mut Vec<f32>) {
        let len = self.config.clip_len();
        let mut clip = samples[..samples.len().min(len)].to_vec();
        clip.resize(len, 0.0);
        let mut frame = self.fft.make_input_vec();
        let mut spectrum = self.fft.make_output_vec();
        let mut power = vec![0.0f32; spectrum.len()];
        for f in 0..self.config.frames() {
            let start = f * self.config.hop;
            for ((x, &s), &w) in frame
                .iter_mut()
                .zip(&clip[start..start + self.config.window])
                .zip(&self.hann)
            {
                *x = s * w;
            }
            // Lengths come from the plan itself, so processing cannot fail.
            if self.fft.process(&mut frame, &mut spectrum).is_err() {
                out.extend(std::iter::repeat_n(LOG_FLOOR.ln(), self.config.mels));
                continue;
            }
            for (p, c) in power.iter_mut().zip(&spectrum) {
                *p = c.norm_sqr();
            }
            out.extend(self.filters.iter().map(|(first, weights)| {
                let energy: f32 = power[*first..]
                    .iter()
                    .zip(weights)
                    .map(|(p, w)| p * w)
                    .sum();
                (energy + LOG_FLOOR).ln()
            }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_lights_the_band_that_holds_it() {
        let config = FeatureConfig::spoken_digits();
        let mel = LogMel::new(config.clone()).unwrap();
        assert_eq!(config.frames(), 61);
        let tone: Vec<f32> = (0..4_000)
            .map(|i| (2.0 * PI * 1_000.0 * i as f32 / 8_000.0).sin())
            .collect();
        let mut out = Vec::new();
        mel.extend(&tone, &mut out);
        assert_eq!(out.len(), 61 * 40);
        // Frame 5 is inside the tone: its loudest band contains 1 kHz.
        let frame = &out[5 * 40..6 * 40];
        let loudest = (0..40)
            .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
            .unwrap();
        let lo = hz_to_mel(20.0);
        let step = (hz_to_mel(4_000.0) - lo) / 41.0;
        let centre = mel_to_hz(lo + step * (loudest + 1) as f32);
        assert!(
            (centre - 1_000.0).abs() < 120.0,
            "band {loudest} at {centre} Hz"
        );
        // The padded second half is silence: the floor.
        let last = &out[60 * 40..];
        assert!(last.iter().all(|&v| (v - LOG_FLOOR.ln()).abs() < 1e-3));
    }

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
