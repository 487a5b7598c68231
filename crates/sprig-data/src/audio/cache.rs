//! The feature cache: extracted spectrograms on disk, under a key that changes whenever the
//! extractor, the feature settings or any recording (name, size, modification time) changes.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use atomic_write_file::AtomicWriteFile;
use sha2::{Digest, Sha256};

use super::features::FeatureConfig;
use crate::DataError;

/// First bytes of a cache file.
const MAGIC: &[u8; 8] = b"SPRIGFT1";

/// Which computation made the features: part of the key, so spectrograms an earlier
/// extractor computed (`realfft`, before training used the runtime's) are not reused.
const EXTRACTOR: &[u8] = b"sprig_runtime::LogMel";

/// The cache key of `config` and the recordings `(name, path)`.
///
/// # Errors
/// A recording whose metadata cannot be read.
pub fn cache_key<'a>(
    config: &FeatureConfig,
    files: impl Iterator<Item = (&'a str, &'a Path)>,
) -> Result<String, DataError> {
    let mut hash = Sha256::new();
    hash.update(EXTRACTOR);
    hash.update(serde_json::to_vec(config).unwrap_or_default());
    for (name, path) in files {
        let meta = std::fs::metadata(path).map_err(|e| DataError::io(path, e))?;
        let modified = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(meta.len().to_le_bytes());
        hash.update(modified.to_le_bytes());
    }
    Ok(hash
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect())
}

/// One cache file.
#[derive(Debug, Clone)]
pub struct FeatureCache {
    path: PathBuf,
}

impl FeatureCache {
    /// The cache file of data set `name` under `key` in `dir`.
    pub fn new(dir: &Path, name: &str, key: &str) -> Self {
        Self {
            path: dir.join(format!("{name}-{key}.features")),
        }
    }

    /// The cached values, or `None` if there is no complete, well-formed file.
    pub fn read(&self) -> Option<Vec<f32>> {
        let bytes = std::fs::read(&self.path).ok()?;
        let body = bytes.strip_prefix(MAGIC.as_slice())?;
        let (count, values) = body.split_first_chunk::<8>()?;
        let count = usize::try_from(u64::from_le_bytes(*count)).ok()?;
        if Some(values.len()) != count.checked_mul(4) {
            tracing::warn!(file = %self.path.display(), "ignoring a truncated feature cache");
            return None;
        }
        Some(
            values
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        )
    }

    /// Writes `values` atomically (a temporary file flushed to disk, then renamed over the
    /// cache: a reader never sees half of one).
    ///
    /// # Errors
    /// The folder or file cannot be written.
    pub fn write(&self, values: &[f32]) -> Result<(), DataError> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| DataError::io(dir, e))?;
        }
        let mut bytes = Vec::with_capacity(16 + 4 * values.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&(values.len() as u64).to_le_bytes());
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let write = || -> std::io::Result<()> {
            let mut file = AtomicWriteFile::open(&self.path)?;
            file.write_all(&bytes)?;
            file.commit()
        };
        write().map_err(|e| DataError::io(&self.path, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::spoken_digits;

    #[test]
    fn round_trip_and_damage() {
        let dir = std::env::temp_dir().join(format!("sprig-cache-{}", std::process::id()));
        let cache = FeatureCache::new(&dir, "test", "abc");
        assert_eq!(cache.read(), None);
        cache.write(&[1.0, -2.5, 3.25]).unwrap();
        assert_eq!(cache.read(), Some(vec![1.0, -2.5, 3.25]));
        let bytes = std::fs::read(&cache.path).unwrap();
        std::fs::write(&cache.path, &bytes[..bytes.len() - 1]).unwrap();
        assert_eq!(cache.read(), None);
        std::fs::write(&cache.path, b"garbage").unwrap();
        assert_eq!(cache.read(), None);
    }

    #[test]
    fn the_key_follows_settings_and_files() {
        let dir = std::env::temp_dir().join(format!("sprig-key-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.wav");
        std::fs::write(&file, b"1234").unwrap();
        let config = spoken_digits();
        let key =
            |c: &FeatureConfig| cache_key(c, [("a.wav", file.as_path())].into_iter()).unwrap();
        let k = key(&config);
        assert_eq!(k, key(&config));
        assert_ne!(k, key(&FeatureConfig { mels: 32, ..config }));
        std::fs::write(&file, b"12345").unwrap();
        assert_ne!(k, key(&config));
    }
}
