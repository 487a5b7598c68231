//! The data sets an invocation has loaded, keyed by what defines them (data set, seed,
//! settings), so a grid of experiments loads and normalises each one once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sprig_data::audio::{AudioData, AudioOptions, FeatureNorm, load_fsdd, load_wav_folders};
use sprig_data::text::{TextData, TextOptions, TrecLabels, load_class_csv, load_mr, load_trec};
use sprig_data::{
    LoadOptions, Normalization, VisionData, load_cifar10, load_image_folder, load_mnist,
};

use crate::config::{Dataset, Experiment};

/// Loaded data sets and their normalisations.
#[derive(Debug)]
pub(crate) struct DataCache {
    data_dir: PathBuf,
    /// Where computed audio features are kept between invocations.
    feature_cache: PathBuf,
    /// Built-in image sets by (data set, seed).
    images: HashMap<(Dataset, u64), (VisionData, Normalization)>,
    /// Text sets by (data set, seed, vocabulary settings as JSON).
    text: HashMap<(Dataset, u64, String), TextData>,
    /// Audio sets and their normalisation by (data set, seed, settings as JSON).
    audio: HashMap<(Dataset, u64, String), (AudioData, FeatureNorm)>,
    /// Image folders and their normalisation by (seed, folder settings as JSON).
    image_folders: HashMap<(u64, String), (VisionData, Normalization)>,
}

impl DataCache {
    /// An empty cache reading built-in data sets from `data_dir`.
    pub(crate) fn new(data_dir: PathBuf, feature_cache: PathBuf) -> Self {
        Self {
            data_dir,
            feature_cache,
            images: HashMap::new(),
            text: HashMap::new(),
            audio: HashMap::new(),
            image_folders: HashMap::new(),
        }
    }

    /// The audio data set of `e` (its split, its seed's validation split, its features)
    /// and the per-band normalisation of its training split, loaded once. Features are
    /// cached in the feature cache.
    pub(crate) fn audio(&mut self, e: &Experiment) -> Result<&(AudioData, FeatureNorm)> {
        let settings = e
            .audio
            .clone()
            .with_context(|| format!("{} needs split and feature settings", e.dataset))?;
        let folder = e.folder.as_ref().filter(|_| e.dataset.is_own());
        let key = (
            e.dataset,
            e.seed,
            serde_json::to_string(&(&settings, folder))?,
        );
        if !self.audio.contains_key(&key) {
            let dir = match folder {
                Some(folder) => folder.dir.clone(),
                None => self.data_dir.join(e.dataset.name()),
            };
            let mut options = AudioOptions {
                cache_dir: Some(self.feature_cache.clone()),
                ..AudioOptions::new(e.seed, settings.features)
            };
            if let Some(folder) = folder {
                options.validation_fraction = folder.split.validation_fraction;
            }
            let data = match e.dataset {
                Dataset::Fsdd => load_fsdd(&dir, &settings.split, &options),
                Dataset::AudioFolders => load_wav_folders(&own_folder(e)?.dir, &options),
                other => bail!("{other} is not an audio data set"),
            }
            .map_err(|err| loading_error(err, e.dataset, &dir))?;
            tracing::info!(source = %data.source, train = data.train.len(),
                validation = data.validation.len(), test = data.test.len(),
                feature_seconds = data.feature_seconds, cached = data.from_cache, "loaded");
            let norm = FeatureNorm::fit(&data.train)?;
            self.audio.insert(key.clone(), (data, norm));
        }
        Ok(&self.audio[&key])
    }

    /// The image folder of `e` with its seed's validation split, and the normalisation
    /// fitted on its training split, loaded once.
    pub(crate) fn image_folder(&mut self, e: &Experiment) -> Result<&(VisionData, Normalization)> {
        let folder = own_folder(e)?;
        let key = (e.seed, serde_json::to_string(&folder)?);
        if !self.image_folders.contains_key(&key) {
            let data = load_image_folder(&folder.dir, &folder.split, &LoadOptions::lth(e.seed))
                .with_context(|| format!("loading the image folder {}", folder.dir.display()))?;
            let norm = data.fit_normalization()?;
            self.image_folders.insert(key.clone(), (data, norm));
        }
        Ok(&self.image_folders[&key])
    }

    /// The text data set of `e` (its seed's validation split, its vocabulary settings),
    /// loaded once.
    pub(crate) fn text(&mut self, e: &Experiment) -> Result<&TextData> {
        let vocab = e
            .text
            .clone()
            .with_context(|| format!("{} needs tokenisation settings", e.dataset))?;
        let folder = e.folder.as_ref().filter(|_| e.dataset.is_own());
        let key = (e.dataset, e.seed, serde_json::to_string(&(&vocab, folder))?);
        if !self.text.contains_key(&key) {
            let dir = match folder {
                Some(folder) => folder.dir.clone(),
                None => self.data_dir.join(e.dataset.name()),
            };
            let mut options = TextOptions {
                vocab,
                ..TextOptions::new(e.seed, 1)
            };
            if let Some(folder) = folder {
                options.validation_fraction = folder.split.validation_fraction;
            }
            let data = match e.dataset {
                Dataset::Trec => load_trec(&dir, TrecLabels::Coarse, &options),
                Dataset::Mr => load_mr(&dir, &options),
                Dataset::TextCsv => load_class_csv(&own_folder(e)?.dir, &options),
                other => bail!("{other} is not a text data set"),
            }
            .map_err(|err| loading_error(err, e.dataset, &dir))?;
            tracing::info!(source = %data.source, vocabulary = data.vocab.len(),
                train = data.train.len(), validation = data.validation.len(),
                test = data.test.len(), "loaded");
            self.text.insert(key.clone(), data);
        }
        Ok(&self.text[&key])
    }

    /// The data set with the experiment seed's validation split, loaded once.
    pub(crate) fn images(
        &mut self,
        dataset: Dataset,
        seed: u64,
    ) -> Result<&(VisionData, Normalization)> {
        if !self.images.contains_key(&(dataset, seed)) {
            let dir = self.data_dir.join(dataset.name());
            let options = LoadOptions::lth(seed);
            let data = match dataset {
                Dataset::Mnist => load_mnist(&dir, &options),
                Dataset::Cifar10 => load_cifar10(&dir, &options),
                other => bail!("{other} is not an image data set"),
            }
            .map_err(|err| loading_error(err, dataset, &dir))?;
            let norm = data.fit_normalization()?;
            self.images.insert((dataset, seed), (data, norm));
        }
        Ok(&self.images[&(dataset, seed)])
    }
}

/// A loader's error with what was being loaded, and how to get a missing built-in data set.
fn loading_error(err: sprig_data::DataError, dataset: Dataset, dir: &Path) -> anyhow::Error {
    let hint = if err.is_missing() && !dataset.is_own() {
        format!(
            " (to download it: `sprig data fetch {dataset} --data-dir {}`)",
            dir.parent().unwrap_or(dir).display()
        )
    } else {
        String::new()
    };
    anyhow::Error::new(err).context(format!("loading {dataset} from {}{hint}", dir.display()))
}

/// The folder of an experiment on a user's own data set.
pub(crate) fn own_folder(e: &Experiment) -> Result<&crate::DataFolder> {
    let flag = match e.dataset {
        Dataset::TextCsv => "--text-csv",
        Dataset::AudioFolders => "--audio",
        _ => "--images",
    };
    e.folder.as_ref().with_context(|| {
        format!(
            "data set {} is your own: give its folder ({flag} DIR)",
            e.dataset
        )
    })
}
