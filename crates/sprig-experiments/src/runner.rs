//! Runs one experiment on real data (MNIST, CIFAR-10, TREC, MR) and writes its ticket
//! folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Int, Tensor};
use sprig_backend::Backend;
use sprig_budget::{BuiltinPolicy, Clock, FixedRounds, RealClock};
use sprig_data::audio::{AudioData, AudioOptions, FeatureNorm, load_fsdd};
use sprig_data::text::{TextData, TextOptions, TrecLabels, load_mr, load_trec};
use sprig_data::{LoadOptions, Normalization, VisionData, load_cifar10, load_mnist};
use sprig_mask::{MaskSet, Snapshot, random_like};
use sprig_models::{
    Architecture, AudioCnn, BagOfEmbeddings, Classifier, ConvNet, DsCnn, Lenet300100, Modality,
    ResNet, TextCnn, TextCnnSize, initial_weights,
};
use sprig_prune::classifier::{
    ClassifierTrainee, FeatureBatches, ImageBatches, LabelledData, TokenBatches,
};
use sprig_prune::engine::{
    BudgetedConfig, ImpConfig, RoundRecord, Slowdown, Slowed, StopReason, TrainOnce, Trainee,
    TrainingLength, run_budgeted, run_imp, train_once,
};
use sprig_prune::tensor_shapes;
use sprig_report::RunResult;

use crate::config::{Dataset, Experiment, Method};
use crate::ticket::{self, files};

/// Seed offsets for the controls, so their random draws differ from the ticket's own.
const RANDOM_MASK_STREAM: u64 = 0x5EED_0001;
const REINIT_STREAM: u64 = 0x5EED_0002;

/// Loaded data sets, kept across experiments of one invocation.
#[derive(Debug)]
pub struct Runner {
    data_dir: PathBuf,
    runs_root: PathBuf,
    loaded: HashMap<(Dataset, u64), (VisionData, Normalization)>,
    /// Text sets by (data set, seed, vocabulary settings as JSON).
    loaded_text: HashMap<(Dataset, u64, String), TextData>,
    /// Audio sets and their normalisation by (data set, seed, settings as JSON).
    loaded_audio: HashMap<(Dataset, u64, String), (AudioData, FeatureNorm)>,
    /// An injected slowdown (a debug hook of the CLI; never part of an experiment).
    slowdown: Option<Slowdown>,
}

/// What a method hands back before it is saved.
struct Finished {
    masks: MaskSet,
    initial: Snapshot,
    trained: Snapshot,
    rounds: Vec<RoundRecord>,
    plans: serde_json::Value,
    prunes: u32,
    iterations: u64,
    validation_accuracy: f64,
    stop: StopReason,
}

impl Runner {
    /// A runner reading data from `data_dir` and writing run folders under `runs_root`.
    pub fn new(data_dir: PathBuf, runs_root: PathBuf) -> Self {
        Self {
            data_dir,
            runs_root,
            loaded: HashMap::new(),
            loaded_text: HashMap::new(),
            loaded_audio: HashMap::new(),
            slowdown: None,
        }
    }

    /// Makes every later run slower from a given training on (see [`Slowdown`]): to check
    /// on the real clock that deadlines hold when the machine slows down mid-run.
    #[must_use]
    pub fn with_slowdown(mut self, slowdown: Option<Slowdown>) -> Self {
        self.slowdown = slowdown;
        self
    }

    /// Runs `experiment` in its run folder under the runs root, or reads its result if
    /// that folder holds one.
    pub fn run(&mut self, experiment: &Experiment) -> Result<RunResult> {
        let dir = self.runs_root.join(experiment.run_dir());
        self.run_at(experiment, &dir)
    }

