//! The ticket folder: the files a run leaves behind (documented in `docs/ticket-format.md`).
//!
//! Every file is written to a temporary name and renamed into place, and `result.json`
//! is written last, so a folder with a `result.json` is complete and a killed run never
//! leaves a file half-written.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use atomic_write_file::AtomicWriteFile;
use safetensors::Dtype;
use safetensors::tensor::TensorView;
use serde::Serialize;
use sprig_mask::{MaskSet, Snapshot};

/// Names of the files in a ticket folder.
pub mod files {
    /// The experiment's configuration (its canonical form names the folder).
    pub const CONFIG: &str = "config.json";
    /// The input normalisation training used (fitted on the training split).
    pub const NORMALIZATION: &str = "normalization.json";
    /// The per-band spectrogram normalisation of an audio model (from the training split).
    pub const FEATURE_NORMALIZATION: &str = "feature_normalization.json";
    /// The vocabulary and tokenisation settings of a text model (from the training split).
    pub const VOCABULARY: &str = "vocabulary.json";
    /// The mask, per tensor, as packed bits (base64).
    pub const MASK: &str = "mask.json";
    /// θ0 (or θk) with the mask applied: the ticket itself.
    pub const INITIAL: &str = "initial.safetensors";
    /// The trained sparse weights.
    pub const TRAINED: &str = "trained.safetensors";
    /// Per-training metrics.
    pub const ROUNDS: &str = "rounds.json";
    /// Every plan with the input it was made from (budgeted runs).
    pub const PLANS: &str = "plans.json";
    /// The result row; written last, so its presence marks a finished run.
    pub const RESULT: &str = "result.json";

    /// The options of a `sprig prune` run, filled in (TOML; `--config` reads it back).
    pub const OPTIONS: &str = "sprig.toml";

    /// The run report of `sprig prune` (Markdown, JSON, chart).
    pub const REPORTS: [&str; 3] = [
        sprig_report::REPORT_MD,
        sprig_report::REPORT_JSON,
        sprig_report::REPORT_SVG,
    ];

    /// Every file a run writes (the report aside), for tools that clean a ticket folder
    /// without touching anything else in it.
    pub const ALL: [&str; 11] = [
        CONFIG,
        NORMALIZATION,
        FEATURE_NORMALIZATION,
        VOCABULARY,
        MASK,
        INITIAL,
        TRAINED,
        ROUNDS,
        PLANS,
        RESULT,
        OPTIONS,
    ];
}

/// Writes `bytes` to `path` atomically: a temporary file flushed to disk, then renamed over
/// `path` (a crash leaves the old file or the new one).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let file = AtomicWriteFile::open(path)
        .and_then(|mut file| file.write_all(bytes).map(|()| file))
        .with_context(|| format!("writing {}", path.display()))?;
    file.commit()
        .with_context(|| format!("replacing {}", path.display()))
}

/// Writes `value` as pretty JSON to `dir/name`, atomically.
pub fn write_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value).context("serialising JSON")?;
    write_atomic(&dir.join(name), &text)
}

/// Writes a snapshot as safetensors (f32, little-endian, one tensor per parameter path).
pub fn write_weights(dir: &Path, name: &str, weights: &Snapshot) -> Result<()> {
    let bytes: Vec<(String, Vec<usize>, Vec<u8>)> = weights
        .iter()
        .map(|(path, t)| {
            let data = t.values().iter().flat_map(|v| v.to_le_bytes()).collect();
            (path.to_string(), t.shape().to_vec(), data)
        })
        .collect();
    let views = bytes
        .iter()
        .map(|(path, shape, data)| {
            TensorView::new(Dtype::F32, shape.clone(), data)
                .map(|view| (path.clone(), view))
                .with_context(|| format!("tensor `{path}`"))
        })
        .collect::<Result<Vec<_>>>()?;
    let metadata = HashMap::from([("format".to_string(), "sprig-weights-1".to_string())]);
    let file = safetensors::serialize(views, Some(metadata))
        .with_context(|| format!("encoding {name}"))?;
    write_atomic(&dir.join(name), &file)
}

/// Reads a snapshot written by [`write_weights`].
pub fn read_weights(path: &Path) -> Result<Snapshot> {
    let bytes = fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let file = safetensors::SafeTensors::deserialize(&bytes)
        .with_context(|| format!("{} is not a safetensors file", path.display()))?;
    let mut snapshot = Snapshot::new();
    for (name, view) in file.tensors() {
        if view.dtype() != Dtype::F32 {
            bail!(
                "{}: tensor `{name}` is {:?}, expected F32",
                path.display(),
                view.dtype()
            );
        }
        let values = view
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        snapshot
            .insert(name.clone(), view.shape().to_vec(), values)
            .with_context(|| format!("{}: tensor `{name}`", path.display()))?;
    }
    Ok(snapshot)
}

/// Reads the mask of a ticket folder, validating it.
pub fn read_mask(dir: &Path) -> Result<MaskSet> {
    read_mask_file(&dir.join(files::MASK))
}

/// Reads a mask file, validating it.
pub fn read_mask_file(path: &Path) -> Result<MaskSet> {
    let path = path.to_path_buf();
    let text = fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&text)
        .with_context(|| format!("{} is not a Sprig mask file", path.display()))
}

/// Creates the run folder.
pub fn create_dir(dir: &Path) -> Result<PathBuf> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    Ok(dir.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_round_trip_bit_exact() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let mut weights = Snapshot::new();
        weights
            .insert(
                "fc.weight",
                vec![2, 3],
                vec![0.0, -0.0, 1.5, f32::MIN, 3.25, -7.0],
            )
            .unwrap();
        weights
            .insert("fc.bias", vec![3], vec![0.1, 0.2, 0.3])
            .unwrap();
        write_weights(dir, "w.safetensors", &weights).unwrap();
        let read = read_weights(&dir.join("w.safetensors")).unwrap();
        for (name, t) in weights.iter() {
            let r = read.get(name).unwrap();
            assert_eq!(r.shape(), t.shape());
            let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
            assert_eq!(bits(r.values()), bits(t.values()), "{name}");
        }
        fs::write(dir.join("bad.safetensors"), b"not a tensor file").unwrap();
        let err = read_weights(&dir.join("bad.safetensors")).unwrap_err();
        assert!(format!("{err:#}").contains("bad.safetensors"), "{err:#}");
    }
}
