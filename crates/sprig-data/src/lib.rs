//! Data sets for Sprig, loaded from a local data directory, and (feature `fetch`)
//! downloaded into one from their official locations.
//!
//! Vision: MNIST and CIFAR-10, in whichever format the data
//! directory holds, as in-memory [`ImageSet`]s that implement Burn's
//! [`Dataset`](burn_dataset::Dataset) trait and offer an allocation-free
//! batch path ([`ImageSet::fill_batch`]) for the trainer.
//!
//! - [`data_dir`]: `--data-dir`, else `$SPRIG_DATA`, else `./data`.
//! - [`load_mnist`] / [`load_cifar10`]: find the files under the data
//!   directory, verify, decode, hold out a seeded validation split.
//! - [`Normalization`]: per-channel mean/std fitted on the training split.
//! - [`epoch_order`]: the seeded visiting order of each epoch.
//!
//! Audio ([`audio`]): WAV recordings (the Free Spoken Digit Dataset, or one folder per
//! label) as log-mel spectrograms, extracted in parallel and cached.
//!
//! Text ([`text`]): TREC, MR and CSV files in the layout of Zhang et al. (2015), tokenised
//! and encoded with a [`Vocabulary`] built from the training split only, as [`TextSet`]s.
//!
//! Fetching ([`fetch`], feature `fetch`): MNIST, CIFAR-10 (the lossless binary version),
//! TREC, MR and FSDD from where their authors publish them, checked against the published
//! hashes before a loader may read them.
//!
//! Every bad input (missing, truncated or corrupt file) is a [`DataError`]
//! naming the file and what was expected; nothing panics on it.
//!
//! **CIFAR-10 caveat**: the copy in the project's shared data is a lossy JPEG
//! re-encoding. [`VisionData::source`] says what was read; record it with any
//! result.
//!
//! # Example
//!
//! Images held in memory, normalised and batched in a seeded order (runs as is):
//!
//! ```
//! use sprig_data::{ImageSet, ImageShape, Normalization, epoch_order};
//!
//! # fn main() -> Result<(), sprig_data::DataError> {
//! // Four 2×2 grey images of two classes.
//! let pixels = vec![0, 0, 255, 255, 255, 255, 0, 0, 10, 20, 240, 250, 250, 240, 20, 10];
//! let classes = vec!["top-dark".to_string(), "top-bright".to_string()];
//! let set = ImageSet::new(ImageShape::new(1, 2, 2), pixels, vec![0, 1, 0, 1], classes)?;
//! let norm = Normalization::fit(&set)?; // per channel, on the training split only
//! let order = epoch_order(set.len(), 7, 0);
//! assert_eq!(order, epoch_order(set.len(), 7, 0), "one seed, one order");
//! let (mut images, mut labels) = (Vec::new(), Vec::new());
//! set.fill_batch(&order[..2], &norm, &mut images, &mut labels)?;
//! assert_eq!((images.len(), labels.len()), (8, 2));
//! # Ok(())
//! # }
//! ```
//!
//! The real data sets, from the data directory:
//!
//! ```no_run
//! use sprig_data::{LoadOptions, data_dir, epoch_order, load_mnist};
//!
//! # fn main() -> Result<(), sprig_data::DataError> {
//! let seed = 7;
//! let data = load_mnist(data_dir(None), &LoadOptions::lth(seed))?;
//! assert_eq!((data.train.len(), data.validation.len()), (55_000, 5_000));
//! println!("loaded {}", data.source);
//!
//! let norm = data.fit_normalization()?;
//! let (mut images, mut labels) = (Vec::new(), Vec::new());
//! for epoch in 0..2 {
//!     for batch in epoch_order(data.train.len(), seed, epoch).chunks(60) {
//!         data.train.fill_batch(batch, &norm, &mut images, &mut labels)?;
//!         // images: [60, 1, 28, 28] f32 (CHW), labels: [60] i64
//!     }
//! }
//! # Ok(())
//! # }
//! ```

#![warn(missing_docs)]

pub mod audio;
mod data_dir;
#[cfg(feature = "fetch")]
pub mod fetch;
pub mod text;
pub mod vision;

pub use data_dir::{DATA_DIR_ENV, DEFAULT_DATA_DIR, data_dir};
pub use text::{
    TextData, TextItem, TextOptions, TextSet, TrecLabels, Vocabulary, load_class_csv, load_mr,
    load_trec,
};
pub use vision::{
    ChecksumPolicy, DataError, DataSource, FolderSplit, ImageItem, ImageSet, ImageShape,
    LTH_VALIDATION_SIZE, LoadOptions, Normalization, TrainTest, VisionData, epoch_order,
    load_cifar10, load_image_folder, load_mnist, split_indices, split_validation,
};
