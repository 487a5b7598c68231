//! Log-mel spectrograms from PCM samples, computed as training computed them
//! (`sprig_data::audio::LogMel`): the clip cut or padded with silence to its length,
//! periodic Hann windows, the power spectrum, a triangular filterbank on the HTK mel
//! scale, the natural log of each band's energy plus a floor. Without `std`, so a device
//! turns its microphone's samples into a keyword spotter's input with the same numbers.

use alloc::vec::Vec;
use core::f32::consts::PI;

use crate::RuntimeError;
use crate::error::invalid;

/// Added before the log, so silence is a finite floor (training's value).
const LOG_FLOOR: f32 = 1e-6;

/// How a clip becomes a `[frames, mels]` spectrogram (training's `FeatureConfig`).
#[derive(Debug, Clone, Copy, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct LogMelConfig {
    /// The samples' rate, per second (a device records at it; training resampled to it).
    pub sample_rate: u32,
    /// Clips are cut or padded with silence at the end to this length.
    pub duration_ms: u32,
    /// FFT window, samples.
    pub window: usize,
    /// Step between windows, samples.
    pub hop: usize,
    /// Mel bands.
    pub mels: usize,
    /// Lowest frequency of the filterbank, Hz.
    pub fmin: f32,
    /// Highest frequency of the filterbank, Hz.
    pub fmax: f32,
}

impl LogMelConfig {
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
    /// [`RuntimeError::Invalid`] naming the settings.
    pub fn check(&self) -> Result<(), RuntimeError> {
        let nyquist = self.sample_rate as f32 / 2.0;
        let ok = self.sample_rate > 0
            && self.duration_ms > 0
            && self.window >= 2
            && self.hop > 0
            && self.clip_len() >= self.window
            && self.clip_len() <= 1 << 24
            && self.mels > 0
            && self.mels <= self.window / 2
            && 0.0 <= self.fmin
            && self.fmin < self.fmax
            && self.fmax <= nyquist;
        if ok {
            Ok(())
        } else {
            Err(invalid(alloc::format!(
                "log-mel settings that describe no spectrogram: {self:?}"
            )))
        }
    }
}

/// A prepared log-mel extractor: window, filterbank and FFT factors made once.
#[derive(Debug, Clone, PartialEq)]
pub struct LogMel {
    config: LogMelConfig,
    hann: Vec<f32>,
    /// Per mel band: its first FFT bin and the weights from there.
    filters: Vec<(usize, Vec<f32>)>,
    /// `e^{-2πik/n}` for `k < n/2`, as (cos, sin).
    twiddles: Vec<(f32, f32)>,
}

fn hz_to_mel(hz: f32) -> f32 {
    2595.0 * libm::log10f(1.0 + hz / 700.0)
}

fn mel_to_hz(mel: f32) -> f32 {
    700.0 * (libm::powf(10.0, mel / 2595.0) - 1.0)
}

impl LogMel {
    /// An extractor for `config`.
    ///
    /// # Errors
    /// [`RuntimeError::Invalid`] for settings that describe no spectrogram.
    pub fn new(config: LogMelConfig) -> Result<Self, RuntimeError> {
        config.check()?;
        let n = config.window;
        // Periodic Hann window.
        let hann = (0..n)
            .map(|i| 0.5 - 0.5 * libm::cosf(2.0 * PI * i as f32 / n as f32))
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
                match weights.first() {
                    Some(&(first, _)) => (first, weights.iter().map(|w| w.1).collect()),
                    None => {
                        let b = (libm::roundf(e[1] / bin_hz) as usize).min(bins - 1);
                        (b, alloc::vec![1.0])
                    }
                }
            })
            .collect();
        let twiddles = (0..n / 2)
            .map(|k| {
                let angle = -2.0 * core::f64::consts::PI * k as f64 / n as f64;
                (libm::cos(angle) as f32, libm::sin(angle) as f32)
            })
            .collect();
        Ok(Self {
            config,
            hann,
            filters,
            twiddles,
        })
    }

    /// The settings.
    pub fn config(&self) -> &LogMelConfig {
        &self.config
    }

    /// Appends the `[frames, mels]` log-mel spectrogram of `samples` (mono, in [-1, 1],
    /// at the configured rate; cut or padded here) to `out`.
    pub fn extend(&self, samples: &[f32], out: &mut Vec<f32>) {
        let (len, n) = (self.config.clip_len(), self.config.window);
        let sample = |i: usize| samples.get(i).copied().filter(|_| i < len).unwrap_or(0.0);
        let mut re = alloc::vec![0.0f32; n];
        let mut im = alloc::vec![0.0f32; n];
        let mut power = alloc::vec![0.0f32; n / 2 + 1];
        for f in 0..self.config.frames() {
            let start = f * self.config.hop;
            for (i, (r, w)) in re.iter_mut().zip(&self.hann).enumerate() {
                *r = sample(start + i) * w;
            }
            im.fill(0.0);
            self.dft(&mut re, &mut im);
            for (k, p) in power.iter_mut().enumerate() {
                *p = re[k] * re[k] + im[k] * im[k];
            }
            out.extend(self.filters.iter().map(|(first, weights)| {
                let energy: f32 = power[*first..]
                    .iter()
                    .zip(weights)
                    .map(|(p, w)| p * w)
                    .sum();
                libm::logf(energy + LOG_FLOOR)
            }));
        }
    }

    /// The discrete Fourier transform of `(re, im)` in place: radix-2 when the window is a
    /// power of two, the direct sum otherwise.
    fn dft(&self, re: &mut [f32], im: &mut [f32]) {
        let n = re.len();
        if n.is_power_of_two() {
            fft_radix2(re, im, &self.twiddles);
            return;
        }
        let (x_re, x_im) = (re.to_vec(), im.to_vec());
        for k in 0..=n / 2 {
            let (mut sr, mut si) = (0.0f64, 0.0f64);
            for t in 0..n {
                let angle = -2.0 * core::f64::consts::PI * ((k * t) % n) as f64 / n as f64;
                let (c, s) = (libm::cos(angle), libm::sin(angle));
                sr += f64::from(x_re[t]) * c - f64::from(x_im[t]) * s;
                si += f64::from(x_re[t]) * s + f64::from(x_im[t]) * c;
            }
            re[k] = sr as f32;
            im[k] = si as f32;
        }
    }
}

