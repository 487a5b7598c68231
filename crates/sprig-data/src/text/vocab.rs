//! The vocabulary: token ↔ id, built from the training split only, saved with a ticket
//! so that inference encodes text exactly as training did.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::tokenize::tokenize;
use crate::DataError;

/// How text becomes a fixed-length row of token ids.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VocabConfig {
    /// Lower-case before splitting.
    pub lowercase: bool,
    /// Tokens seen fewer times than this in the training split map to `<unk>`.
    pub min_frequency: usize,
    /// At most this many ids, `<pad>` and `<unk>` included (the most frequent tokens win;
    /// ties go to the alphabetically first, so the vocabulary is deterministic).
    pub max_size: usize,
    /// Every example is padded (with `<pad>`, id 0) or truncated to this many tokens.
    pub length: usize,
}

impl VocabConfig {
    /// Lower-cased, tokens seen at least twice, at most 20,000 ids, `length` tokens.
    pub fn new(length: usize) -> Self {
        Self {
            lowercase: true,
            min_frequency: 2,
            max_size: 20_000,
            length,
        }
    }

    fn check(&self) -> Result<(), DataError> {
        if self.length == 0 || self.max_size < 2 || self.min_frequency == 0 {
            return Err(DataError::InvalidArgument(format!(
                "a vocabulary needs length ≥ 1, max_size ≥ 2 (<pad> and <unk>) and \
                 min_frequency ≥ 1, not {self:?}"
            )));
        }
        Ok(())
    }
}

/// Token ids: 0 is `<pad>`, 1 is `<unk>`, then the training split's tokens by frequency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "VocabularyFile", into = "VocabularyFile")]
pub struct Vocabulary {
    config: VocabConfig,
    tokens: Vec<String>,
    ids: HashMap<String, u32>,
}

/// The saved form: the configuration and the tokens in id order.
#[derive(Serialize, Deserialize)]
struct VocabularyFile {
    config: VocabConfig,
    tokens: Vec<String>,
}

/// Id of padding.
pub const PAD: u32 = 0;
/// Id of every token not in the vocabulary.
pub const UNK: u32 = 1;

impl Vocabulary {
    /// The vocabulary of `texts` (the training split).
    ///
    /// # Errors
    /// [`DataError::InvalidArgument`] for a bad configuration.
    pub fn build<'a>(
        texts: impl IntoIterator<Item = &'a str>,
        config: VocabConfig,
    ) -> Result<Self, DataError> {
        config.check()?;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for text in texts {
            for token in tokenize(text, config.lowercase) {
                *counts.entry(token).or_default() += 1;
            }
        }
        let mut ranked: Vec<(String, usize)> = counts
            .into_iter()
            .filter(|(_, n)| *n >= config.min_frequency)
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let mut tokens = vec!["<pad>".to_string(), "<unk>".to_string()];
        tokens.extend(ranked.into_iter().map(|(t, _)| t).take(config.max_size - 2));
        Self::from_parts(config, tokens)
    }

    fn from_parts(config: VocabConfig, tokens: Vec<String>) -> Result<Self, DataError> {
        config.check()?;
        if tokens.len() < 2 || tokens.len() > config.max_size {
            return Err(DataError::InvalidArgument(format!(
                "a vocabulary of {} tokens does not fit 2..={}",
                tokens.len(),
                config.max_size
            )));
        }
        let mut ids = HashMap::with_capacity(tokens.len());
        for (i, t) in tokens.iter().enumerate() {
            if ids.insert(t.clone(), i as u32).is_some() {
                return Err(DataError::InvalidArgument(format!(
                    "the vocabulary lists `{t}` twice"
                )));
            }
        }
        Ok(Self {
            config,
            tokens,
            ids,
        })
    }

    /// Number of ids (the embedding table's rows).
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// Whether only `<pad>` and `<unk>` are known.
    pub fn is_empty(&self) -> bool {
        self.tokens.len() <= 2
    }

    /// The configuration it was built with.
    pub fn config(&self) -> &VocabConfig {
        &self.config
    }

    /// The token of `id`, if any.
    pub fn token(&self, id: u32) -> Option<&str> {
        self.tokens.get(id as usize).map(String::as_str)
    }

    /// `text` as exactly `config().length` ids: tokens, unknown ones as `<unk>`,
    /// truncated or padded with `<pad>` at the end.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        let mut ids: Vec<u32> = tokenize(text, self.config.lowercase)
            .into_iter()
            .take(self.config.length)
            .map(|t| self.ids.get(&t).copied().unwrap_or(UNK))
            .collect();
        ids.resize(self.config.length, PAD);
        ids
    }
}

impl TryFrom<VocabularyFile> for Vocabulary {
    type Error = DataError;
    fn try_from(file: VocabularyFile) -> Result<Self, Self::Error> {
        Self::from_parts(file.config, file.tokens)
    }
}

impl From<Vocabulary> for VocabularyFile {
    fn from(v: Vocabulary) -> Self {
        Self {
            config: v.config,
            tokens: v.tokens,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequency_order_unknowns_padding_and_round_trip() {
        let texts = ["b a a c", "a b d", "e"];
        let config = VocabConfig {
            min_frequency: 1,
            ..VocabConfig::new(5)
        };
        let v = Vocabulary::build(texts, config.clone()).unwrap();
        let order: Vec<&str> = (0..v.len() as u32).map(|i| v.token(i).unwrap()).collect();
        assert_eq!(order, ["<pad>", "<unk>", "a", "b", "c", "d", "e"]);
        assert_eq!(v.encode("A b zzz"), [2, 3, UNK, PAD, PAD]);
        assert_eq!(v.encode("a a a a a a a"), [2; 5]);
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(serde_json::from_str::<Vocabulary>(&json).unwrap(), v);

        let small = Vocabulary::build(
            texts,
            VocabConfig {
                max_size: 4,
                min_frequency: 2,
                ..config.clone()
            },
        )
        .unwrap();
        assert_eq!(small.len(), 4);
        assert_eq!(small.encode("c a"), [UNK, 2, PAD, PAD, PAD]);
    }

    #[test]
    fn bad_configs_and_files_are_errors() {
        for bad in [
            VocabConfig::new(0),
            VocabConfig {
                max_size: 1,
                ..VocabConfig::new(4)
            },
            VocabConfig {
                min_frequency: 0,
                ..VocabConfig::new(4)
            },
        ] {
            assert!(Vocabulary::build(["a"], bad).is_err());
        }
        let dup = r#"{"config":{"lowercase":true,"min_frequency":1,"max_size":9,"length":3},
                     "tokens":["<pad>","<unk>","a","a"]}"#;
        assert!(serde_json::from_str::<Vocabulary>(dup).is_err());
    }
}
