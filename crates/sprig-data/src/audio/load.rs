//! Finding the recordings of a data set, extracting (or reading cached) features, and
//! splitting.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::FeatureSet;
use super::cache::{FeatureCache, cache_key};
use super::features::{FeatureConfig, LogMel};
use super::resample::resample;
use super::wav::decode_wav;
use crate::DataError;
use crate::vision::ChecksumPolicy;
use crate::vision::checksum::sha256_hex;
use crate::vision::split::split_indices;

/// What to do with a file that is not a readable WAV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BadFiles {
    /// Stop with an error naming the file (the default).
    #[default]
    Error,
    /// Leave it out, count it in [`AudioData::skipped`] and warn.
    Skip,
}

/// How to load an audio data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioOptions {
    /// Seeds the validation hold-out.
    pub seed: u64,
    /// Share of the training recordings held out for validation when the data set names
    /// none.
    pub validation_fraction: f64,
    /// The spectrogram.
    pub features: FeatureConfig,
    /// Where extracted features are cached (`None`: no cache). The cache key covers the
    /// feature settings and every file's name, size and modification time.
    pub cache_dir: Option<PathBuf>,
    /// Unreadable files: error or skip.
    pub bad_files: BadFiles,
    /// Whether files are checked against a `SHA256SUMS` list beside them when extracted.
    pub checksums: ChecksumPolicy,
}

impl AudioOptions {
    /// 10 % validation, `features`, no cache, errors on bad files, checksums verified.
    pub fn new(seed: u64, features: FeatureConfig) -> Self {
        Self {
            seed,
            validation_fraction: 0.1,
            features,
            cache_dir: None,
            bad_files: BadFiles::Error,
            checksums: ChecksumPolicy::Verify,
        }
    }
}

/// How the Free Spoken Digit Dataset is split.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FsddSplit {
    /// The dataset's own: recordings 0–4 of every speaker and digit are the test split.
    Official,
    /// Every recording of this speaker is the test split; the others train.
    Speaker(String),
}

/// An audio data set as spectrograms.
#[derive(Debug, Clone)]
pub struct AudioData {
    /// Training examples (validation removed).
    pub train: FeatureSet,
    /// For early stopping and model selection.
    pub validation: FeatureSet,
    /// The test split.
    pub test: FeatureSet,
    /// Files left out as unreadable (with [`BadFiles::Skip`]), with the reason.
    pub skipped: Vec<(PathBuf, String)>,
    /// What was read.
    pub source: String,
    /// Seconds spent extracting or reading the features.
    pub feature_seconds: f64,
    /// Whether the features came from the cache.
    pub from_cache: bool,
}

/// One recording before extraction.
#[derive(Debug, Clone)]
struct Entry {
    path: PathBuf,
    /// Relative to the data set's root: names it in lists and the cache key.
    name: String,
    label: String,
    speaker: String,
}

/// Which split a recording belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Train,
    Validation,
    Test,
}