    /// Runs `experiment` writing its ticket to `dir`, or reads its result if `dir` holds
    /// one. The caller makes sure `dir` holds no other run (the CLI checks `config.json`).
    pub fn run_at(&mut self, experiment: &Experiment, dir: &Path) -> Result<RunResult> {
        let result_path = dir.join(files::RESULT);
        if result_path.exists() {
            let text = std::fs::read(&result_path)
                .with_context(|| format!("reading {}", result_path.display()))?;
            tracing::info!(run = %dir.display(), "finished before: reusing its result");
            return serde_json::from_slice(&text)
                .with_context(|| format!("{} is not a result file", result_path.display()));
        }
        let ticket = if experiment.method.needs_ticket() {
            let source = self.runs_root.join(experiment.ticket_source().run_dir());
            Some(ticket::read_mask(&source).with_context(|| {
                format!(
                    "the {} control needs the budgeted ticket of the same configuration in {}",
                    experiment.method,
                    source.display()
                )
            })?)
        } else {
            None
        };
        let backend: Backend = experiment
            .backend
            .parse()
            .with_context(|| format!("backend `{}`", experiment.backend))?;
        let device = backend
            .train_device()
            .with_context(|| format!("backend `{backend}`"))?;
        let slowdown = self.slowdown;
        let ((finished, time_used), test_accuracy) = match experiment.dataset.modality() {
            Modality::Image => {
                let (data, norm) = self.load(experiment.dataset, experiment.seed)?;
                let splits = (
                    ImageBatches::new(data.train.clone(), norm.clone()),
                    ImageBatches::new(data.validation.clone(), norm.clone()),
                    ImageBatches::new(data.test.clone(), norm.clone()),
                );
                let shape = data.train.shape();
                let input = [shape.channels, shape.height, shape.width];
                let classes = data.classes.len();
                experiment.model.check_input(input)?;
                let start = Start {
                    experiment,
                    ticket,
                    dir,
                    preprocessing: Preprocessing::Image(norm),
                    device: &device,
                    slowdown,
                };
                start.go(splits, |train| {
                    build_model(experiment.model, input, classes, &device, train)
                })?
            }
            Modality::Audio => {
                let (data, norm) = self.load_audio(experiment)?;
                let splits = (
                    FeatureBatches::new(data.train.clone(), norm.clone()),
                    FeatureBatches::new(data.validation.clone(), norm.clone()),
                    FeatureBatches::new(data.test.clone(), norm.clone()),
                );
                let input = data.train.shape();
                let classes = data.train.classes().len();
                experiment.model.check_input(input)?;
                let start = Start {
                    experiment,
                    ticket,
                    dir,
                    preprocessing: Preprocessing::Audio(norm),
                    device: &device,
                    slowdown,
                };
                start.go(splits, |train| {
                    build_model(experiment.model, input, classes, &device, train)
                })?
            }
            Modality::Text => {
                let data = self.load_text(experiment)?;
                let splits = (
                    TokenBatches::new(data.train.clone()),
                    TokenBatches::new(data.validation.clone()),
                    TokenBatches::new(data.test.clone()),
                );
                let (vocab, classes) = (data.vocab.len(), data.classes.len());
                let start = Start {
                    experiment,
                    ticket,
                    dir,
                    preprocessing: Preprocessing::Text(&data.vocab),
                    device: &device,
                    slowdown,
                };
                start.go(splits, |train| {
                    build_text_model(experiment.model, vocab, classes, &device, train)
                })?
            }
        };
        let result = RunResult {
            domain: experiment.domain.clone(),
            dataset: experiment.dataset.name().into(),
            model: experiment.model.name().into(),
            method: experiment.method.name().into(),
            seed: experiment.seed,
            backend: experiment.backend.clone(),
            budget_s: experiment.budget_s,
            time_used_s: time_used.as_secs_f64(),
            target_sparsity: experiment.target_sparsity,
            sparsity: finished.masks.sparsity(),
            test_accuracy,
            rounds: finished.prunes,
            lr_schedule: experiment.train.schedule.name().into(),
            iterations: finished.iterations,
            validation_accuracy: Some(finished.validation_accuracy),
            stop_reason: Some(format!("{:?}", finished.stop).to_lowercase()),
            run_dir: experiment.run_dir().to_string_lossy().into_owned(),
            variant: experiment.variant(),
            embedding_sparsity: embedding_sparsity(&finished.masks),
        };
        ticket::write_json(dir, files::RESULT, &result)?;
        Ok(result)
    }

