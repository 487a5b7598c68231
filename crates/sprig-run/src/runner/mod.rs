//! Runs one experiment on real data (MNIST, CIFAR-10, TREC, MR) and writes its ticket
//! folder.

mod data_cache;
mod race;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use sprig_backend::BackendChoice;
use sprig_budget::{BuiltinPolicy, Clock, FixedRounds, RealClock};
use sprig_data::audio::{AudioData, FeatureNorm};
use sprig_data::text::TextData;
use sprig_data::{Normalization, VisionData};
use sprig_mask::{MaskSet, Snapshot, random_like};
use sprig_models::{
    Classifier, Modality, WithModel, build_model, build_text_model, initial_weights,
};
use sprig_prune::classifier::{
    ClassifierTrainee, FeatureBatches, ImageBatches, LabelledData, TokenBatches,
};
use sprig_prune::engine::{
    BudgetedConfig, Checkpoint, Faults, Faulty, GradualPruning, ImpConfig, NoObserver, Observer,
    RoundRecord, StopReason, TrainOnce, Trainee, TrainingLength, run_budgeted_observed, run_gmp,
    run_imp, train_once_observed,
};
use sprig_prune::{PruneRules, tensor_shapes};
use sprig_report::RunResult;

use self::data_cache::DataCache;
use crate::checkpoint::{self, Checkpointing};
use crate::config::{Dataset, Experiment, Method};
use crate::ticket::{self, files};

/// Seed offsets for the controls, so their random draws differ from the ticket's own.
const RANDOM_MASK_STREAM: u64 = 0x5EED_0001;
const REINIT_STREAM: u64 = 0x5EED_0002;

/// Runs experiments in run folders under one root, with the data sets they load kept
/// across the experiments of one invocation.
#[derive(Debug)]
pub struct Runner {
    runs_root: PathBuf,
    data: DataCache,
    /// Injected faults (debug hooks of the CLI; never part of an experiment).
    faults: Faults,
    /// The commit recorded in result rows.
    commit: Option<String>,
}

/// What a caller adds to one run beyond its experiment (the `sprig` tool uses them; the
/// evaluation runner does not).
#[derive(Default)]
pub struct Hooks<'a> {
    /// Told every step, validation and finished training of a budgeted run.
    pub observer: Option<&'a mut dyn Observer>,
    /// Save a checkpoint in the run folder after every finished training of a budgeted
    /// run, so that it can be resumed; removed once the run ends (kept if it was
    /// interrupted).
    pub checkpoints: bool,
    /// Continue the budgeted run from the run folder's checkpoint, with the budget it
    /// left, instead of starting over.
    pub resume: bool,
}

