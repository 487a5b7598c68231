//! Audio classification data: WAV recordings as log-mel spectrograms.
//!
//! | module | job |
//! |---|---|
//! | `wav` | decoding with `hound`, mono mix-down |
//! | `resample` | windowed-sinc resampling to the feature rate |
//! | `features` | log-mel spectrograms (`sprig_runtime::LogMel`, the device's extractor) |
//! | `cache` | extracted features on disk, keyed by settings and files |
//! | `feature_set` | spectrograms in memory, per-band normalisation, the batch path |
//! | `load` | [`load_fsdd`] (official or speaker-held-out split), [`load_wav_folders`] |

mod cache;
mod feature_set;
mod features;
mod load;
mod resample;
mod wav;

pub use feature_set::{FeatureItem, FeatureNorm, FeatureSet};
pub use features::{FeatureConfig, LogMel, spoken_digits};
pub use load::{AudioData, AudioOptions, BadFiles, FsddSplit, load_fsdd, load_wav_folders};
pub use resample::resample;
pub use wav::{Clip, decode_wav, read_wav};
