//! The options of `sprig prune`: the same fields from a TOML file and from flags, flags
//! winning, resolved into one typed [`Experiment`] with errors a user can act on.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use serde_with::{As, DisplayFromStr};
use sprig_backend::{BackendChoice, StepThreads};
use sprig_data::FolderSplit;
use sprig_export::ExportFormat;
use sprig_mask::{LayerRates, Scope};
use sprig_models::Architecture;
use sprig_prune::PruneRules;
use sprig_prune::engine::{Distillation, FinalStart};
use sprig_run::{DataFolder, Dataset, Experiment, Method, Pruning, advice, defaults};

use crate::values::{Budget, ByteSize, MethodChoice, Pattern, RateRule};

/// Every option of a run. Each may come from `--config FILE` (the same names, in
/// kebab-case) or from a flag; a flag overrides the file. The resolved set (all but `out`)
/// is saved in the run folder as `sprig.toml`, which `--config` reads back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PruneOptions {
    /// Architecture from the zoo (`lenet-300-100`, `conv-2`, `textcnn`, `ds-cnn`, …).
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub model: Option<Architecture>,
    /// Data set (`mnist`, `cifar10`, `trec`, `mr`, `fsdd`; or your own: `images`,
    /// `text-csv`, `audio-folders`, given by `--images`, `--text-csv`, `--audio`).
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub dataset: Option<Dataset>,
    /// Your own images: a folder with one folder of images (PNG, JPEG) per class, or
    /// `train/` and `test/` folders laid out so (then the test split is yours). Implies
    /// `--dataset images`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub images: Option<PathBuf>,
    /// Share of an image folder without `test/` held out as the test split (default 0.1;
    /// the same images for every seed).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_fraction: Option<f64>,
    /// Your own texts: a folder with `train.csv` and `test.csv` (records `class,text`, the
    /// class a 1-based index; Zhang et al. 2015's layout) and optionally `classes.txt`
    /// (one class name per line). Implies `--dataset text-csv`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_csv: Option<PathBuf>,
    /// Your own recordings: a folder with one folder of `.wav` files per label (Google
    /// Speech Commands' layout); its `validation_list.txt` and `testing_list.txt` name the
    /// held-out files when present, else a seeded 10% of each label is the test split.
    /// Implies `--dataset audio-folders`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<PathBuf>,
    /// Share of your own training examples held out for validation (model selection;
    /// default 0.1, drawn by the seed). Built-in data sets have their published splits.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub validation_fraction: Option<f64>,
    /// Wall-clock budget, end to end: `90s`, `5m`, `1h30m`.
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub budget: Option<Budget>,
    /// Fraction of the prunable weights to remove, in [0, 1) (e.g. 0.9).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sparsity: Option<f64>,
    /// Instead of a sparsity: the size the exported ticket must fit in (`64KiB`, `1.5MB`,
    /// `30000`), turned into a sparsity by the export format (image models).
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub size: Option<ByteSize>,
    /// The export format a `--size` is for: `sparse_int8` (default), `sparse_f32`.
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub format: Option<ExportFormat>,
    /// `budgeted` (default), `one-shot` (one prune to the target) or `dense` (no pruning).
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub method: Option<MethodChoice>,
    /// `auto` (default: the fastest backend compiled in, chosen by timing a few of this
    /// run's steps on each; the time counts in the budget), `flex`, `ndarray` or `tch-cpu`.
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub backend: Option<BackendChoice>,
    /// The threads a training step uses on flex and ndarray: `auto` (default: one thread
    /// when the first steps on all take under 10 ms: a small model is faster on one), `all` or `one`. Changes speed, never results; LibTorch keeps its
    /// own threads.
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub threads: Option<StepThreads>,
    /// Compute every layer densely, pruned weights as zeros. By default a layer of
    /// LeNet-300-100 that keeps at most a fifth of its weights computes with those alone,
    /// so late rounds take less time per step (the same training up to the order of sums).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dense_products: bool,
    /// Drives every random choice (θ0, validation split, batch order). Default 0.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Magnitude ranking: `global` (one pool) or `layerwise` (each tensor alone).
    /// Default: layerwise for text models and Conv-2/4/6 (these at the LTH paper's
    /// per-kind rates), global otherwise; another scope than the model's prunes every
    /// tensor at one rate.
    #[arg(long)]
    #[serde(
        default,
        with = "As::<Option<DisplayFromStr>>",
        skip_serializing_if = "Option::is_none"
    )]
    pub scope: Option<Scope>,
    /// Late rewinding: the ticket trains from the weights after this many iterations of
    /// the dense training (0: θ0, as the Lottery Ticket paper). Default: 500 for image
    /// models, about a tenth of the dense training's plateau in the evaluation's runs,
    /// where these tickets scored at or above θ0's; 0 for text and audio models, where
    /// rewinding late has shown no gain yet (on TREC the two tie).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rewind_iteration: Option<u64>,
    /// The final training resumes from the weights the last prune ranked, with a fresh
    /// learning-rate schedule, instead of rewinding (learning-rate rewinding, Renda,
    /// Frankle & Carbin 2020): not a lottery ticket, but more training in the same
    /// budget. A setting of method budgeted (chosen when --method is left to auto).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub final_resumes: bool,
    /// The budgeted search's final training also learns from the dense training's selected
    /// weights (knowledge distillation: temperature 4, half of the loss), at the cost of
    /// one forward pass of the dense network per training example. A setting of method
    /// budgeted (chosen when --method is left to auto).
    #[arg(long)]
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub distill: bool,
    /// Also prune the parameters matching this path pattern (`*` matches anything, dots
    /// too: `blocks.*.weight`); repeatable. Setting any of --include, --exclude, --rate
    /// finds the prunable tensors by visiting the model (`sprig plan` lists them).
    #[arg(long, value_name = "PATTERN")]
    #[serde(
        default,
        with = "As::<Vec<DisplayFromStr>>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub include: Vec<Pattern>,
    /// Never prune the parameters matching this path pattern (wins over --include);
    /// repeatable.
    #[arg(long, value_name = "PATTERN")]
    #[serde(
        default,
        with = "As::<Vec<DisplayFromStr>>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub exclude: Vec<Pattern>,
    /// Scale the pruning rate of the parameters matching a pattern: `conv1.*=0.5` prunes
    /// them at half the rate, `=0` keeps them whole; the first matching pattern wins;
    /// repeatable.
    #[arg(long, value_name = "PATTERN=MULTIPLIER")]
    #[serde(
        default,
        with = "As::<Vec<DisplayFromStr>>",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub rate: Vec<RateRule>,
    /// The ticket folder (default: `sprig-runs/` + a name made of the options).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Where the data sets are (default: $SPRIG_DATA, then ./data).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// A size the exported ticket must fit in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SizeBudget {
    /// Bytes of the exported file.
    pub bytes: usize,
    /// Its format.
    pub format: ExportFormat,
}

