//! Text classification data: TREC, MR, and the CSV layout of Zhang et al. (2015).
//!
//! | module | job |
//! |---|---|
//! | `tokenize` | Kim (2014)-style tokens |
//! | `vocab` | the vocabulary of the training split, padding/truncation to a length |
//! | `corpus` | readers of the raw files, errors by file and line |
//! | `text_set` | encoded examples in memory, Burn's `Dataset`, the batch path |
//! | `load` | [`load_trec`], [`load_mr`], [`load_class_csv`]: read, split, encode |

mod corpus;
mod load;
mod text_set;
mod tokenize;
mod vocab;

pub use corpus::{RawExample, TrecLabels, read_class_csv, read_mr, read_trec};
pub use load::{
    MR_TEST_FRACTION, MR_TEST_SPLIT_SEED, TextData, TextOptions, load_class_csv, load_mr, load_trec,
};
pub use text_set::{TextItem, TextSet};
pub use tokenize::tokenize;
pub use vocab::{PAD, UNK, VocabConfig, Vocabulary};