    /// The data set with the validation split of `seed`, and the normalisation fitted on
    /// its training split, loaded once per invocation.
    ///
    /// # Errors
    /// A missing or corrupt data file, named.
    pub fn data(&mut self, dataset: Dataset, seed: u64) -> Result<&(VisionData, Normalization)> {
        self.load(dataset, seed)
    }

    /// The folder run folders go under.
    pub fn runs_root(&self) -> &Path {
        &self.runs_root
    }

    /// The audio data set of `e` (its split, its seed's validation split, its features)
    /// and the per-band normalisation of its training split, loaded once. Features are
    /// cached beside the run folders (`sprig-cache/`).
    fn load_audio(&mut self, e: &Experiment) -> Result<&(AudioData, FeatureNorm)> {
        let settings = e
            .audio
            .clone()
            .with_context(|| format!("{} needs split and feature settings", e.dataset))?;
        let key = (e.dataset, e.seed, serde_json::to_string(&settings)?);
        if !self.loaded_audio.contains_key(&key) {
            let dir = self.data_dir.join(e.dataset.name());
            let options = AudioOptions {
                cache_dir: Some(self.runs_root.with_file_name("sprig-cache")),
                ..AudioOptions::new(e.seed, settings.features.clone())
            };
            let data = match e.dataset {
                Dataset::Fsdd => load_fsdd(&dir, &settings.split, &options),
                other => bail!("{other} is not an audio data set"),
            }
            .with_context(|| format!("loading {} from {}", e.dataset, dir.display()))?;
            tracing::info!(source = %data.source, train = data.train.len(),
                validation = data.validation.len(), test = data.test.len(),
                feature_seconds = data.feature_seconds, cached = data.from_cache, "loaded");
            let norm = FeatureNorm::fit(&data.train)?;
            self.loaded_audio.insert(key.clone(), (data, norm));
        }
        Ok(&self.loaded_audio[&key])
    }

    /// The text data set of `e` (its seed's validation split, its vocabulary settings),
    /// loaded once.
    fn load_text(&mut self, e: &Experiment) -> Result<&TextData> {
        let vocab = e
            .text
            .clone()
            .with_context(|| format!("{} needs tokenisation settings", e.dataset))?;
        let key = (e.dataset, e.seed, serde_json::to_string(&vocab)?);
        if !self.loaded_text.contains_key(&key) {
            let dir = self.data_dir.join(e.dataset.name());
            let options = TextOptions {
                vocab,
                ..TextOptions::new(e.seed, 1)
            };
            let data = match e.dataset {
                Dataset::Trec => load_trec(&dir, TrecLabels::Coarse, &options),
                Dataset::Mr => load_mr(&dir, &options),
                other => bail!("{other} is not a text data set"),
            }
            .with_context(|| format!("loading {} from {}", e.dataset, dir.display()))?;
            tracing::info!(source = %data.source, vocabulary = data.vocab.len(),
                train = data.train.len(), validation = data.validation.len(),
                test = data.test.len(), "loaded");
            self.loaded_text.insert(key.clone(), data);
        }
        Ok(&self.loaded_text[&key])
    }

    /// The data set with the experiment seed's validation split, loaded once.
    fn load(&mut self, dataset: Dataset, seed: u64) -> Result<&(VisionData, Normalization)> {
        if !self.loaded.contains_key(&(dataset, seed)) {
            let dir = self.data_dir.join(dataset.name());
            let options = LoadOptions::lth(seed);
            let data = match dataset {
                Dataset::Mnist => load_mnist(&dir, &options),
                Dataset::Cifar10 => load_cifar10(&dir, &options),
                other => bail!("{other} is not an image data set"),
            }
            .with_context(|| format!("loading {dataset} from {}", dir.display()))?;
            let norm = data.fit_normalization()?;
            self.loaded.insert((dataset, seed), (data, norm));
        }
        Ok(&self.loaded[&(dataset, seed)])
    }
}