impl std::fmt::Debug for Hooks<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hooks")
            .field("observer", &self.observer.is_some())
            .field("checkpoints", &self.checkpoints)
            .field("resume", &self.resume)
            .finish()
    }
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
        // Computed audio features are kept beside the run folders.
        let feature_cache = runs_root.with_file_name("sprig-cache");
        Self {
            runs_root,
            data: DataCache::new(data_dir, feature_cache),
            faults: Faults::default(),
            commit: None,
        }
    }

    /// Records `commit` in the result row of every later run.
    #[must_use]
    pub fn with_commit(mut self, commit: impl Into<String>) -> Self {
        self.commit = Some(commit.into());
        self
    }

    /// Injects `faults` into every later run (see [`Faults`]): to check on the real clock
    /// that deadlines hold when the machine slows down mid-run, and that a diverging
    /// training keeps the last good ticket.
    #[must_use]
    pub fn with_faults(mut self, faults: Faults) -> Self {
        self.faults = faults;
        self
    }

    /// Runs `experiment` in its run folder under the runs root, or reads its result if
    /// that folder holds one.
    pub fn run(&mut self, experiment: &Experiment) -> Result<RunResult> {
        let dir = self.run_dir_of(experiment);
        self.run_at(experiment, &dir)
    }

    /// The run folder of `experiment` under the runs root: its own; or, for an `auto`
    /// experiment whose own folder holds no result, the first folder of the same
    /// experiment on a named backend (in the order `auto` races them) that holds one. A
    /// backend is where a result was computed, like the machine, not what the experiment
    /// is (θ0, the batches and the masks' draws do not depend on it, and the result row
    /// names the backend used), so a table's finished runs stay its rows when its suite
    /// asks for `auto`.
    pub fn run_dir_of(&self, experiment: &Experiment) -> PathBuf {
        let own = self.runs_root.join(experiment.run_dir());
        if experiment.backend != BackendChoice::Auto || own.join(files::RESULT).exists() {
            return own;
        }
        BackendChoice::candidates()
            .iter()
            .map(|&backend| {
                let named = Experiment {
                    backend: backend.into(),
                    ..experiment.clone()
                };
                self.runs_root.join(named.run_dir())
            })
            .find(|dir| dir.join(files::RESULT).exists())
            .unwrap_or(own)
    }

    /// The result of `experiment` if its run folder under the runs root holds one; runs
    /// nothing.
    ///
    /// # Errors
    /// The folder's result file cannot be read or is not a result.
    pub fn finished(&self, experiment: &Experiment) -> Result<Option<RunResult>> {
        Self::read_finished(experiment, &self.run_dir_of(experiment))
    }

    fn read_finished(experiment: &Experiment, dir: &Path) -> Result<Option<RunResult>> {
        let result_path = dir.join(files::RESULT);
        if !result_path.exists() {
            return Ok(None);
        }
        let text = std::fs::read(&result_path)
            .with_context(|| format!("reading {}", result_path.display()))?;
        let mut result: RunResult = serde_json::from_slice(&text)
            .with_context(|| format!("{} is not a result file", result_path.display()))?;
        // These follow from the configuration, and their wording or the default may have
        // changed since the run.
        result.split = experiment.split_name();
        result.default = experiment.is_default();
        result.option = experiment.default_option();
        result.variant = experiment.variant();
        Ok(Some(result))
    }

    /// Runs `experiment` writing its ticket to `dir`, or reads its result if `dir` holds
    /// one. The caller makes sure `dir` holds no other run (the CLI checks `config.json`).
    pub fn run_at(&mut self, experiment: &Experiment, dir: &Path) -> Result<RunResult> {
        self.run_with(experiment, dir, Hooks::default())
    }

    /// [`run_at`](Self::run_at) with progress, checkpoints or resuming.
    ///
    /// # Errors
    /// As `run_at`; resuming a method other than budgeted or one-shot, or a folder
    /// without a checkpoint.
    pub fn run_with(
        &mut self,
        experiment: &Experiment,
        dir: &Path,
        hooks: Hooks<'_>,
    ) -> Result<RunResult> {
        if hooks.resume && !experiment.method.resumable() {
            bail!(
                "only budgeted, one-shot and truncated IMP runs can be resumed, not {}",
                experiment.method
            );
        }
        if let Some(result) = Self::read_finished(experiment, dir)? {
            tracing::info!(run = %dir.display(), "finished before: reusing its result");
            return Ok(result);
        }
        let ticket = if experiment.method.needs_ticket() {
            let source = self.run_dir_of(&experiment.ticket_source());
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
        let chosen = self.choose_backend(experiment, ticket.as_ref())?;
        let backend = chosen.backend;
        let device = backend
            .train_device()
            .with_context(|| format!("backend `{backend}`"))?;
        let checkpoints = hooks.checkpoints;
        let job = RunJob {
            experiment,
            ticket,
            dir,
            faults: self.faults,
            hooks,
            resume: None,
            charged: chosen.spent,
            clock: None,
        };
        let ((finished, time_used), test_accuracy) = self.dispatch(experiment, &device, job)?;
        let result = RunResult {
            domain: experiment.domain.name().into(),
            dataset: experiment.dataset.name().into(),
            model: experiment.model.name().into(),
            method: experiment.method.name().into(),
            seed: experiment.seed,
            backend: backend.to_string(),
            backend_race: chosen.laps,
            budget_s: experiment.budget_s,
            time_used_s: time_used.as_secs_f64(),
            target_sparsity: experiment.target_sparsity,
            sparsity: finished.masks.sparsity(),
            test_accuracy,
            rounds: finished.prunes,
            lr_schedule: experiment.train.schedule.name().into(),
            iterations: finished.iterations,
            validation_accuracy: Some(finished.validation_accuracy),
            stop_reason: Some(finished.stop),
            run_dir: experiment.run_dir().to_string_lossy().into_owned(),
            variant: experiment.variant(),
            embedding_sparsity: embedding_sparsity(&finished.masks),
            split: experiment.split_name(),
            default: experiment.is_default(),
            option: experiment.default_option(),
            commit: self.commit.clone(),
        };
        ticket::write_json(dir, files::RESULT, &result)?;
        // An interrupted run keeps its checkpoint, to be resumed.
        if checkpoints && finished.stop != StopReason::Interrupted {
            checkpoint::remove(dir)?;
        }
        Ok(result)
    }

    /// Loads the experiment's data, builds its model on `device` and runs `job` on them.
    pub(crate) fn dispatch<J: Job>(
        &mut self,
        experiment: &Experiment,
        device: &Device,
        mut job: J,
    ) -> Result<J::Output> {
        match experiment.dataset.modality() {
            Modality::Image => {
                let (data, norm) = match experiment.dataset {
                    Dataset::Images => self.data.image_folder(experiment)?,
                    dataset => self.data.images(dataset, experiment.seed)?,
                };
                let splits = three(&data.train, &data.validation, &data.test, |s| {
                    ImageBatches::new(s, norm.clone())
                });
                let shape = data.train.shape();
                let input = [shape.channels, shape.height, shape.width];
                let preprocessing = Preprocessing::Image(norm);
                let bound = start(experiment, device, job, splits, input, preprocessing)?;
                build_model(experiment.model, input, data.classes.len(), device, bound)?
            }
            Modality::Audio => {
                let (data, norm) = self.data.audio(experiment)?;
                let splits = three(&data.train, &data.validation, &data.test, |s| {
                    FeatureBatches::new(s, norm.clone())
                });
                let input = data.train.shape();
                let preprocessing = Preprocessing::Audio(norm);
                let bound = start(experiment, device, job, splits, input, preprocessing)?;
                build_model(
                    experiment.model,
                    input,
                    data.train.classes().len(),
                    device,
                    bound,
                )?
            }
            Modality::Text => {
                let data = self.data.text(experiment)?;
                let splits = three(&data.train, &data.validation, &data.test, TokenBatches::new);
                let (vocab, classes) = (data.vocab.len(), data.classes.len());
                job.starting()?;
                let bound = Bound {
                    job,
                    device: device.clone(),
                    splits,
                    preprocessing: Preprocessing::Text(&data.vocab),
                };
                build_text_model(experiment.model, vocab, classes, device, bound)?
            }
        }
    }

    /// The data set with the validation split of `seed`, and the normalisation fitted on
    /// its training split, loaded once per invocation.
    ///
    /// # Errors
    /// A missing or corrupt data file, named.
    pub fn data(&mut self, dataset: Dataset, seed: u64) -> Result<&(VisionData, Normalization)> {
        self.data.images(dataset, seed)
    }

    /// The audio data set of `experiment` (its split, its seed's validation split, its
    /// spectrograms) and the band normalisation fitted on its training split, loaded once
    /// per invocation.
    ///
    /// # Errors
    /// A missing or corrupt data file, named; an experiment without audio settings.
    pub fn audio_data(&mut self, experiment: &Experiment) -> Result<&(AudioData, FeatureNorm)> {
        self.data.audio(experiment)
    }

    /// The text data set of `experiment` (its seed's validation split, the vocabulary of
    /// its training split), loaded once per invocation.
    ///
    /// # Errors
    /// A missing or corrupt data file, named; an experiment without tokenisation settings.
    pub fn text_data(&mut self, experiment: &Experiment) -> Result<&TextData> {
        self.data.text(experiment)
    }

    /// The folder run folders go under.
    pub fn runs_root(&self) -> &Path {
        &self.runs_root
    }
}

