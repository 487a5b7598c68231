//! Runs one vision experiment on real MNIST or CIFAR-10 and writes its ticket folder.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::{Device, Tensor};
use sprig_backend::Backend;
use sprig_budget::{BuiltinPolicy, Clock, FixedRounds, RealClock};
use sprig_data::{LoadOptions, Normalization, VisionData, load_cifar10, load_mnist};
use sprig_mask::{LayerRates, MaskSet, Scope, Snapshot, random_like};
use sprig_models::{Architecture, Classifier, ConvNet, Lenet300100, ResNet, initial_weights};
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches};
use sprig_prune::engine::{
    BudgetedConfig, ImpConfig, RoundRecord, StopReason, TrainOnce, Trainee, TrainingLength,
    run_budgeted, run_imp, train_once,
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
pub struct VisionRunner {
    data_dir: PathBuf,
    runs_root: PathBuf,
    loaded: HashMap<(Dataset, u64), (VisionData, Normalization)>,
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

impl VisionRunner {
    /// A runner reading data from `data_dir` and writing run folders under `runs_root`.
    pub fn new(data_dir: PathBuf, runs_root: PathBuf) -> Self {
        Self {
            data_dir,
            runs_root,
            loaded: HashMap::new(),
        }
    }

    /// Runs `experiment`, or reads its result if its run folder holds one.
    pub fn run(&mut self, experiment: &Experiment) -> Result<RunResult> {
        let dir = self.runs_root.join(experiment.run_dir());
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
        let (data, norm) = self.load(experiment.dataset, experiment.seed)?;
        let train = ImageBatches::new(data.train.clone(), norm.clone());
        let validation = ImageBatches::new(data.validation.clone(), norm.clone());
        let mut test = ImageBatches::new(data.test.clone(), norm.clone());
        let input = [
            data.train.shape().channels,
            data.train.shape().height,
            data.train.shape().width,
        ];
        let classes = data.classes.len();
        experiment.model.check_input(input)?;
        ticket::create_dir(&dir)?;
        tracing::info!(run = %dir.display(), "starting");

        // The budget starts here: model construction, training and saving count.
        let clock = RealClock::new();
        let run = Run {
            experiment,
            ticket,
            dir: &dir,
            clock: &clock,
            norm,
        };
        let (finished, test_accuracy) = build_model(
            experiment.model,
            input,
            classes,
            &device.clone(),
            Train {
                run,
                device,
                train,
                validation,
                test: &mut test,
            },
        )?;
        let (finished, time_used) = finished;
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
        };
        ticket::write_json(&dir, files::RESULT, &result)?;
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

    /// The data set with the experiment seed's validation split, loaded once.
    fn load(&mut self, dataset: Dataset, seed: u64) -> Result<&(VisionData, Normalization)> {
        if !self.loaded.contains_key(&(dataset, seed)) {
            let dir = self.data_dir.join(dataset.name());
            let options = LoadOptions::lth(seed);
            let data = match dataset {
                Dataset::Mnist => load_mnist(&dir, &options),
                Dataset::Cifar10 => load_cifar10(&dir, &options),
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
    /// What it gives back.
    type Output;
    /// Does it.
    fn with<M: Classifier<Input = Tensor<4>>>(self, model: M) -> Self::Output;
}

/// Builds `architecture` for `input` images and `classes` on `device` and hands it to `w`.
pub(crate) fn build_model<W: WithModel>(
    architecture: Architecture,
    input: [usize; 3],
    classes: usize,
    device: &Device,
    w: W,
) -> W::Output {
    match architecture.conv_pairs() {
        None if architecture == Architecture::ResNet20 => {
            w.with(ResNet::resnet20(input[0], classes, device))
        }
        None => w.with(Lenet300100::new(input.iter().product(), classes, device)),
        Some(pairs) => w.with(ConvNet::new(pairs, input, classes, device)),
    }
}

/// Trains a built model by the experiment's method.
struct Train<'a> {
    run: Run<'a>,
    device: Device,
    train: ImageBatches,
    validation: ImageBatches,
    test: &'a mut ImageBatches,
}

impl WithModel for Train<'_> {
    type Output = Result<((Finished, Duration), f64)>;
    fn with<M: Classifier<Input = Tensor<4>>>(self, model: M) -> Self::Output {
        self.run
            .go(model, &self.device, self.train, self.validation, self.test)
    }
}

/// One experiment in flight.
struct Run<'a> {
    experiment: &'a Experiment,
    ticket: Option<MaskSet>,
    dir: &'a Path,
    clock: &'a RealClock,
    norm: &'a Normalization,
}

impl Run<'_> {
    /// Trains by the method, saves the ticket, then measures test accuracy (after the
    /// clock: the test split is the table's, not part of the user's run).
    fn go<M: Classifier<Input = Tensor<4>>>(
        self,
        model: M,
        device: &Device,
        train: ImageBatches,
        validation: ImageBatches,
        test: &mut ImageBatches,
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
        let finished = self.method(&mut trainee, start, masks)?;
        ticket::write_json(self.dir, files::CONFIG, e)?;
        ticket::write_json(self.dir, files::NORMALIZATION, self.norm)?;
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
        let budgeted = |policy: BuiltinPolicy, trainee: &mut T| -> Result<Finished> {
            let config = BudgetedConfig {
                eval_every: e.eval_every,
                policy,
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
                    scope: Scope::Global,
                    rates: LayerRates::uniform(),
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
