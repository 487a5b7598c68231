//! Finding, reading, splitting and encoding a text data set.

use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::corpus::{RawExample, TrecLabels, read_class_csv, read_mr, read_trec};
use super::{TextSet, VocabConfig, Vocabulary};
use crate::DataError;
use crate::vision::ChecksumPolicy;
use crate::vision::split::split_indices;

/// MR has no official split: its test split is this seed's 10 % of the snippets, the
/// same for every experiment seed, so that seeds differ only in training.
pub const MR_TEST_SPLIT_SEED: u64 = 0;
/// MR's test share.
pub const MR_TEST_FRACTION: f64 = 0.1;

/// How to load a text data set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextOptions {
    /// Seeds the validation hold-out.
    pub seed: u64,
    /// Share of the training file held out for validation (Kim 2014 holds out 10 %).
    pub validation_fraction: f64,
    /// Tokenisation and vocabulary.
    pub vocab: VocabConfig,
    /// Whether known files are checked against their published SHA-256.
    pub checksums: ChecksumPolicy,
}

impl TextOptions {
    /// 10 % validation, `length` tokens per example, the default vocabulary settings.
    pub fn new(seed: u64, length: usize) -> Self {
        Self {
            seed,
            validation_fraction: 0.1,
            vocab: VocabConfig::new(length),
            checksums: ChecksumPolicy::Verify,
        }
    }
}

/// A text data set, encoded: splits, their vocabulary (from the training split only) and
/// where it came from.
#[derive(Debug, Clone)]
pub struct TextData {
    /// Training examples (the validation ones removed).
    pub train: TextSet,
    /// Held out of the training file, for early stopping and model selection.
    pub validation: TextSet,
    /// The official test split (MR: a fixed seeded 10 %).
    pub test: TextSet,
    /// The vocabulary every split was encoded with.
    pub vocab: Vocabulary,
    /// Class names, by label.
    pub classes: Arc<[String]>,
    /// What was read.
    pub source: String,
}

/// TREC question classification from `train_5500.label` and `TREC_10.label` in `dir`.
///
/// # Errors
/// A missing or corrupt file or a malformed line (named), or a test label the training
/// file never uses.
pub fn load_trec(
    dir: &Path,
    labels: TrecLabels,
    options: &TextOptions,
) -> Result<TextData, DataError> {
    let train = read_trec(&dir.join("train_5500.label"), labels, options.checksums)?;
    let test = read_trec(&dir.join("TREC_10.label"), labels, options.checksums)?;
    let source = format!(
        "TREC ({} labels) from {}",
        match labels {
            TrecLabels::Coarse => "6 coarse",
            TrecLabels::Fine => "50 fine",
        },
        dir.display()
    );
    assemble(train, test, None, options, source)
}

/// MR sentence polarity from `rt-polarity.pos` / `.neg` in `dir`, with the fixed test
/// split [`MR_TEST_SPLIT_SEED`].
///
/// # Errors
/// A missing or corrupt file, named.
pub fn load_mr(dir: &Path, options: &TextOptions) -> Result<TextData, DataError> {
    let all = read_mr(dir, options.checksums)?;
    let n_test = (all.len() as f64 * MR_TEST_FRACTION).round() as usize;
    let (test_idx, train_idx) = split_indices(all.len(), n_test, MR_TEST_SPLIT_SEED)?;
    let pick = |idx: &[usize]| idx.iter().map(|&i| all[i].clone()).collect::<Vec<_>>();
    let source = format!(
        "MR sentence polarity from {} (test: {n_test} snippets, split seed {MR_TEST_SPLIT_SEED})",
        dir.display()
    );
    assemble(pick(&train_idx), pick(&test_idx), None, options, source)
}

/// A data set in the CSV layout of Zhang et al. 2015 (see
/// [`read_class_csv`](super::corpus::read_class_csv)): `train.csv` and `test.csv` in
/// `dir`, class names from `classes.txt` (one per line) when present.
///
/// # Errors
/// A missing file or a malformed record (named by file and line), or a class index past
/// `classes.txt`.
pub fn load_class_csv(dir: &Path, options: &TextOptions) -> Result<TextData, DataError> {
    let train = read_class_csv(&dir.join("train.csv"))?;
    let test = read_class_csv(&dir.join("test.csv"))?;
    let names_path = dir.join("classes.txt");
    let names = if names_path.exists() {
        let text =
            String::from_utf8_lossy(&crate::vision::fsio::read_file(&names_path)?).into_owned();
        Some(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect::<Vec<_>>(),
        )
    } else {
        None
    };
    // Labels are 1-based indices; classes.txt names them in order.
    let count = match &names {
        Some(names) => names.len(),
        None => train
            .iter()
            .chain(&test)
            .filter_map(|e| e.label.parse::<usize>().ok())
            .max()
            .unwrap_or(0),
    };
    let index_names: Vec<String> = (1..=count).map(|k| k.to_string()).collect();
    let source = format!("class CSV from {}", dir.display());
    let mut data = assemble(train, test, Some(&index_names), options, source)?;
    if let Some(names) = names {
        data.classes = names.into();
    }
    Ok(data)
}

/// Holds out validation, builds the vocabulary on what is left, encodes all three splits.
/// Class names are `classes` in that order, or the training labels sorted.
fn assemble(
    train: Vec<RawExample>,
    test: Vec<RawExample>,
    classes: Option<&[String]>,
    options: &TextOptions,
    source: String,
) -> Result<TextData, DataError> {
    if !(0.0..1.0).contains(&options.validation_fraction) {
        return Err(DataError::InvalidArgument(format!(
            "the validation fraction must be in [0, 1), not {}",
            options.validation_fraction
        )));
    }
    let classes: Vec<String> = match classes {
        Some(c) => c.to_vec(),
        None => {
            let mut c: Vec<String> = train.iter().map(|e| e.label.clone()).collect();
            c.sort();
            c.dedup();
            c
        }
    };
    if classes.len() > usize::from(u16::MAX) {
        return Err(DataError::InvalidArgument(format!(
            "{} classes are more than this loader supports",
            classes.len()
        )));
    }
    let n_val = (train.len() as f64 * options.validation_fraction).round() as usize;
    let (val_idx, train_idx) = split_indices(train.len(), n_val, options.seed)?;
    let vocab = Vocabulary::build(
        train_idx.iter().map(|&i| train[i].text.as_str()),
        options.vocab.clone(),
    )?;
    let classes: Arc<[String]> = classes.into();
    let encode = |examples: Vec<&RawExample>, split: &str| -> Result<TextSet, DataError> {
        let mut ids = Vec::with_capacity(examples.len() * vocab.config().length);
        let mut labels = Vec::with_capacity(examples.len());
        for e in examples {
            let label = classes.iter().position(|c| *c == e.label).ok_or_else(|| {
                DataError::InvalidArgument(format!(
                    "the {split} split has label `{}`, which the training file never uses \
                     (classes: {})",
                    e.label,
                    classes.join(", ")
                ))
            })?;
            ids.extend(vocab.encode(&e.text));
            labels.push(label as u16);
        }
        TextSet::new(vocab.config().length, ids, labels, classes.clone())
    };
    Ok(TextData {
        train: encode(train_idx.iter().map(|&i| &train[i]).collect(), "training")?,
        validation: encode(val_idx.iter().map(|&i| &train[i]).collect(), "validation")?,
        test: encode(test.iter().collect(), "test")?,
        vocab,
        classes,
        source,
    })
}