/// Turns a size budget into a target sparsity for an experiment whose data is in a folder.
pub type SizeFitter<'a> = dyn FnMut(&Experiment, &Path, SizeBudget) -> Result<f64> + 'a;

/// What the options resolve to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The run, in the evaluation's typed form (its canonical JSON names the run).
    pub experiment: Experiment,
    /// The ticket folder.
    pub out: PathBuf,
    /// The data folder.
    pub data_dir: PathBuf,
    /// The size budget the target sparsity was derived from, if one was given.
    pub size: Option<SizeBudget>,
    /// Every option filled in but the folder: what is saved as `sprig.toml`.
    pub effective: PruneOptions,
}

impl PruneOptions {
    /// Reads a config file.
    ///
    /// # Errors
    /// A missing file, bad TOML, or a key that is not an option (named, with the file).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid sprig config (TOML with the keys model, dataset, budget, \
                 images, test-fraction, text-csv, audio, validation-fraction, sparsity, size, \
                 format, method, backend, threads, dense-products, seed, scope, rewind-iteration, final-resumes, distill, include, exclude, \
                 rate, out, data-dir)",
                path.display()
            )
        })
    }

    /// `self` where set, else `file`.
    #[must_use]
    pub fn over(self, file: Self) -> Self {
        Self {
            model: self.model.or(file.model),
            dataset: self.dataset.or(file.dataset),
            images: self.images.or(file.images),
            test_fraction: self.test_fraction.or(file.test_fraction),
            text_csv: self.text_csv.or(file.text_csv),
            audio: self.audio.or(file.audio),
            validation_fraction: self.validation_fraction.or(file.validation_fraction),
            budget: self.budget.or(file.budget),
            sparsity: self.sparsity.or(file.sparsity),
            size: self.size.or(file.size),
            format: self.format.or(file.format),
            method: self.method.or(file.method),
            backend: self.backend.or(file.backend),
            threads: self.threads.or(file.threads),
            dense_products: self.dense_products || file.dense_products,
            seed: self.seed.or(file.seed),
            scope: self.scope.or(file.scope),
            rewind_iteration: self.rewind_iteration.or(file.rewind_iteration),
            final_resumes: self.final_resumes || file.final_resumes,
            distill: self.distill || file.distill,
            include: or_file(self.include, file.include),
            exclude: or_file(self.exclude, file.exclude),
            rate: or_file(self.rate, file.rate),
            out: self.out.or(file.out),
            data_dir: self.data_dir.or(file.data_dir),
        }
    }

    /// The user's own data folder and the data set it implies, if one is given.
    ///
    /// # Errors
    /// More than one of `--images`, `--text-csv`, `--audio`.
    fn own_data(&self) -> Result<Option<(Dataset, &PathBuf)>> {
        let given: Vec<(Dataset, &PathBuf)> = [
            (Dataset::Images, &self.images),
            (Dataset::TextCsv, &self.text_csv),
            (Dataset::AudioFolders, &self.audio),
        ]
        .into_iter()
        .filter_map(|(d, dir)| dir.as_ref().map(|dir| (d, dir)))
        .collect();
        if given.len() > 1 {
            let flags: Vec<&str> = given.iter().map(|(d, _)| own_flag(*d)).collect();
            bail!("give one data folder, not {}", flags.join(" and "));
        }
        Ok(given.first().copied())
    }

    /// Checks every option and builds the experiment.
    ///
    /// # Errors
    /// A missing or unknown name (the known ones are listed), a budget that is not a
    /// duration, a sparsity outside [0, 1), a model that does not take the data set's input.
    #[cfg(test)]
    pub fn resolve(&self) -> Result<Resolved> {
        self.resolve_with(&mut |_, _, _| bail!("a size budget needs the `sprig` command"))
    }

    /// Checks every option and builds the experiment, turning a `size` into a target
    /// sparsity with `fit`.
    ///
    /// # Errors
    /// As `resolve`; a size with a sparsity, with method dense, or that is not a size;
    /// a format without a size; whatever `fit` fails with.
    pub fn resolve_with(&self, fit: &mut SizeFitter<'_>) -> Result<Resolved> {
        fn required<T: Copy>(value: Option<T>, key: &str, known: &str) -> Result<T> {
            value.with_context(|| {
                format!(
                    "no {key} given: pass --{key} or set `{key}` in the config file \
                     (known: {known})"
                )
            })
        }
        let models = Architecture::ALL.map(|a| a.name()).join(", ");
        let datasets = Dataset::ALL.map(|d| d.name()).join(", ");
        let model = required(self.model, "model", &models)?;
        let own = self.own_data()?;
        let dataset = match (self.dataset, own) {
            (None, Some((own, _))) => own,
            (dataset, _) => required(dataset, "dataset", &datasets)?,
        };
        match (dataset, own) {
            (d, None) if d.is_own() => bail!(
                "data set `{d}` is your own: give its folder with {} DIR ({})",
                own_flag(d),
                own_layout(d)
            ),
            (d, Some((own, _))) if d != own => bail!(
                "{} is your own data set, not {d}: drop --dataset or {}",
                own_flag(own),
                own_flag(own)
            ),
            _ => {}
        }
        if self.test_fraction.is_some() && self.images.is_none() {
            bail!("--test-fraction splits an image folder: give --images too");
        }
        if self.validation_fraction.is_some() && own.is_none() {
            bail!(
                "--validation-fraction splits your own data (--images, --text-csv, --audio); \
                 the built-in data sets keep their published splits"
            );
        }
        let rules = rules(&self.include, &self.exclude, &self.rate);
        let budget = required(self.budget, "budget", "a duration such as 90s, 5m, 1h30m")?;
        // `None`: auto, chosen from the evaluation tables once the regime is known.
        let chosen = self.method.unwrap_or_default().method();
        let method = chosen.unwrap_or(Method::Budgeted);
        let size = self.size.map(|size| SizeBudget {
            bytes: size.0,
            format: self.format.unwrap_or(ExportFormat::SparseInt8),
        });
        if self.format.is_some() && size.is_none() {
            bail!("--format says which exported file a --size budget is for: give --size too");
        }
        let sparsity = match (self.sparsity, method) {
            _ if size.is_some() && method == Method::Dense => bail!(
                "method dense does not prune, so it cannot meet a size budget: drop --size, or \
                 choose --method budgeted"
            ),
            (Some(s), _) if size.is_some() => bail!(
                "give a target sparsity or a size budget, not both (--sparsity {s} and --size \
                 {})",
                self.size.map(|s| s.to_string()).unwrap_or_default()
            ),
            // A placeholder until the size is turned into a sparsity, below.
            (None, _) if size.is_some() => 0.5,
            (s, Method::Dense) if s.is_none_or(|s| s == 0.0) => 0.0,
            (Some(s), Method::Dense) => bail!(
                "method dense trains without pruning, so a target sparsity ({s}) means nothing: \
                 drop --sparsity, or choose --method budgeted"
            ),
            (Some(s), _) => s,
            (None, _) => bail!(
                "no target sparsity given: pass --sparsity (the fraction of prunable weights \
                 to remove, e.g. 0.9) or set `sparsity` in the config file"
            ),
        };
        if !(sparsity.is_finite() && (0.0..1.0).contains(&sparsity)) {
            bail!(
                "target sparsity {sparsity} is outside [0, 1): it is the fraction of the \
                 prunable weights removed, e.g. 0.9 keeps one weight in ten"
            );
        }
        if sparsity == 0.0 && method != Method::Dense {
            bail!("a target sparsity of 0 prunes nothing: give one above 0, or use --method dense");
        }
        let advised = match chosen {
            Some(method) => advice::Choice::from(method),
            // A size budget is met by the budgeted search's own fitting; the final
            // training's start is the budgeted search's setting.
            None if size.is_some() || self.final_resumes || self.distill => advice::Choice::TICKET,
            None => advice::advise(dataset, model, budget.0.as_secs_f64(), sparsity).choice,
        };
        let method = advised.method;
        let final_resumes =
            self.final_resumes || advised.option == Some(advice::DefaultOption::FinalResumes);
        let backend = self.backend.unwrap_or_default();
        let seed = self.seed.unwrap_or(0);
        let mut experiment = defaults::single(
            dataset,
            model,
            method,
            seed,
            backend,
            budget.0.as_secs_f64(),
            sparsity,
        )?;
        let default_scope = experiment.pruning.clone().unwrap_or_default().scope;
        // The model's own scope keeps its rates (a saved run's options replay it).
        if let Some(scope) = self.scope.filter(|&s| s != default_scope) {
            let pruning = Pruning {
                scope,
                rates: LayerRates::uniform(),
            };
            // The default is written as no setting, so one run has one canonical form.
            experiment.pruning =
                (method != Method::Dense && pruning != Pruning::default()).then_some(pruning);
        }
        if self.dense_products {
            experiment.train.sparse_products = false;
        }
        if let Some(threads) = self.threads {
            experiment.train.threads = threads;
        }
        if let Some(k) = self.rewind_iteration {
            if method == Method::Dense && k > 0 {
                bail!("method dense does not rewind: drop --rewind-iteration");
            }
            // θ0 is written as no setting, so one run has one canonical form.
            experiment.rewind_iteration = (k > 0).then_some(k);
        }
        let final_settings = [
            ("--final-resumes", final_resumes),
            ("--distill", self.distill),
        ];
        for (flag, _) in final_settings.iter().filter(|(_, set)| *set) {
            if method != Method::Budgeted {
                bail!(
                    "{flag} is a setting of the budgeted search's final training; method \
                     {method} has no such training: drop it, or choose --method budgeted"
                );
            }
        }
        if final_resumes {
            experiment.final_start = Some(FinalStart::LastRanking);
        }
        if self.distill {
            experiment.distill = Some(Distillation::DEFAULT);
        }
        if let Some((own, dir)) = own {
            let flag = own_flag(own);
            let dir = std::fs::canonicalize(dir)
                .with_context(|| format!("{flag} {}: no such folder", dir.display()))?;
            let defaults = FolderSplit::default();
            let test_fraction = self.test_fraction.unwrap_or(defaults.test_fraction);
            if !(0.0..1.0).contains(&test_fraction) {
                bail!(
                    "--test-fraction {test_fraction} is outside [0, 1): it is the share of the images held out for the test"
                );
            }
            let validation_fraction = self
                .validation_fraction
                .unwrap_or(defaults.validation_fraction);
            if !(validation_fraction > 0.0 && validation_fraction < 1.0) {
                bail!(
                    "--validation-fraction {validation_fraction} is outside (0, 1): it is the \
                     share of the training examples held out to select the model"
                );
            }
            experiment.folder = Some(DataFolder {
                dir,
                split: FolderSplit {
                    test_fraction,
                    validation_fraction,
                },
            });
        }
        if rules.is_some() && method == Method::Dense {
            bail!("method dense prunes nothing: drop --include, --exclude and --rate");
        }
        experiment.rules = rules;
        let scope = experiment.pruning.clone().unwrap_or_default().scope;
        let data_dir = sprig_data::data_dir(self.data_dir.clone());
        if let Some(size) = size {
            experiment.target_sparsity = fit(&experiment, &data_dir, size)?;
        }
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| Path::new("sprig-runs").join(experiment.run_dir()));
        let prunes = method != Method::Dense;
        let split = experiment.folder.as_ref().map(|f| f.split);
        let folder_of = |d: Dataset| {
            experiment
                .folder
                .as_ref()
                .filter(|_| dataset == d)
                .map(|f| f.dir.clone())
        };
        // The folder is not saved: `--config` on a saved file must not point at its ticket.
        let effective = PruneOptions {
            model: Some(model),
            dataset: Some(dataset),
            images: folder_of(Dataset::Images),
            test_fraction: split
                .filter(|_| dataset == Dataset::Images)
                .map(|s| s.test_fraction),
            text_csv: folder_of(Dataset::TextCsv),
            audio: folder_of(Dataset::AudioFolders),
            validation_fraction: split.map(|s| s.validation_fraction),
            budget: Some(budget),
            sparsity: (prunes && size.is_none()).then_some(experiment.target_sparsity),
            size: self.size,
            format: size.map(|s| s.format),
            method: Some(MethodChoice::Named(method)),
            backend: Some(experiment.backend),
            threads: (experiment.train.threads != StepThreads::Auto)
                .then_some(experiment.train.threads),
            dense_products: self.dense_products && model.computes_sparsely(),
            seed: Some(seed),
            scope: prunes.then_some(scope),
            // θ0 saved as 0: no setting would read back as an image model's late rewinding.
            rewind_iteration: match experiment.rewind_iteration {
                None if method == Method::Budgeted => Some(0),
                k => k,
            },
            final_resumes: experiment.final_start.is_some(),
            distill: experiment.distill.is_some(),
            include: self.include.clone(),
            exclude: self.exclude.clone(),
            rate: self.rate.clone(),
            out: None,
            data_dir: Some(data_dir.clone()),
        };
        Ok(Resolved {
            experiment,
            out,
            data_dir,
            effective,
            size,
        })
    }
}

