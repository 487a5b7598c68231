//! Reading WAV files (with `hound`) into mono f32 samples in [-1, 1].

use std::path::Path;

use crate::DataError;

/// One decoded recording.
#[derive(Debug, Clone, PartialEq)]
pub struct Clip {
    /// Mono samples in [-1, 1] (channels averaged).
    pub samples: Vec<f32>,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reads `path`: PCM integer (8–32 bits) or IEEE float WAV, any channel count, mixed down
/// to mono.
///
/// # Errors
/// [`DataError::Format`] naming the file if it is not a WAV file `hound` can decode (the
/// message says what was expected), [`DataError::MissingFile`] / [`DataError::Io`] if it
/// cannot be read.
pub fn read_wav(path: &Path) -> Result<Clip, DataError> {
    let bytes = std::fs::read(path).map_err(|e| DataError::io(path, e))?;
    decode_wav(path, &bytes)
}

/// Decodes the WAV file `bytes` (read from `path`, which error messages name).
///
/// # Errors
/// As [`read_wav`].
pub fn decode_wav(path: &Path, bytes: &[u8]) -> Result<Clip, DataError> {
    let bad = |what: String| {
        DataError::format(
            path,
            format!("{what}; expected a RIFF/WAVE file of PCM integer or IEEE float samples"),
        )
    };
    let mut reader = hound::WavReader::new(bytes)
        .map_err(|e| bad(format!("not a readable WAV header ({e})")))?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels);
    if channels == 0 || spec.sample_rate == 0 {
        return Err(bad(format!(
            "{channels} channels at {} Hz",
            spec.sample_rate
        )));
    }
    let interleaved: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .collect::<Result<_, _>>()
            .map_err(|e| bad(format!("truncated or corrupt float samples ({e})")))?,
        hound::SampleFormat::Int => {
            if !(1..=32).contains(&spec.bits_per_sample) {
                return Err(bad(format!("{} bits per sample", spec.bits_per_sample)));
            }
            let scale = 1.0 / f64::from(1u32 << (spec.bits_per_sample - 1)).max(1.0);
            reader
                .samples::<i32>()
                .map(|s| s.map(|s| (f64::from(s) * scale) as f32))
                .collect::<Result<_, _>>()
                .map_err(|e| bad(format!("truncated or corrupt samples ({e})")))?
        }
    };
    let samples = interleaved
        .chunks_exact(channels)
        .map(|frame| frame.iter().sum::<f32>() / channels as f32)
        .collect();
    Ok(Clip {
        samples,
        sample_rate: spec.sample_rate,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, spec: hound::WavSpec, frames: &[[i32; 2]]) {
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for frame in frames {
            for &s in frame.iter().take(usize::from(spec.channels)) {
                w.write_sample(s).unwrap();
            }
        }
        w.finalize().unwrap();
    }

    #[test]
    fn pcm_stereo_is_mixed_down_and_scaled() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = dir.join("stereo.wav");
        let spec = hound::WavSpec {
            channels: 2,
            sample_rate: 16_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        write(&path, spec, &[[16_384, 0], [-32_768, -32_768], [0, 8_192]]);
        let clip = read_wav(&path).unwrap();
        assert_eq!(clip.sample_rate, 16_000);
        assert_eq!(clip.samples, [0.25, -1.0, 0.125]);

        // Not a WAV file, and a truncated one: errors naming the file.
        let junk = dir.join("junk.wav");
        std::fs::write(&junk, b"definitely not audio").unwrap();
        let err = read_wav(&junk).unwrap_err().to_string();
        assert!(
            err.contains("junk.wav") && err.contains("expected a RIFF/WAVE"),
            "{err}"
        );
        let bytes = std::fs::read(&path).unwrap();
        let cut = dir.join("cut.wav");
        std::fs::write(&cut, &bytes[..bytes.len() - 3]).unwrap();
        assert!(read_wav(&cut).unwrap_err().to_string().contains("cut.wav"));
        assert!(read_wav(&dir.join("none.wav")).is_err());
    }
}
