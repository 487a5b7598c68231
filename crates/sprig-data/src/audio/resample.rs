//! Sample-rate conversion by windowed-sinc interpolation, for data sets whose files were
//! recorded at different rates.

use std::f64::consts::PI;

/// Zero crossings of the sinc kernel on each side: ±16 input periods.
const HALF_WIDTH: f64 = 16.0;

/// `samples` at `from` Hz, resampled to `to` Hz: each output sample is the input convolved
/// with a Hann-windowed sinc low-pass at the lower of the two Nyquist frequencies (so
/// downsampling does not alias). Equal rates return the input unchanged.
pub fn resample(samples: &[f32], from: u32, to: u32) -> Vec<f32> {
    if from == to || samples.is_empty() || from == 0 || to == 0 {
        return samples.to_vec();
    }
    let ratio = f64::from(to) / f64::from(from);
    // Cut-off relative to the input rate (1 = its Nyquist frequency).
    let cutoff = ratio.min(1.0);
    let out_len = ((samples.len() as f64) * ratio).round() as usize;
    let reach = HALF_WIDTH / cutoff;
    (0..out_len)
        .map(|i| {
            let centre = i as f64 / ratio;
            let first = (centre - reach).ceil().max(0.0) as usize;
            let last = ((centre + reach).floor() as usize).min(samples.len() - 1);
            let mut sum = 0.0;
            for (j, &s) in samples.iter().enumerate().take(last + 1).skip(first) {
                let t = (j as f64 - centre) * cutoff;
                let sinc = if t.abs() < 1e-12 {
                    1.0
                } else {
                    (PI * t).sin() / (PI * t)
                };
                let window = 0.5 + 0.5 * (PI * t / HALF_WIDTH).cos();
                sum += f64::from(s) * sinc * window * cutoff;
            }
            sum as f32
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f64, rate: u32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * PI * freq * i as f64 / f64::from(rate)).sin() as f32)
            .collect()
    }

    #[test]
    fn a_tone_keeps_its_frequency_and_level() {
        for (from, to) in [(16_000, 8_000), (8_000, 16_000), (44_100, 8_000)] {
            let input = sine(440.0, from, from as usize / 2);
            let out = resample(&input, from, to);
            assert_eq!(out.len(), to as usize / 2);
            let want = sine(440.0, to, out.len());
            // Away from the edges (where the kernel runs out of input) it is the tone.
            let middle = out.len() / 4..3 * out.len() / 4;
            let err = middle
                .clone()
                .map(|i| (out[i] - want[i]).abs())
                .fold(0.0f32, f32::max);
            assert!(err < 0.02, "{from}→{to}: max error {err}");
        }
        assert_eq!(resample(&[1.0, 2.0], 8_000, 8_000), [1.0, 2.0]);
    }

    #[test]
    fn downsampling_removes_what_the_new_rate_cannot_hold() {
        // 3 kHz at 16 kHz becomes nothing at 4 kHz (Nyquist 2 kHz).
        let input = sine(3_000.0, 16_000, 8_000);
        let out = resample(&input, 16_000, 4_000);
        let middle = &out[out.len() / 4..3 * out.len() / 4];
        let rms = (middle.iter().map(|v| v * v).sum::<f32>() / middle.len() as f32).sqrt();
        assert!(rms < 0.05, "aliased energy {rms}");
    }
}
