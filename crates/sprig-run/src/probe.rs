//! Looking without running: the plan a budget would give (`sprig plan`), and a finished
//! ticket evaluated on a split (`sprig eval`).

use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use burn::tensor::Device;
use sprig_backend::Backend;
use sprig_budget::{Lap, PlanRecord, RealClock};
use sprig_mask::MaskSet;
use sprig_models::{Classifier, initial_weights};
use sprig_prune::classifier::{ClassifierTrainee, LabelledData};
use sprig_prune::engine::{Evaluation, plan_budgeted};
use sprig_prune::tensor_shapes;

use crate::Experiment;
use crate::runner::{Job, Preprocessing, Runner, budgeted_config, budgeted_policy, dense_masks};
use crate::ticket::{self, files};

/// A split of a data set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Split {
    /// The training examples (without the validation ones).
    Train,
    /// The validation examples held out of the training split.
    Validation,
    /// The test split.
    Test,
}

impl Runner {
    /// Profiles the start of `experiment`'s dense training (the few iterations, one
    /// validation and a trial prune the engine measures before planning) and returns the
    /// plan its budget would give, without running it, with the prunable tensors (dense
    /// masks, by path, with their layer kinds).
    ///
    /// # Errors
    /// A method that is not budgeted or one-shot; missing data; a budget too small (the
    /// message names the smallest workable one).
    pub fn plan(&mut self, experiment: &Experiment) -> Result<Planned> {
        if budgeted_policy(experiment).is_none() {
            bail!(
                "only budgeted and one-shot runs have a plan, not {}",
                experiment.method
            );
        }
        let chosen = self.choose_backend(experiment, None)?;
        let device = train_device(chosen.backend)?;
        let job = PlanJob {
            experiment,
            charged: chosen.spent,
        };
        let (record, masks) = self.dispatch(experiment, &device, job)?;
        Ok(Planned {
            record,
            masks,
            backend: chosen.backend,
            race: chosen.laps,
        })
    }

    /// Evaluates the trained ticket in `dir` (a run folder of `experiment`) on `split`.
    ///
    /// # Errors
    /// Missing or corrupt ticket files (named); missing data.
    pub fn evaluate_ticket(
        &mut self,
        experiment: &Experiment,
        dir: &Path,
        split: Split,
    ) -> Result<Evaluation> {
        let device = train_device(experiment.backend.or_default())?;
        self.dispatch(
            experiment,
            &device,
            EvalJob {
                experiment,
                dir,
                split,
            },
        )
    }
}

/// What `sprig plan` shows: the first plan, the tensors it prunes and the backend it
/// would train on.
#[derive(Debug, Clone)]
pub struct Planned {
    /// The plan and what it was made from (the profiled costs, the time already spent).
    pub record: PlanRecord,
    /// The prunable tensors, dense.
    pub masks: MaskSet,
    /// The backend profiled and planned on.
    pub backend: Backend,
    /// For `--backend auto`, every candidate's lap (`None` when the backend was named).
    pub race: Option<Vec<Lap<String>>>,
}

fn train_device(backend: Backend) -> Result<Device> {
    backend
        .train_device()
        .with_context(|| format!("backend `{backend}`"))
}

/// Profiles and plans.
struct PlanJob<'a> {
    experiment: &'a Experiment,
    /// Time spent before (choosing the backend), part of the budget.
    charged: Duration,
}

impl Job for PlanJob<'_> {
    type Output = (PlanRecord, MaskSet);

    fn run<M: Classifier, D: LabelledData<Input = M::Input> + Clone>(
        self,
        model: M,
        device: &Device,
        (train, validation, _test): (D, D, D),
        _preprocessing: Preprocessing<'_>,
    ) -> Result<(PlanRecord, MaskSet)> {
        let e = self.experiment;
        let clock = RealClock::already_spent(self.charged)
            .context("the time already spent is longer than this machine's uptime")?;
        let shapes = tensor_shapes(&model);
        let theta0 = initial_weights(&shapes, e.model.initialization(), e.seed)?;
        let masks = dense_masks(&model, &shapes, e.rules.as_ref())?;
        let mut trainee =
            ClassifierTrainee::new(model, &theta0, train, validation, device, e.train)?;
        let policy = budgeted_policy(e).context("a budgeted method")?;
        let config = budgeted_config(e, policy)?;
        let record = plan_budgeted(&mut trainee, &masks, &clock, &config)?;
        Ok((record, masks))
    }
}

/// Loads a trained ticket and evaluates it.
struct EvalJob<'a> {
    experiment: &'a Experiment,
    dir: &'a Path,
    split: Split,
}

impl Job for EvalJob<'_> {
    type Output = Evaluation;

    fn run<M: Classifier, D: LabelledData<Input = M::Input> + Clone>(
        self,
        model: M,
        device: &Device,
        (train, validation, test): (D, D, D),
        _preprocessing: Preprocessing<'_>,
    ) -> Result<Evaluation> {
        let weights = ticket::read_weights(&self.dir.join(files::TRAINED))?;
        let masks = ticket::read_mask(self.dir)?;
        masks
            .validate_with(&weights.params(), |_, _| false)
            .with_context(|| {
                format!(
                    "the mask and the weights in {} do not fit each other",
                    self.dir.display()
                )
            })?;
        let mut data = match self.split {
            Split::Train => train.clone(),
            Split::Validation => validation.clone(),
            Split::Test => test,
        };
        let trainee = ClassifierTrainee::new(
            model,
            &weights,
            train,
            validation,
            device,
            self.experiment.train,
        )
        .with_context(|| {
            format!(
                "the weights in {} are not those of a {}",
                self.dir.display(),
                self.experiment.model
            )
        })?;
        Ok(trainee.evaluate(&mut data)?)
    }
}
