//! Log-mel spectrograms: Hann-windowed frames, an FFT, a triangular mel filterbank (HTK
//! mel scale), natural log — computed by `sprig_runtime::LogMel`, the extractor a device
//! runs, so a deployed keyword spotter sees the features it was trained on.

use crate::DataError;

/// How a clip becomes a `[frames, mels]` image. Part of the feature cache's key.
pub type FeatureConfig = sprig_runtime::LogMelConfig;

/// For spoken digits at 8 kHz: 1 s clips, 32 ms windows every 16 ms (61 frames), 40 mel
/// bands from 20 Hz to 4 kHz.
pub fn spoken_digits() -> FeatureConfig {
    FeatureConfig {
        sample_rate: 8_000,
        duration_ms: 1_000,
        window: 256,
        hop: 128,
        mels: 40,
        fmin: 20.0,
        fmax: 4_000.0,
    }
}

/// A prepared log-mel extractor: `sprig_runtime::LogMel`, the one a device runs on its
/// recorded samples, so training's features and a device's are the same computation.
#[derive(Debug, Clone)]
pub struct LogMel {
    extractor: sprig_runtime::LogMel,
}

impl LogMel {
    /// An extractor for `config`.
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for a configuration that is not a spectrogram.
    pub fn new(config: FeatureConfig) -> Result<Self, DataError> {
        let extractor = sprig_runtime::LogMel::new(config)
            .map_err(|e| DataError::InvalidArgument(format!("features: {e}")))?;
        Ok(Self { extractor })
    }

    /// The configuration.
    pub fn config(&self) -> &FeatureConfig {
        self.extractor.config()
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
    fn settings_the_runtime_refuses_are_data_errors() {
        // Which settings are refused is the runtime's test; here, that the refusal
        // arrives as a data error saying it is about the features.
        let bad = FeatureConfig {
            hop: 0,
            ..spoken_digits()
        };
        match LogMel::new(bad) {
            Err(DataError::InvalidArgument(why)) => assert!(why.starts_with("features:"), "{why}"),
            other => panic!("expected an invalid-argument error, got {other:?}"),
        }
    }
}