/// Something to do with an experiment's model and data once they are loaded and built:
/// train it (a run), profile it (a plan), evaluate a ticket with it.
pub(crate) trait Job {
    /// What it gives back.
    type Output;
    /// Called just before the model is built (a run's budget starts here).
    fn starting(&mut self) -> Result<()> {
        Ok(())
    }
    /// Does the job on the built model and the (train, validation, test) splits.
    fn run<M: Classifier, D: LabelledData<Input = M::Input> + Clone>(
        self,
        model: M,
        device: &Device,
        splits: (D, D, D),
        preprocessing: Preprocessing<'_>,
    ) -> Result<Self::Output>;
}

/// A job with its data, waiting for its model.
struct Bound<'p, J, D> {
    job: J,
    device: Device,
    splits: (D, D, D),
    preprocessing: Preprocessing<'p>,
}

/// The training, validation and test batches of a data set's three splits.
fn three<S: Clone, D>(train: &S, validation: &S, test: &S, batches: impl Fn(S) -> D) -> (D, D, D) {
    (
        batches(train.clone()),
        batches(validation.clone()),
        batches(test.clone()),
    )
}

/// Checks that the experiment's model takes `input` (`[channels, height, width]`), then
/// starts `job` on `splits`: ready for the model to be built.
fn start<'p, J: Job, D>(
    experiment: &Experiment,
    device: &Device,
    mut job: J,
    splits: (D, D, D),
    input: [usize; 3],
    preprocessing: Preprocessing<'p>,
) -> Result<Bound<'p, J, D>> {
    experiment.model.check_input(input)?;
    job.starting()?;
    Ok(Bound {
        job,
        device: device.clone(),
        splits,
        preprocessing,
    })
}