/// Something to do with a freshly built zoo model, whatever its concrete type.
pub(crate) trait WithModel {
    /// What the model takes.
    type Input: Clone;
    /// What it gives back.
    type Output;
    /// Does it.
    fn with<M: Classifier<Input = Self::Input>>(self, model: M) -> Self::Output;
}

/// Builds the image model `architecture` for `input` images and `classes` on `device` and
/// hands it to `w`.
///
/// # Errors
/// `architecture` is not an image model.
pub(crate) fn build_model<W: WithModel<Input = Tensor<4>>>(
    architecture: Architecture,
    input: [usize; 3],
    classes: usize,
    device: &Device,
    w: W,
) -> Result<W::Output> {
    Ok(match architecture {
        Architecture::ResNet20 => w.with(ResNet::resnet20(input[0], classes, device)),
        Architecture::Lenet300100 => {
            w.with(Lenet300100::new(input.iter().product(), classes, device))
        }
        Architecture::Conv2 | Architecture::Conv4 | Architecture::Conv6 => {
            let pairs = architecture.conv_pairs().unwrap_or(1);
            w.with(ConvNet::new(pairs, input, classes, device))
        }
        Architecture::DsCnn => w.with(DsCnn::new(classes, device)),
        Architecture::AudioCnn => w.with(AudioCnn::new(input, classes, device)),
        Architecture::TextCnn | Architecture::BagOfEmbeddings => {
            bail!("{architecture} takes token ids, not images")
        }
    })
}

/// Builds the text model `architecture` for a vocabulary of `vocab` ids and `classes` on
/// `device` and hands it to `w`.
///
/// # Errors
/// `architecture` is not a text model.
pub(crate) fn build_text_model<W: WithModel<Input = Tensor<2, Int>>>(
    architecture: Architecture,
    vocab: usize,
    classes: usize,
    device: &Device,
    w: W,
) -> Result<W::Output> {
    Ok(match architecture {
        Architecture::TextCnn => w.with(TextCnn::new(vocab, classes, TextCnnSize::DEFAULT, device)),
        Architecture::BagOfEmbeddings => w.with(BagOfEmbeddings::new(vocab, classes, device)),
        other => bail!("{other} takes images, not token ids"),
    })
}

/// Trains a built model by the experiment's method.
struct Train<'a, D> {
    run: Run<'a>,
    device: Device,
    train: D,
    validation: D,
    test: &'a mut D,
}

impl<D: LabelledData> WithModel for Train<'_, D> {
    type Input = D::Input;
    type Output = Result<((Finished, Duration), f64)>;
    fn with<M: Classifier<Input = D::Input>>(self, model: M) -> Self::Output {
        self.run
            .go(model, &self.device, self.train, self.validation, self.test)
    }
}

/// Everything a run needs but its model and data.
struct Start<'a> {
    experiment: &'a Experiment,
    ticket: Option<MaskSet>,
    dir: &'a Path,
    preprocessing: Preprocessing<'a>,
    device: &'a Device,
    slowdown: Option<Slowdown>,
}

impl Start<'_> {
    /// Creates the run folder, starts the clock and hands `build` the training job (it
    /// builds the model and runs the job on it).
    fn go<D: LabelledData>(
        self,
        (train, validation, mut test): (D, D, D),
        build: impl FnOnce(Train<'_, D>) -> Result<Result<((Finished, Duration), f64)>>,
    ) -> Result<((Finished, Duration), f64)> {
        ticket::create_dir(self.dir)?;
        tracing::info!(run = %self.dir.display(), "starting");
        // The budget starts here: model construction, training and saving count.
        let clock = RealClock::new();
        let run = Run {
            experiment: self.experiment,
            ticket: self.ticket,
            dir: self.dir,
            clock: &clock,
            preprocessing: self.preprocessing,
            slowdown: self.slowdown,
        };
        build(Train {
            run,
            device: self.device.clone(),
            train,
            validation,
            test: &mut test,
        })?
    }
}