/// Iterative radix-2 decimation-in-time FFT; `twiddles[k] = e^{-2πik/n}`.
fn fft_radix2(re: &mut [f32], im: &mut [f32], twiddles: &[(f32, f32)]) {
    let n = re.len();
    let bits = n.trailing_zeros();
    for i in 0..n {
        let j = i.reverse_bits() >> (usize::BITS - bits);
        if i < j {
            re.swap(i, j);
            im.swap(i, j);
        }
    }
    let mut size = 2;
    while size <= n {
        let (half, step) = (size / 2, n / size);
        for start in (0..n).step_by(size) {
            for k in 0..half {
                let (c, s) = twiddles[k * step];
                let (a, b) = (start + k, start + k + half);
                let tr = re[b] * c - im[b] * s;
                let ti = re[b] * s + im[b] * c;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] += tr;
                im[a] += ti;
            }
        }
        size *= 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits() -> LogMelConfig {
        LogMelConfig {
            sample_rate: 8_000,
            duration_ms: 1_000,
            window: 256,
            hop: 128,
            mels: 40,
            fmin: 20.0,
            fmax: 4_000.0,
        }
    }

    #[test]
    fn the_fft_is_the_direct_sum() {
        let mel = LogMel::new(digits()).unwrap();
        let x: Vec<f32> = (0..256)
            .map(|i| libm::sinf(i as f32 * 0.37) + 0.1)
            .collect();
        let (mut re, mut im) = (x.clone(), alloc::vec![0.0; 256]);
        mel.dft(&mut re, &mut im);
        for k in [0, 1, 17, 100, 128] {
            let (mut sr, mut si) = (0.0f64, 0.0f64);
            for (t, &v) in x.iter().enumerate() {
                let a = -2.0 * core::f64::consts::PI * (k * t) as f64 / 256.0;
                sr += f64::from(v) * libm::cos(a);
                si += f64::from(v) * libm::sin(a);
            }
            assert!(
                (f64::from(re[k]) - sr).abs() < 1e-3,
                "bin {k}: {} vs {sr}",
                re[k]
            );
            assert!(
                (f64::from(im[k]) - si).abs() < 1e-3,
                "bin {k}: {} vs {si}",
                im[k]
            );
        }
    }

    #[test]
    fn a_tone_lights_its_band_and_silence_is_the_floor() {
        let mel = LogMel::new(digits()).unwrap();
        let tone: Vec<f32> = (0..4_000)
            .map(|i| libm::sinf(2.0 * PI * 1_000.0 * i as f32 / 8_000.0))
            .collect();
        let mut out = Vec::new();
        mel.extend(&tone, &mut out);
        assert_eq!(out.len(), 61 * 40);
        let frame = &out[5 * 40..6 * 40];
        let loudest = (0..40).fold(0, |b, i| if frame[i] > frame[b] { i } else { b });
        let (lo, hi) = (hz_to_mel(20.0), hz_to_mel(4_000.0));
        let centre = mel_to_hz(lo + (hi - lo) * (loudest + 1) as f32 / 41.0);
        assert!(
            (centre - 1_000.0).abs() < 120.0,
            "band {loudest} at {centre} Hz"
        );
        let floor = libm::logf(LOG_FLOOR);
        assert!(out[60 * 40..].iter().all(|&v| (v - floor).abs() < 1e-3));
    }

    #[test]
    fn settings_that_describe_no_spectrogram_are_errors() {
        let good = digits();
        for bad in [
            LogMelConfig { hop: 0, ..good },
            LogMelConfig { mels: 200, ..good },
            LogMelConfig {
                fmax: 5_000.0,
                ..good
            },
            LogMelConfig {
                duration_ms: 10,
                ..good
            },
            LogMelConfig {
                sample_rate: u32::MAX,
                duration_ms: u32::MAX,
                ..good
            },
        ] {
            assert!(LogMel::new(bad).is_err(), "{bad:?}");
        }
    }
}