impl<J: Job, D: LabelledData + Clone> WithModel for Bound<'_, J, D> {
    type Input = D::Input;
    type Output = Result<J::Output>;
    fn with<M: Classifier<Input = D::Input>>(self, model: M) -> Self::Output {
        self.job
            .run(model, &self.device, self.splits, self.preprocessing)
    }
}

/// Trains a built model by the experiment's method and saves its ticket.
struct RunJob<'a, 'h> {
    experiment: &'a Experiment,
    ticket: Option<MaskSet>,
    dir: &'a Path,
    faults: Faults,
    hooks: Hooks<'h>,
    resume: Option<Checkpoint>,
    /// Time already spent on the run before it starts (choosing the backend).
    charged: Duration,
    clock: Option<RealClock>,
}

impl Job for RunJob<'_, '_> {
    type Output = ((Finished, Duration), f64);

    /// Creates the run folder, reads the checkpoint to resume from, starts the clock.
    fn starting(&mut self) -> Result<()> {
        ticket::create_dir(self.dir)?;
        self.resume = if self.hooks.resume {
            Some(checkpoint::read(self.dir)?)
        } else {
            if self.hooks.checkpoints {
                // A run started over does not resume from an older run's checkpoint.
                checkpoint::remove(self.dir)?;
            }
            None
        };
        // The budget starts here: model construction, training and saving count, and so
        // does choosing the backend. A resumed run's clock starts where its checkpoint was
        // taken: it has the budget left then.
        let before = self
            .resume
            .as_ref()
            .map_or(Duration::ZERO, |c| c.state.elapsed)
            + self.charged;
        self.clock = Some(
            RealClock::already_spent(before)
                .context("the time already spent is longer than this machine's uptime")?,
        );
        match &self.resume {
            Some(c) => tracing::info!(run = %self.dir.display(), round = c.round(),
                elapsed_s = c.state.elapsed.as_secs_f64(), "resuming"),
            None => tracing::info!(run = %self.dir.display(), "starting"),
        }
        Ok(())
    }

