//! Image classification data: MNIST and CIFAR-10.
//!
//! Every loader produces the same [`ImageSet`] (u8 pixels, CHW per image), so
//! the trainer does not care which file format was on disk:
//!
//! | module | job |
//! |---|---|
//! | [`idx`] | the IDX format of MNIST |
//! | [`mnist`] | MNIST's four IDX files, gzipped or not |
//! | [`cifar_bin`] | CIFAR-10's binary version (`data_batch_*.bin`) |
//! | [`cifar_jpeg`] | the project's lossy JPEG copy of CIFAR-10 (`*.tar.gz`) |
//! | [`folder`] | a user's own images, one folder per class (PNG, JPEG) |
//! | [`checksum`] | published SHA-256 hashes and the check |
//! | [`split`] | seeded validation hold-out and epoch order |
//! | `image_set`, `normalize`, `batch` | the in-memory set, normalisation, the batch fast path |
//! | `load` | [`load_mnist`] / [`load_cifar10`]: find, load, split |

pub mod checksum;
pub mod cifar_bin;
pub mod cifar_jpeg;
pub mod folder;
pub mod idx;
pub mod mnist;
pub mod split;

mod batch;
mod error;
pub(crate) mod fsio;
mod image_set;
mod load;
mod normalize;

pub use checksum::ChecksumPolicy;
pub use error::DataError;
pub use folder::{FolderSplit, load_image_folder, write_grey_png};
pub use image_set::{ImageItem, ImageSet, ImageShape};
pub use load::{DataSource, LoadOptions, TrainTest, VisionData, load_cifar10, load_mnist};
pub use normalize::Normalization;
pub use split::{LTH_VALIDATION_SIZE, epoch_order, split_indices, split_validation};