/// The Free Spoken Digit Dataset in `dir` (`recordings/{digit}_{speaker}_{index}.wav`,
/// optionally `SHA256SUMS`).
///
/// # Errors
/// A missing folder, a file name that does not follow the pattern, an unreadable file
/// (unless skipped), a checksum mismatch, or an unknown held-out speaker.
pub fn load_fsdd(
    dir: &Path,
    split: &FsddSplit,
    options: &AudioOptions,
) -> Result<AudioData, DataError> {
    let recordings = dir.join("recordings");
    let mut entries = Vec::new();
    let mut index_of = Vec::new();
    for path in wav_files(&recordings)? {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let parts: Vec<&str> = stem.split('_').collect();
        let parsed = match parts[..] {
            [digit, speaker, index]
                if digit.len() == 1 && digit.chars().all(|c| c.is_ascii_digit()) =>
            {
                index
                    .parse::<u32>()
                    .ok()
                    .map(|i| (digit.to_string(), speaker.to_string(), i))
            }
            _ => None,
        };
        let Some((digit, speaker, index)) = parsed else {
            return Err(DataError::format(
                &path,
                "expected a name {digit}_{speaker}_{index}.wav, as the Free Spoken Digit Dataset uses",
            ));
        };
        entries.push(Entry {
            name: format!("recordings/{}", file_name(&path)),
            path,
            label: digit,
            speaker,
        });
        index_of.push(index);
    }
    let speakers: BTreeSet<&str> = entries.iter().map(|e| e.speaker.as_str()).collect();
    if let FsddSplit::Speaker(held) = split
        && !speakers.contains(held.as_str())
    {
        return Err(DataError::InvalidArgument(format!(
            "no recordings of speaker `{held}`; the speakers are {}",
            speakers.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    let roles: Vec<Role> = entries
        .iter()
        .zip(&index_of)
        .map(|(e, &i)| {
            let test = match split {
                FsddSplit::Official => i < 5,
                FsddSplit::Speaker(held) => e.speaker == *held,
            };
            if test { Role::Test } else { Role::Train }
        })
        .collect();
    let sums = read_sums(&dir.join("SHA256SUMS"))?;
    let source = format!(
        "Free Spoken Digit Dataset in {} ({} split)",
        dir.display(),
        match split {
            FsddSplit::Official => "official: recordings 0–4 test".to_string(),
            FsddSplit::Speaker(s) => format!("speaker `{s}` held out"),
        }
    );
    assemble("fsdd", entries, roles, sums.as_ref(), options, source)
}

/// Recordings in one folder per label (`dir/LABEL/*.wav`, as Google Speech Commands);
/// `validation_list.txt` and `testing_list.txt` in `dir`, when present, name the
/// validation and test files (`LABEL/FILE.wav`, one per line); without them, a seeded
/// 10 % of each is held out for validation and for test. Folders whose name starts with
/// `_` (Speech Commands' `_background_noise_`) are not labels. The speaker is the part of
/// a file name before `_nohash_`, when there is one.
///
/// # Errors
/// A missing folder, no label folders, an unreadable file (unless skipped), or a list
/// naming a file that does not exist.
pub fn load_wav_folders(dir: &Path, options: &AudioOptions) -> Result<AudioData, DataError> {
    let mut labels: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir() && !file_name(p).starts_with('_') && !file_name(p).starts_with('.'))
        .collect();
    labels.sort();
    if labels.is_empty() {
        return Err(DataError::NotFound {
            dataset: "audio folders",
            searched: vec![dir.to_path_buf()],
            expected: "one folder of .wav files per label".into(),
        });
    }
    let mut entries = Vec::new();
    for label_dir in &labels {
        let label = file_name(label_dir);
        for path in wav_files(label_dir)? {
            let file = file_name(&path);
            let speaker = file.split_once("_nohash_").map_or("unknown", |(s, _)| s);
            entries.push(Entry {
                name: format!("{label}/{file}"),
                speaker: speaker.to_string(),
                label: label.clone(),
                path,
            });
        }
    }
    let listed = |name: &str| -> Result<Option<BTreeSet<String>>, DataError> {
        let path = dir.join(name);
        if !path.exists() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
        let set: BTreeSet<String> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect();
        let known: BTreeSet<&str> = entries.iter().map(|e| e.name.as_str()).collect();
        if let Some(missing) = set.iter().find(|n| !known.contains(n.as_str())) {
            return Err(DataError::format(
                &path,
                format!("lists `{missing}`, which is not a .wav file under a label folder"),
            ));
        }
        Ok(Some(set))
    };
    let (validation, testing) = (listed("validation_list.txt")?, listed("testing_list.txt")?);
    let roles: Vec<Role> = match (&validation, &testing) {
        (None, None) => {
            // No lists: a seeded 10 % test and 10 % validation (both fixed by the seed).
            let n = entries.len();
            let (test, _) = split_indices(n, n / 10, options.seed ^ 0x7E57)?;
            let test: BTreeSet<usize> = test.into_iter().collect();
            (0..n)
                .map(|i| {
                    if test.contains(&i) {
                        Role::Test
                    } else {
                        Role::Train
                    }
                })
                .collect()
        }
        _ => entries
            .iter()
            .map(|e| {
                if testing.as_ref().is_some_and(|t| t.contains(&e.name)) {
                    Role::Test
                } else if validation.as_ref().is_some_and(|v| v.contains(&e.name)) {
                    Role::Validation
                } else {
                    Role::Train
                }
            })
            .collect(),
    };
    let source = format!("WAV folders in {} ({} labels)", dir.display(), labels.len());
    let name = format!(
        "folders-{}",
        sha256_hex(dir.display().to_string().as_bytes())
            .get(..8)
            .unwrap_or("x")
    );
    assemble(&name, entries, roles, None, options, source)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The `.wav` files in `dir`, sorted by name.
fn wav_files(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| DataError::io(dir, e))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("wav")))
        .collect();
    files.sort();
    Ok(files)
}

/// `SHA256SUMS` (`HASH  NAME` lines), if the file exists.
fn read_sums(path: &Path) -> Result<Option<BTreeMap<String, String>>, DataError> {
    if !path.exists() {
        return Ok(None);
    }
    let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
    let mut sums = BTreeMap::new();
    for (n, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let Some((hash, name)) = line.split_once("  ") else {
            return Err(DataError::line(
                path,
                n as u64 + 1,
                "expected `SHA256  NAME`",
            ));
        };
        sums.insert(name.trim().to_string(), hash.trim().to_ascii_lowercase());
    }
    Ok(Some(sums))
}

/// Extracts (or reads cached) features of every entry and splits them by role.
fn assemble(
    name: &str,
    entries: Vec<Entry>,
    mut roles: Vec<Role>,
    sums: Option<&BTreeMap<String, String>>,
    options: &AudioOptions,
    source: String,
) -> Result<AudioData, DataError> {
    let config = &options.features;
    let mel = LogMel::new(*config)?;
    let per = config.frames() * config.mels;
    let started = Instant::now();
    let key = cache_key(
        config,
        entries.iter().map(|e| (e.name.as_str(), e.path.as_path())),
    )?;
    let cache = options
        .cache_dir
        .as_ref()
        .map(|d| FeatureCache::new(d, name, &key));
    let cached = cache.as_ref().and_then(FeatureCache::read);
    let from_cache = cached
        .as_ref()
        .is_some_and(|c| c.len() == entries.len() * (per + 1));
    let extracted: Vec<Result<Vec<f32>, String>> = if let (true, Some(values)) =
        (from_cache, cached)
    {
        // Each entry: a flag (1 = features follow) then its values.
        values
            .chunks_exact(per + 1)
            .map(|c| {
                if c[0] == 1.0 {
                    Ok(c[1..].to_vec())
                } else {
                    Err("unreadable when the cache was made".into())
                }
            })
            .collect()
    } else {
        let out: Vec<Result<Result<Vec<f32>, String>, DataError>> = entries
            .par_iter()
            .map(|e| {
                let bytes = std::fs::read(&e.path).map_err(|err| DataError::io(&e.path, err))?;
                if let (ChecksumPolicy::Verify, Some(expected)) =
                    (options.checksums, sums.and_then(|s| s.get(&e.name)))
                {
                    let actual = sha256_hex(&bytes);
                    if actual != *expected {
                        return Err(DataError::Checksum {
                            path: e.path.clone(),
                            actual,
                            expected: expected.clone(),
                            what: "the file listed in SHA256SUMS",
                        });
                    }
                }
                match decode_wav(&e.path, &bytes) {
                    Ok(clip) => {
                        let samples = resample(&clip.samples, clip.sample_rate, config.sample_rate);
                        let mut v = Vec::with_capacity(per);
                        mel.extend(&samples, &mut v);
                        Ok(Ok(v))
                    }
                    Err(err) if options.bad_files == BadFiles::Skip => Ok(Err(err.to_string())),
                    Err(err) => Err(err),
                }
            })
            .collect();
        let out = out.into_iter().collect::<Result<Vec<_>, _>>()?;
        if let Some(cache) = &cache {
            let mut flat = Vec::with_capacity(out.len() * (per + 1));
            for r in &out {
                match r {
                    Ok(v) => {
                        flat.push(1.0);
                        flat.extend_from_slice(v);
                    }
                    Err(_) => flat.extend(std::iter::repeat_n(0.0, per + 1)),
                }
            }
            if let Err(e) = cache.write(&flat) {
                tracing::warn!(error = %e, "could not write the feature cache; features will be extracted again next time");
            }
        }
        out
    };
    let feature_seconds = started.elapsed().as_secs_f64();

    let classes: Vec<String> = entries
        .iter()
        .map(|e| e.label.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let speakers: Vec<String> = entries
        .iter()
        .map(|e| e.speaker.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let (classes, speakers): (Arc<[String]>, Arc<[String]>) = (classes.into(), speakers.into());
    let mut skipped = Vec::new();
    let mut values = Vec::new();
    let (mut labels, mut speaker_of, mut kept_roles) = (Vec::new(), Vec::new(), Vec::new());
    for ((e, r), role) in entries.iter().zip(extracted).zip(roles.drain(..)) {
        match r {
            Ok(v) => {
                values.extend(v);
                labels.push(classes.iter().position(|c| *c == e.label).unwrap_or(0) as u16);
                speaker_of.push(speakers.iter().position(|s| *s == e.speaker).unwrap_or(0) as u16);
                kept_roles.push(role);
            }
            Err(reason) => {
                tracing::warn!(file = %e.path.display(), %reason, "skipped an unreadable recording");
                skipped.push((e.path.clone(), reason));
            }
        }
    }
    let all = FeatureSet::new(
        [config.frames(), config.mels],
        values,
        labels,
        speaker_of,
        classes,
        speakers,
    )?;
    let pick = |role: Role| -> Vec<usize> {
        kept_roles
            .iter()
            .enumerate()
            .filter(|(_, r)| **r == role)
            .map(|(i, _)| i)
            .collect()
    };
    let test = all.subset(&pick(Role::Test))?;
    let train_pool = pick(Role::Train);
    let listed_validation = pick(Role::Validation);
    let (train, validation) = if listed_validation.is_empty() {
        let n_val = (train_pool.len() as f64 * options.validation_fraction).round() as usize;
        let (val, train) = split_indices(train_pool.len(), n_val, options.seed)?;
        let map = |idx: Vec<usize>| idx.into_iter().map(|i| train_pool[i]).collect::<Vec<_>>();
        (all.subset(&map(train))?, all.subset(&map(val))?)
    } else {
        (all.subset(&train_pool)?, all.subset(&listed_validation)?)
    };
    Ok(AudioData {
        train,
        validation,
        test,
        skipped,
        source,
        feature_seconds,
        from_cache,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::spoken_digits;

    /// A tone of `freq` Hz, 0.5 s at 8 kHz, 16-bit.
    fn write_tone(path: &Path, freq: f32) {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 8_000,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut w = hound::WavWriter::create(path, spec).unwrap();
        for i in 0..4_000 {
            let s = (2.0 * std::f32::consts::PI * freq * i as f32 / 8_000.0).sin();
            w.write_sample((s * 20_000.0) as i16).unwrap();
        }
        w.finalize().unwrap();
    }

    fn folders(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("sprig-audio-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (label, freq) in [("high", 2_000.0), ("low", 300.0)] {
            std::fs::create_dir_all(dir.join(label)).unwrap();
            for speaker in ["ann", "bob", "cy"] {
                write_tone(
                    &dir.join(label).join(format!("{speaker}_nohash_0.wav")),
                    freq,
                );
            }
        }
        std::fs::create_dir_all(dir.join("_background_noise_")).unwrap();
        dir
    }

    fn options() -> AudioOptions {
        AudioOptions::new(3, spoken_digits())
    }

    #[test]
    fn folder_lists_decide_the_splits() {
        let dir = folders("lists");
        std::fs::write(
            dir.join("testing_list.txt"),
            "high/ann_nohash_0.wav\nlow/ann_nohash_0.wav\n",
        )
        .unwrap();
        std::fs::write(dir.join("validation_list.txt"), "low/bob_nohash_0.wav\n").unwrap();
        let data = load_wav_folders(&dir, &options()).unwrap();
        assert_eq!(data.train.classes(), ["high", "low"]);
        assert_eq!(
            (data.train.len(), data.validation.len(), data.test.len()),
            (3, 1, 2)
        );
        let ann = data
            .test
            .speakers()
            .iter()
            .position(|s| s == "ann")
            .unwrap() as u16;
        assert!(data.test.speaker_of().iter().all(|&s| s == ann));
        // The tones differ where they should: the high one's energy is in high bands.
        let high = data.test.example(0).unwrap();
        let low = data.test.example(1).unwrap();
        let loudest = |x: &[f32]| {
            let frame = &x[10 * 40..11 * 40];
            (0..40)
                .max_by(|&a, &b| frame[a].total_cmp(&frame[b]))
                .unwrap()
        };
        assert!(
            loudest(high) > loudest(low) + 10,
            "{} vs {}",
            loudest(high),
            loudest(low)
        );

        std::fs::write(dir.join("testing_list.txt"), "high/nobody.wav\n").unwrap();
        let err = load_wav_folders(&dir, &options()).unwrap_err().to_string();
        assert!(
            err.contains("testing_list.txt") && err.contains("nobody"),
            "{err}"
        );
    }

    #[test]
    fn a_corrupt_recording_is_an_error_or_skipped_and_counted() {
        let dir = folders("corrupt");
        std::fs::write(
            dir.join("low").join("bad_nohash_0.wav"),
            b"RIFF....not really",
        )
        .unwrap();
        let err = load_wav_folders(&dir, &options()).unwrap_err().to_string();
        assert!(err.contains("bad_nohash_0.wav"), "{err}");
        let skipping = AudioOptions {
            bad_files: BadFiles::Skip,
            ..options()
        };
        let data = load_wav_folders(&dir, &skipping).unwrap();
        assert_eq!(data.skipped.len(), 1);
        assert_eq!(
            data.train.len() + data.validation.len() + data.test.len(),
            6
        );
        assert!(
            load_wav_folders(&dir.join("high"), &options()).is_err(),
            "no label folders"
        );
    }

    #[test]
    fn fsdd_names_are_checked() {
        let dir = std::env::temp_dir().join(format!("sprig-fsdd-names-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("recordings")).unwrap();
        write_tone(&dir.join("recordings").join("3_ann_7.wav"), 500.0);
        write_tone(&dir.join("recordings").join("3_ann_1.wav"), 500.0);
        write_tone(&dir.join("recordings").join("4_bob_9.wav"), 900.0);
        let data = load_fsdd(&dir, &FsddSplit::Official, &options()).unwrap();
        assert_eq!(data.test.len(), 1, "index 1 is a test recording");
        // A wrong checksum list entry is caught.
        std::fs::write(
            dir.join("SHA256SUMS"),
            format!("{}  recordings/3_ann_7.wav\n", "0".repeat(64)),
        )
        .unwrap();
        let err = load_fsdd(&dir, &FsddSplit::Official, &options())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("3_ann_7.wav") && err.contains("sha256"),
            "{err}"
        );
        std::fs::remove_file(dir.join("SHA256SUMS")).unwrap();
        write_tone(&dir.join("recordings").join("not-a-digit.wav"), 500.0);
        let err = load_fsdd(&dir, &FsddSplit::Official, &options())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("not-a-digit.wav") && err.contains("{digit}_{speaker}_{index}"),
            "{err}"
        );
    }
}