/// The flag that gives a user's own data set's folder.
fn own_flag(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::TextCsv => "--text-csv",
        Dataset::AudioFolders => "--audio",
        _ => "--images",
    }
}

/// What the folder of a user's own data set holds.
fn own_layout(dataset: Dataset) -> &'static str {
    match dataset {
        Dataset::TextCsv => "train.csv and test.csv of `class,text` records",
        Dataset::AudioFolders => "one folder of .wav files per label",
        _ => "one folder of images per class, or train/ and test/ folders laid out so",
    }
}

/// The flags' list if any were given, else the file's.
fn or_file<T>(flags: Vec<T>, file: Vec<T>) -> Vec<T> {
    if flags.is_empty() { file } else { flags }
}

/// `--include`, `--exclude` and `--rate` as pruning rules (`None` when none is given:
/// the model's own prunable tensors).
fn rules(include: &[Pattern], exclude: &[Pattern], rate: &[RateRule]) -> Option<PruneRules> {
    if include.is_empty() && exclude.is_empty() && rate.is_empty() {
        return None;
    }
    let patterns = |p: &[Pattern]| p.iter().map(|p| p.0.clone()).collect();
    Some(PruneRules {
        include: patterns(include),
        exclude: patterns(exclude),
        rates: rate
            .iter()
            .map(|r| (r.pattern.clone(), r.multiplier))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `text` as the value of a typed option.
    fn v<T: std::str::FromStr<Err: std::fmt::Debug>>(text: &str) -> T {
        text.parse().unwrap()
    }

    /// The options of a run on `dataset` (none when empty).
    fn options(model: &str, dataset: &str, budget: &str, sparsity: f64) -> PruneOptions {
        PruneOptions {
            model: Some(v(model)),
            dataset: dataset.parse().ok(),
            budget: Some(v(budget)),
            sparsity: Some(sparsity),
            ..PruneOptions::default()
        }
    }

    /// `sprig prune`'s flags alone.
    #[derive(Debug, clap::Parser)]
    struct Flags {
        #[command(flatten)]
        options: PruneOptions,
    }

    #[test]
    fn a_size_budget_excludes_a_sparsity_and_becomes_one() {
        let both = PruneOptions {
            size: Some(v("64KiB")),
            ..options("lenet-300-100", "mnist", "60s", 0.9)
        };
        let message = both.resolve().unwrap_err().to_string();
        assert!(message.contains("not both"), "{message}");
        let format_alone = PruneOptions {
            format: Some(v("sparse_f32")),
            ..options("lenet-300-100", "mnist", "60s", 0.9)
        };
        let message = format_alone.resolve().unwrap_err().to_string();
        assert!(message.contains("give --size too"), "{message}");
        // The fitter's sparsity becomes the target, and the saved options keep the size.
        let sized = PruneOptions {
            sparsity: None,
            size: Some(v("64KiB")),
            ..options("lenet-300-100", "mnist", "60s", 0.9)
        };
        let resolved = sized
            .resolve_with(&mut |_, _, size| {
                assert_eq!(size.bytes, 65_536);
                assert_eq!(size.format, ExportFormat::SparseInt8);
                Ok(0.93)
            })
            .unwrap();
        assert_eq!(resolved.experiment.target_sparsity, 0.93);
        assert_eq!(resolved.effective.sparsity, None);
        assert_eq!(resolved.effective.format, Some(ExportFormat::SparseInt8));
    }

    #[test]
    fn own_data_folders_imply_their_data_set_and_its_split() {
        let dir = std::env::temp_dir();
        let own = |d: Dataset| {
            let mut o = options("textcnn", "", "60s", 0.8);
            o.dataset = None;
            match d {
                Dataset::TextCsv => o.text_csv = Some(dir.clone()),
                Dataset::AudioFolders => {
                    o.model = Some(v("ds-cnn"));
                    o.audio = Some(dir.clone());
                }
                _ => {
                    o.model = Some(v("lenet-300-100"));
                    o.images = Some(dir.clone());
                }
            }
            o
        };
        for d in [Dataset::Images, Dataset::TextCsv, Dataset::AudioFolders] {
            let resolved = PruneOptions {
                validation_fraction: Some(0.2),
                ..own(d)
            }
            .resolve()
            .unwrap();
            assert_eq!(resolved.experiment.dataset, d);
            let folder = resolved.experiment.folder.clone().unwrap();
            assert_eq!(folder.dir, std::fs::canonicalize(&dir).unwrap());
            assert_eq!(folder.split.validation_fraction, 0.2);
            // Saved and read back, the options name the same run.
            let text = toml::to_string(&resolved.effective).unwrap();
            let again: PruneOptions = toml::from_str(&text).unwrap();
            assert_eq!(
                again.resolve().unwrap().experiment,
                resolved.experiment,
                "{text}"
            );
        }
        for (options, expected) in [
            (
                PruneOptions {
                    images: Some(dir.clone()),
                    ..own(Dataset::TextCsv)
                },
                "give one data folder, not --images and --text-csv",
            ),
            (
                PruneOptions {
                    dataset: Some(v("trec")),
                    ..own(Dataset::TextCsv)
                },
                "--text-csv is your own data set, not trec",
            ),
            (
                options("ds-cnn", "audio-folders", "60s", 0.8),
                "give its folder with --audio DIR",
            ),
            (
                PruneOptions {
                    validation_fraction: Some(0.2),
                    ..options("textcnn", "trec", "60s", 0.8)
                },
                "the built-in data sets keep their published splits",
            ),
            (
                PruneOptions {
                    validation_fraction: Some(1.0),
                    ..own(Dataset::AudioFolders)
                },
                "--validation-fraction 1 is outside (0, 1)",
            ),
            (
                PruneOptions {
                    text_csv: Some(dir.join("no-such-folder-here")),
                    ..own(Dataset::TextCsv)
                },
                "no-such-folder-here: no such folder",
            ),
            (
                own(Dataset::AudioFolders).tap_model("lenet-300-100"),
                "takes Image input",
            ),
        ] {
            let message = format!("{:#}", options.resolve().unwrap_err());
            assert!(
                message.contains(expected),
                "{expected:?} not in {message:?}"
            );
        }
    }

    impl PruneOptions {
        fn tap_model(mut self, model: &str) -> Self {
            self.model = Some(v(model));
            self
        }
    }

    #[test]
    fn pruning_rules_come_from_patterns_and_rates() {
        let ruled = PruneOptions {
            include: vec![v("fc1.bias")],
            exclude: vec![v("fc3.*")],
            rate: vec![v("fc1.*=0.5"), v("fc2.weight = 0")],
            ..options("lenet-300-100", "mnist", "60s", 0.8)
        };
        let resolved = ruled.resolve().unwrap();
        let rules = resolved.experiment.rules.clone().unwrap();
        assert_eq!(rules.include, ["fc1.bias"]);
        assert_eq!(rules.exclude, ["fc3.*"]);
        assert_eq!(
            rules.rates,
            [("fc1.*".to_string(), 0.5), ("fc2.weight".to_string(), 0.0)]
        );
        let rates = resolved.experiment.pruning_rates().unwrap();
        assert_eq!(rates.multiplier("linear [fc1.*]"), 0.5);
        assert_eq!(rates.multiplier("linear [fc2.weight]"), 0.0);
        assert_eq!(rates.multiplier("linear"), 1.0);
        // A run with rules is another run.
        let plain = options("lenet-300-100", "mnist", "60s", 0.8)
            .resolve()
            .unwrap();
        assert_ne!(plain.experiment.run_dir(), resolved.experiment.run_dir());
        assert_eq!(plain.experiment.rules, None);
        let text = toml::to_string(&resolved.effective).unwrap();
        let again: PruneOptions = toml::from_str(&text).unwrap();
        assert_eq!(
            again.resolve().unwrap().experiment,
            resolved.experiment,
            "{text}"
        );
        let dense = PruneOptions {
            exclude: vec![v("fc3.*")],
            method: Some(v("dense")),
            sparsity: None,
            ..options("lenet-300-100", "mnist", "60s", 0.8)
        };
        let message = dense.resolve().unwrap_err().to_string();
        assert!(message.contains("method dense prunes nothing"), "{message}");
    }

    #[test]
    fn the_final_training_s_settings_belong_to_the_budgeted_search() {
        type Setting = fn(&mut PruneOptions);
        type Expected = fn(&Experiment) -> bool;
        let check = |set: Setting, key: &str, expected: Expected| {
            let with = |method: Option<&str>| {
                let mut o = PruneOptions {
                    method: method.map(v),
                    ..options("lenet-300-100", "mnist", "120s", 0.964)
                };
                set(&mut o);
                o
            };
            for method in [None, Some("budgeted")] {
                let resolved = with(method).resolve().unwrap();
                assert_eq!(resolved.experiment.method, Method::Budgeted);
                assert!(expected(&resolved.experiment), "{key}");
                let text = toml::to_string(&resolved.effective).unwrap();
                assert!(text.contains(&format!("{key} = true")), "{text}");
                let again: PruneOptions = toml::from_str(&text).unwrap();
                assert_eq!(again.resolve().unwrap().experiment, resolved.experiment);
            }
            let message = with(Some("gmp")).resolve().unwrap_err().to_string();
            assert!(
                message.contains(&format!("--{key} is a setting"))
                    && message.contains("method gmp has no such training"),
                "{message}"
            );
        };
        check(
            |o| o.final_resumes = true,
            "final-resumes",
            |e| e.final_start == Some(FinalStart::LastRanking),
        );
        check(
            |o| o.distill = true,
            "distill",
            |e| e.distill == Some(Distillation::DEFAULT),
        );
    }

    #[test]
    fn flags_override_the_file_field_by_field() {
        let file = PruneOptions {
            seed: Some(3),
            ..options("conv-2", "cifar10", "10m", 0.5)
        };
        let flags = PruneOptions {
            sparsity: Some(0.95),
            ..PruneOptions::default()
        };
        let merged = flags.over(file);
        assert_eq!(merged.sparsity, Some(0.95));
        assert_eq!(merged.seed, Some(3));
        assert_eq!(merged.model, Some(Architecture::Conv2));
    }

    #[test]
    fn the_effective_options_round_trip_through_toml_to_the_same_run() {
        let resolved = options("lenet-300-100", "mnist", "90s", 0.9)
            .resolve()
            .unwrap();
        let text = toml::to_string(&resolved.effective).unwrap();
        let again: PruneOptions = toml::from_str(&text).unwrap();
        let again = again.resolve().unwrap();
        assert_eq!(again.experiment, resolved.experiment);
        assert_eq!(
            again.out, resolved.out,
            "the default folder follows from the run"
        );
        assert_eq!(resolved.effective.out, None, "the folder is not saved");
        assert_eq!(resolved.experiment.budget_s, Some(90.0));
        assert!(resolved.out.starts_with("sprig-runs"));
    }

    #[test]
    fn text_models_rank_layerwise_unless_told_otherwise() {
        let text = options("textcnn", "trec", "3m", 0.8).resolve().unwrap();
        assert_eq!(text.experiment.pruning.unwrap().scope, Scope::Layerwise);
        let global = PruneOptions {
            scope: Some(v("global")),
            ..options("textcnn", "trec", "3m", 0.8)
        }
        .resolve()
        .unwrap();
        assert_eq!(global.experiment.pruning, None, "global is the default");
        let vision = options("lenet-300-100", "mnist", "90s", 0.9)
            .resolve()
            .unwrap();
        assert_eq!(vision.effective.scope, Some(Scope::Global));
        // Conv-2 ranks each tensor at the LTH paper's per-kind rates: naming its own scope
        // keeps them, another prunes every tensor at one rate.
        let conv = |scope: Option<&str>| {
            PruneOptions {
                scope: scope.map(v),
                ..options("conv-2", "cifar10", "15m", 0.9)
            }
            .resolve()
            .unwrap()
            .experiment
            .pruning
        };
        assert_eq!(conv(None), defaults::conv_pruning(Architecture::Conv2));
        assert_eq!(conv(Some("layerwise")), conv(None));
        assert_eq!(
            conv(Some("global")),
            None,
            "global at one rate is the default"
        );
    }

    #[test]
    fn auto_runs_what_the_tables_advise_and_a_named_method_runs_itself() {
        for (method, budget, sparsity) in [
            (None, "2m", 0.9),
            (None, "2m", 0.982),
            (None, "30s", 0.964),
            (Some("auto"), "2m", 0.982),
        ] {
            let resolved = PruneOptions {
                method: method.map(v),
                ..options("lenet-300-100", "mnist", budget, sparsity)
            }
            .resolve()
            .unwrap();
            let advised = advice::advise(
                Dataset::Mnist,
                Architecture::Lenet300100,
                resolved.experiment.budget_s.unwrap(),
                sparsity,
            );
            assert_eq!(
                resolved.experiment.method, advised.choice.method,
                "{advised}"
            );
            assert_eq!(
                resolved.experiment.final_start.is_some(),
                advised.choice.option == Some(advice::DefaultOption::FinalResumes),
                "{advised}"
            );
            // The effective options name what ran, so they replay it.
            assert_eq!(
                resolved.effective.method,
                Some(MethodChoice::Named(advised.choice.method))
            );
            assert_eq!(
                resolved.effective.final_resumes,
                advised.choice.option.is_some()
            );
        }
        for method in [
            Method::Budgeted,
            Method::OneShot,
            Method::Gmp,
            Method::TruncatedImp,
            Method::Dense,
        ] {
            let sparsity = if method == Method::Dense { 0.0 } else { 0.982 };
            let resolved = PruneOptions {
                method: Some(MethodChoice::Named(method)),
                ..options("lenet-300-100", "mnist", "2m", sparsity)
            }
            .resolve()
            .unwrap();
            assert_eq!(resolved.experiment.method, method);
        }
    }

    #[test]
    fn threads_are_a_setting_of_the_training() {
        let one = PruneOptions {
            threads: Some(v("one")),
            ..options("lenet-300-100", "mnist", "60s", 0.9)
        }
        .resolve()
        .unwrap();
        assert_eq!(one.experiment.train.threads, StepThreads::One);
        assert_eq!(one.effective.threads, Some(StepThreads::One));
        let auto = options("lenet-300-100", "mnist", "60s", 0.9)
            .resolve()
            .unwrap();
        assert_eq!(auto.experiment.train.threads, StepThreads::Auto);
        assert_eq!(
            auto.effective.threads, None,
            "auto is written as no setting"
        );
    }

    #[test]
    fn sparse_products_are_on_where_a_model_computes_sparsely_unless_turned_off() {
        let check = |model: &str, dataset: &str, dense_products: bool, expect: bool| {
            let resolved = PruneOptions {
                dense_products,
                ..options(model, dataset, "60s", 0.9)
            }
            .resolve()
            .unwrap();
            assert_eq!(
                resolved.experiment.train.sparse_products, expect,
                "{model}, --dense-products {dense_products}"
            );
        };
        check("lenet-300-100", "mnist", false, true);
        check("lenet-300-100", "mnist", true, false);
        // Conv-2 has no layer that computes sparsely: the setting stays off, and so out
        // of the run's name.
        check("conv-2", "cifar10", false, false);
    }

    #[test]
    fn image_tickets_rewind_late_unless_told_otherwise() {
        // (model, data set, --rewind-iteration, the run's rewind point: None is θ0)
        for (model, dataset, flag, expect) in [
            ("lenet-300-100", "mnist", None, Some(500)),
            ("conv-2", "cifar10", None, Some(500)),
            ("textcnn", "trec", None, None),
            ("ds-cnn", "fsdd", None, None),
            ("lenet-300-100", "mnist", Some(0), None),
            ("textcnn", "trec", Some(2_000), Some(2_000)),
        ] {
            let resolved = PruneOptions {
                method: Some(MethodChoice::Named(Method::Budgeted)),
                rewind_iteration: flag,
                ..options(model, dataset, "2m", 0.9)
            }
            .resolve()
            .unwrap();
            assert_eq!(
                resolved.experiment.rewind_iteration, expect,
                "{model}, --rewind-iteration {flag:?}"
            );
            // Saved and read back, the choice (θ0 too) replays the same run.
            let text = toml::to_string(&resolved.effective).unwrap();
            let again: PruneOptions = toml::from_str(&text).unwrap();
            assert_eq!(again.resolve().unwrap().experiment, resolved.experiment);
        }
    }

    /// Each bad value, given as a flag and as a config-file entry, and a phrase both
    /// messages must contain: refused where it is read, before any option is resolved.
    #[test]
    fn bad_values_are_refused_where_they_are_read() {
        for (key, value, phrase) in [
            ("model", "lenet5", "unknown model `lenet5`"),
            ("model", "lenet5", "lenet-300-100"),
            ("dataset", "imagenet", "unknown data set `imagenet`"),
            ("dataset", "imagenet", "mnist, cifar10"),
            ("budget", "soon", "1h30m"),
            ("budget", "0s", "under a second"),
            ("size", "64 parsecs", "unknown unit"),
            ("format", "zip", "known formats are dense_f32"),
            ("method", "magic", "known methods are auto, budgeted"),
            ("backend", "cuda-please", "known backends are flex"),
            ("threads", "three", "auto, all or one"),
            ("scope", "local", "known scopes are global, layerwise"),
            ("rate", "fc1.*=half", "PATTERN=MULTIPLIER"),
            ("include", " ", "matches nothing"),
        ] {
            let flag = Flags::try_parse_from(["sprig", &format!("--{key}"), value])
                .unwrap_err()
                .to_string();
            let entry = match key {
                "rate" | "include" => format!("{key} = [{value:?}]"),
                _ => format!("{key} = {value:?}"),
            };
            let file = toml::from_str::<PruneOptions>(&entry)
                .unwrap_err()
                .to_string();
            for message in [flag, file] {
                assert!(
                    message.contains(phrase) && message.contains(value.trim()),
                    "`{phrase}` not in: {message}"
                );
            }
        }
        let good = Flags::try_parse_from([
            "sprig",
            "--model",
            "conv-2",
            "--budget",
            "1h30m",
            "--rate",
            "conv1.*=0.5",
        ])
        .unwrap();
        assert_eq!(good.options.model, Some(Architecture::Conv2));
        assert_eq!(good.options.budget, Some(v("90m")));
    }

    /// Each bad combination of options, and a phrase its message must contain.
    #[test]
    fn bad_options_say_what_is_wrong_and_what_would_do() {
        let cases: Vec<(PruneOptions, &[&str])> = vec![
            (
                options("lenet-300-100", "mnist", "90s", 1.0),
                &["outside [0, 1)"],
            ),
            (
                options("lenet-300-100", "mnist", "90s", -0.1),
                &["outside [0, 1)"],
            ),
            (
                options("lenet-300-100", "mnist", "90s", f64::NAN),
                &["outside [0, 1)"],
            ),
            (
                options("textcnn", "mnist", "90s", 0.9),
                &["textcnn", "models for mnist", "lenet-300-100"],
            ),
            (PruneOptions::default(), &["no model given", "--model"]),
            (
                options("lenet-300-100", "mnist", "90s", 0.0),
                &["prunes nothing", "dense"],
            ),
            (
                PruneOptions {
                    method: Some(v("dense")),
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["trains without pruning", "drop --sparsity"],
            ),
            (
                PruneOptions {
                    sparsity: None,
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["no target sparsity", "--sparsity"],
            ),
        ];
        for (options, phrases) in cases {
            let message = format!("{:#}", options.resolve().unwrap_err());
            for phrase in phrases {
                assert!(message.contains(phrase), "`{phrase}` not in: {message}");
            }
        }
    }

    #[test]
    fn unknown_config_keys_are_refused_by_name() {
        let error = toml::from_str::<PruneOptions>("model = \"conv-2\"\nsparsty = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sparsty"), "{error}");
    }
}