/// How inputs were prepared, saved with the ticket so inference repeats it.
enum Preprocessing<'a> {
    /// Pixel normalisation fitted on the training split.
    Image(&'a Normalization),
    /// The vocabulary of the training split.
    Text(&'a sprig_data::text::Vocabulary),
    /// Per-band spectrogram normalisation of the training split (the feature settings
    /// are in the experiment's configuration).
    Audio(&'a FeatureNorm),
}

/// One experiment in flight.
struct Run<'a> {
    experiment: &'a Experiment,
    ticket: Option<MaskSet>,
    dir: &'a Path,
    clock: &'a RealClock,
    preprocessing: Preprocessing<'a>,
    slowdown: Option<Slowdown>,
}

impl Run<'_> {
    /// Trains by the method, saves the ticket, then measures test accuracy (after the
    /// clock: the test split is the table's, not part of the user's run).
    fn go<M: Classifier, D: LabelledData<Input = M::Input>>(
        self,
        model: M,
        device: &Device,
        train: D,
        validation: D,
        test: &mut D,
    ) -> Result<((Finished, Duration), f64)> {
        let e = self.experiment;
        let shapes = tensor_shapes(&model);
        let theta0 = initial_weights(&shapes, e.model.initialization(), e.seed)?;
        let dense = dense_masks(&model, &shapes)?;
        let (start, masks) = match (&self.ticket, e.method) {
            (Some(ticket), Method::RandomPrune) => {
                let random = random_like(ticket, e.seed ^ RANDOM_MASK_STREAM)?;
                (theta0.masked(&random)?, random)
            }
            (Some(ticket), Method::RandomReinit) => {
                let fresh =
                    initial_weights(&shapes, e.model.initialization(), e.seed ^ REINIT_STREAM)?;
                (fresh.masked(ticket)?, ticket.clone())
            }
            (None, m) if m.needs_ticket() => bail!("{m} needs a ticket"),
            _ => (theta0.clone(), dense),
        };
        let mut trainee =
            ClassifierTrainee::new(model, &start, train, validation, device, e.train)?;
        let finished = match self.slowdown {
            Some(slowdown) => {
                self.method(&mut Slowed::new(&mut trainee, slowdown), start, masks)?
            }
            None => self.method(&mut trainee, start, masks)?,
        };
        ticket::write_json(self.dir, files::CONFIG, e)?;
        match self.preprocessing {
            Preprocessing::Image(norm) => ticket::write_json(self.dir, files::NORMALIZATION, norm)?,
            Preprocessing::Text(vocab) => ticket::write_json(self.dir, files::VOCABULARY, vocab)?,
            Preprocessing::Audio(norm) => {
                ticket::write_json(self.dir, files::FEATURE_NORMALIZATION, norm)?
            }
        }
        ticket::write_json(self.dir, files::MASK, &finished.masks)?;
        ticket::write_weights(self.dir, files::INITIAL, &finished.initial)?;
        ticket::write_weights(self.dir, files::TRAINED, &finished.trained)?;
        ticket::write_json(self.dir, files::ROUNDS, &finished.rounds)?;
        ticket::write_json(self.dir, files::PLANS, &finished.plans)?;
        let time_used = self.clock.now();
        let test_accuracy = trainee.evaluate(test)?.accuracy;
        Ok(((finished, time_used), test_accuracy))
    }

    fn method<T: Trainee>(
        &self,
        trainee: &mut T,
        start: Snapshot,
        masks: MaskSet,
    ) -> Result<Finished> {
        let e = self.experiment;
        let budget = || {
            e.budget_s
                .map(Duration::from_secs_f64)
                .with_context(|| format!("{} needs a budget", e.method))
        };
        let pruning = e.pruning.clone().unwrap_or_default();
        let budgeted = |policy: BuiltinPolicy, trainee: &mut T| -> Result<Finished> {
            let config = BudgetedConfig {
                eval_every: e.eval_every,
                policy,
                scope: pruning.scope,
                rates: pruning.rates.clone(),
                ..BudgetedConfig::new(budget()?, e.target_sparsity)
            };
            let outcome = run_budgeted(trainee, masks.clone(), self.clock, &config)?;
            Ok(Finished {
                iterations: outcome.rounds.iter().map(|r| r.iterations).sum(),
                validation_accuracy: outcome.rounds.last().map_or(0.0, |r| r.validation.accuracy),
                plans: serde_json::to_value(&outcome.plans)?,
                masks: outcome.masks,
                initial: outcome.initial,
                trained: outcome.trained,
                rounds: outcome.rounds,
                prunes: outcome.prunes,
                stop: outcome.stop,
            })
        };
        match e.method {
            Method::Budgeted => budgeted(e.policy.unwrap_or_default(), trainee),
            Method::OneShot => budgeted(BuiltinPolicy::Fixed(FixedRounds(1)), trainee),
            Method::Imp => {
                let schedule = e
                    .imp
                    .context("imp needs a schedule of rounds and iterations")?;
                let config = ImpConfig {
                    target_sparsity: e.target_sparsity,
                    rounds: schedule.rounds,
                    iterations: schedule.iterations,
                    eval_every: e.eval_every,
                    scope: pruning.scope,
                    rates: pruning.rates.clone(),
                };
                let outcome = run_imp(trainee, masks, self.clock, &config)?;
                Ok(Finished {
                    iterations: outcome.rounds.iter().map(|r| r.iterations).sum(),
                    validation_accuracy: outcome.last.validation.accuracy,
                    initial: start.masked(&outcome.masks)?,
                    trained: outcome.last.trained,
                    prunes: config.rounds,
                    stop: outcome.last.stop,
                    masks: outcome.masks,
                    rounds: outcome.rounds,
                    plans: serde_json::Value::Null,
                })
            }
            Method::Dense | Method::RandomPrune | Method::RandomReinit => {
                let settings = TrainOnce {
                    eval_every: e.eval_every,
                    ..TrainOnce::new(TrainingLength::Budget(budget()?))
                };
                let outcome = train_once(trainee, &masks, self.clock, &settings)?;
                Ok(Finished {
                    iterations: outcome.iterations,
                    validation_accuracy: outcome.validation.accuracy,
                    rounds: vec![RoundRecord {
                        round: 0,
                        sparsity: masks.sparsity(),
                        iterations: outcome.iterations,
                        validation: outcome.validation,
                        selected_iteration: outcome.selected_iteration,
                        ended_at: outcome.time_used,
                    }],
                    initial: start,
                    trained: outcome.trained,
                    prunes: 0,
                    stop: outcome.stop,
                    masks,
                    plans: serde_json::Value::Null,
                })
            }
        }
    }
}

/// All-kept masks for the model's prunable tensors, with their layer kinds.
fn dense_masks<M: Classifier>(model: &M, shapes: &[(String, Vec<usize>)]) -> Result<MaskSet> {
    let mut masks = MaskSet::new();
    for tensor in model.prunable() {
        let (_, shape) = shapes
            .iter()
            .find(|(path, _)| *path == tensor.path)
            .with_context(|| format!("prunable tensor `{}` is not a parameter", tensor.path))?;
        masks.insert_dense(&tensor.path, tensor.kind, shape)?;
    }
    Ok(masks)
}

/// Sparsity of the embedding tables alone, if the model has any.
fn embedding_sparsity(masks: &MaskSet) -> Option<f64> {
    let (pruned, total) = masks
        .iter()
        .filter(|(_, e)| e.kind() == "embedding")
        .fold((0, 0), |(p, t), (_, e)| {
            (p + e.mask().pruned_count(), t + e.mask().len())
        });
    (total > 0).then(|| pruned as f64 / total as f64)
}