    fn run<M: Classifier, D: LabelledData<Input = M::Input> + Clone>(
        self,
        model: M,
        device: &Device,
        (train, validation, mut test): (D, D, D),
        preprocessing: Preprocessing<'_>,
    ) -> Result<Self::Output> {
        let run = Run {
            experiment: self.experiment,
            ticket: self.ticket,
            dir: self.dir,
            clock: self.clock.context("the run's clock was not started")?,
            preprocessing,
            faults: self.faults,
            observer: self.hooks.observer.map(|o| o as &mut dyn Observer),
            checkpoints: self.hooks.checkpoints,
            resume: self.resume,
        };
        run.go(model, device, train, validation, &mut test)
    }
}

/// How inputs were prepared, saved with the ticket so inference repeats it.
pub(crate) enum Preprocessing<'a> {
    /// Pixel normalisation fitted on the training split.
    Image(&'a Normalization),
    /// The vocabulary of the training split.
    Text(&'a sprig_data::text::Vocabulary),
    /// Per-band spectrogram normalisation of the training split (the feature settings
    /// are in the experiment's configuration).
    Audio(&'a FeatureNorm),
}

/// One experiment in flight.
struct Run<'a, 'p> {
    experiment: &'a Experiment,
    ticket: Option<MaskSet>,
    dir: &'a Path,
    clock: RealClock,
    preprocessing: Preprocessing<'p>,
    faults: Faults,
    observer: Option<&'a mut dyn Observer>,
    checkpoints: bool,
    resume: Option<Checkpoint>,
}

impl Run<'_, '_> {
    /// Trains by the method, saves the ticket, then measures test accuracy (after the
    /// clock: the test split is the table's, not part of the user's run).
    fn go<M: Classifier, D: LabelledData<Input = M::Input>>(
        mut self,
        model: M,
        device: &Device,
        train: D,
        validation: D,
        test: &mut D,
    ) -> Result<((Finished, Duration), f64)> {
        let e = self.experiment;
        let shapes = tensor_shapes(&model);
        let theta0 = initial_weights(&shapes, e.model.initialization(), e.seed)?;
        let dense = dense_masks(&model, &shapes, e.rules.as_ref())?;
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
        let finished = if self.faults.any() {
            let faults = self.faults;
            self.method(&mut Faulty::new(&mut trainee, faults), start, masks)?
        } else {
            self.method(&mut trainee, start, masks)?
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

    /// Time-budgeted IMP with `policy`, telling the observer and saving checkpoints.
    fn budgeted<T: Trainee>(
        &mut self,
        trainee: &mut T,
        masks: MaskSet,
        policy: BuiltinPolicy,
    ) -> Result<Finished> {
        let config = budgeted_config(self.experiment, policy)?;
        let mut none = NoObserver;
        let inner: &mut dyn Observer = match self.observer.as_deref_mut() {
            Some(observer) => observer,
            None => &mut none,
        };
        let mut observer = Checkpointing {
            run_dir: self.dir.to_path_buf(),
            enabled: self.checkpoints,
            inner,
        };
        let resume = self.resume.take();
        let outcome =
            run_budgeted_observed(trainee, masks, &self.clock, &config, &mut observer, resume)?;
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
    }

    fn method<T: Trainee>(
        &mut self,
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
        match e.method {
            Method::Budgeted => self.budgeted(trainee, masks, e.policy.unwrap_or_default()),
            Method::OneShot => self.budgeted(trainee, masks, BuiltinPolicy::Fixed(FixedRounds(1))),
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
                    rates: e.pruning_rates()?,
                };
                let outcome = run_imp(trainee, masks, &self.clock, &config)?;
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
            Method::TruncatedImp => {
                let policy = truncated_imp_policy(e)?;
                self.budgeted(trainee, masks, policy)
            }
            Method::Dense | Method::RandomPrune | Method::RandomReinit | Method::Gmp => {
                let settings = TrainOnce {
                    eval_every: e.eval_every,
                    ..TrainOnce::new(TrainingLength::Budget(budget()?))
                };
                let mut none = NoObserver;
                let observer: &mut dyn Observer = match self.observer.as_deref_mut() {
                    Some(observer) => observer,
                    None => &mut none,
                };
                let (outcome, masks) = if e.method == Method::Gmp {
                    let mut schedule =
                        GradualPruning::new(e.target_sparsity, pruning.scope, e.pruning_rates()?);
                    if let Some(ramp_end) = e.gmp_ramp_end {
                        schedule.ramp_end = ramp_end;
                    }
                    let gmp = run_gmp(trainee, masks, &self.clock, &settings, &schedule, observer)?;
                    (gmp.training, gmp.masks)
                } else {
                    let outcome =
                        train_once_observed(trainee, &masks, &self.clock, &settings, observer)?;
                    (outcome, masks)
                };
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
                    initial: start.masked(&masks)?,
                    trained: outcome.trained,
                    prunes: outcome.prunes,
                    stop: outcome.stop,
                    masks,
                    plans: serde_json::Value::Null,
                })
            }
        }
    }
}

/// The round policy of truncated IMP: the fewest rounds of at most 20 % that reach the
/// target (the LTH paper's rate), as the experiment's policy says when it names one.
pub(crate) fn truncated_imp_policy(e: &Experiment) -> Result<BuiltinPolicy> {
    if let Some(policy) = e.policy {
        return Ok(policy);
    }
    let rounds = sprig_mask::rounds_for(e.target_sparsity, LTH_RATE)?.max(1);
    Ok(BuiltinPolicy::Fixed(FixedRounds(rounds)))
}

/// The LTH paper's per-round rate of fully-connected layers.
pub const LTH_RATE: f64 = 0.2;

/// The engine settings of a budgeted or one-shot experiment under `policy`.
pub(crate) fn budgeted_config(e: &Experiment, policy: BuiltinPolicy) -> Result<BudgetedConfig> {
    let budget = e
        .budget_s
        .map(Duration::from_secs_f64)
        .with_context(|| format!("{} needs a budget", e.method))?;
    let pruning = e.pruning.clone().unwrap_or_default();
    Ok(BudgetedConfig {
        eval_every: e.eval_every,
        policy,
        scope: pruning.scope,
        rates: e.pruning_rates()?,
        rewind_iteration: e.rewind_iteration.unwrap_or(0),
        final_start: e.final_start.unwrap_or_default(),
        distill: e.distill,
        ..BudgetedConfig::new(budget, e.target_sparsity)
    })
}

/// The policy an experiment's method runs the budgeted engine with (`None`: the method
/// does not use it).
pub(crate) fn budgeted_policy(e: &Experiment) -> Option<BuiltinPolicy> {
    match e.method {
        Method::Budgeted => Some(e.policy.unwrap_or_default()),
        Method::OneShot => Some(BuiltinPolicy::Fixed(FixedRounds(1))),
        Method::TruncatedImp => truncated_imp_policy(e).ok(),
        _ => None,
    }
}

/// All-kept masks for the model's prunable tensors, with their layer kinds (found by
/// visiting the model under `rules` when there are some, or when the model lists none).
pub(crate) fn dense_masks<M: Classifier>(
    model: &M,
    shapes: &[(String, Vec<usize>)],
    rules: Option<&PruneRules>,
) -> Result<MaskSet> {
    if let Some(rules) = rules {
        return Ok(sprig_prune::discover(model, rules)?.masks);
    }
    if model.prunable().is_empty() {
        return Ok(sprig_prune::discover(model, &PruneRules::default())?.masks);
    }
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
