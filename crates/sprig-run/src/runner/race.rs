//! `--backend auto`: before a run, a few of its own training steps (its model, its
//! batches, its starting masks) on every compiled backend; the run trains on the fastest.
//! The race's time, model construction included, is charged to the run's budget; data
//! loading is not, as for a run.

use std::cell::Cell;
use std::time::Duration;

use anyhow::{Context, Result};
use burn::tensor::Device;
use sprig_backend::{Backend, BackendChoice};
use sprig_budget::{Clock, Lap, Race, RaceConfig, RealClock};
use sprig_mask::MaskSet;
use sprig_models::{Classifier, initial_weights};
use sprig_prune::classifier::{ClassifierTrainee, LabelledData};
use sprig_prune::engine::Trainee;
use sprig_prune::tensor_shapes;

use super::{Job, Preprocessing, Runner, dense_masks};
use crate::Experiment;

/// The backend a run trains on and, for `auto`, how it was chosen.
#[derive(Debug, Clone)]
pub(crate) struct Chosen {
    /// The backend to train on.
    pub backend: Backend,
    /// Every candidate's lap (`None` for a named backend).
    pub laps: Option<Vec<Lap<String>>>,
    /// Time the choice took, to charge to the budget (data loading excluded, as for a run).
    pub spent: Duration,
}

impl Runner {
    /// The backend `experiment` asks for, or for `auto` the fastest compiled one on its
    /// model, timed from the masks it starts with (`ticket` for a control, dense
    /// otherwise).
    ///
    /// # Errors
    /// The data cannot be loaded, or no candidate could take a step (each one's error
    /// named).
    pub(crate) fn choose_backend(
        &mut self,
        experiment: &Experiment,
        ticket: Option<&MaskSet>,
    ) -> Result<Chosen> {
        let preferred = match experiment.backend {
            BackendChoice::Named(backend) => {
                return Ok(Chosen {
                    backend,
                    laps: None,
                    spent: Duration::ZERO,
                });
            }
            BackendChoice::Auto => Backend::default_compiled(),
        };
        let clock = RealClock::new();
        let spent = Cell::new(Duration::ZERO);
        let mut race = Race::new(RaceConfig::default(), preferred);
        for candidate in candidates(experiment) {
            let device = match candidate.train_device() {
                Ok(device) => device,
                Err(e) => {
                    race.unavailable(candidate, e);
                    continue;
                }
            };
            let job = RaceJob {
                experiment,
                ticket,
                candidate,
                race: &mut race,
                clock: &clock,
                spent: &spent,
                started: None,
            };
            // Loading the data and building the model fail alike on every backend (a
            // missing file, a model that does not fit the data): the user's error, said
            // once. Only a backend's device or its steps leave it out of the race.
            self.dispatch(experiment, &device, job)?;
        }
        let why: Vec<String> = race
            .laps()
            .iter()
            .map(|l| format!("{}: {}", l.candidate, l.left.as_deref().unwrap_or("timed")))
            .collect();
        let result = race.finish().with_context(|| {
            format!(
                "no compiled backend could take a training step of this run ({}); name one \
                 with --backend to run on it alone",
                why.join("; ")
            )
        })?;
        tracing::info!(
            backend = %result.winner,
            laps = ?result.laps.iter().map(|l| (l.candidate.to_string(), l.step_ms)).collect::<Vec<_>>(),
            "backend chosen by timing"
        );
        Ok(Chosen {
            backend: result.winner,
            laps: Some(
                result
                    .laps
                    .into_iter()
                    .map(|l| Lap {
                        candidate: l.candidate.to_string(),
                        step_ms: l.step_ms,
                        steps: l.steps,
                        spent_s: l.spent_s,
                        left: l.left,
                    })
                    .collect(),
            ),
            spent: spent.get(),
        })
    }
}

/// The backends `auto` races for `experiment`: a run with the sparse products races the
/// compiled backends that have them (when one is), because elsewhere its late, sparse
/// rounds would run dense products, which a race of its first (dense) steps cannot see: a
/// backend a few percent faster at the dense step is several times slower there.
fn candidates(experiment: &Experiment) -> Vec<Backend> {
    let all = BackendChoice::candidates();
    let sparse: Vec<Backend> = all
        .iter()
        .copied()
        .filter(|b| b.has_sparse_products())
        .collect();
    if experiment.train.sparse_products
        && experiment.model.computes_sparsely()
        && !sparse.is_empty()
    {
        sparse
    } else {
        all.to_vec()
    }
}

/// Times one candidate: builds the run's model and trainer on its device and races them.
struct RaceJob<'a> {
    experiment: &'a Experiment,
    ticket: Option<&'a MaskSet>,
    candidate: Backend,
    race: &'a mut Race<Backend>,
    clock: &'a RealClock,
    /// The race's time so far, each candidate from its model's construction on.
    spent: &'a Cell<Duration>,
    started: Option<Duration>,
}

impl Job for RaceJob<'_> {
    type Output = ();

    fn starting(&mut self) -> Result<()> {
        self.started = Some(self.clock.now());
        Ok(())
    }

    fn run<M: Classifier, D: LabelledData<Input = M::Input> + Clone>(
        self,
        model: M,
        device: &Device,
        (train, validation, _test): (D, D, D),
        _preprocessing: Preprocessing<'_>,
    ) -> Result<()> {
        let e = self.experiment;
        let started = self.started.unwrap_or_else(|| self.clock.now());
        let shapes = tensor_shapes(&model);
        let theta0 = initial_weights(&shapes, e.model.initialization(), e.seed)?;
        let masks = match self.ticket {
            Some(ticket) => ticket.clone(),
            None => dense_masks(&model, &shapes, e.rules.as_ref())?,
        };
        let mut trainee =
            ClassifierTrainee::new(model, &theta0, train, validation, device, e.train)?;
        let config = RaceConfig::default();
        trainee.start_training(&masks, u64::from(config.warm_up + config.timed))?;
        self.race
            .run(self.candidate, self.clock, || trainee.step().map(drop));
        self.spent
            .set(self.spent.get() + self.clock.now().saturating_sub(started));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use sprig_models::Architecture;

    use super::*;

    /// A budgeted LeNet-300-100 run at 98.2 % with `--backend auto`.
    fn lenet(sparse_products: bool) -> Experiment {
        let mut e = crate::config::lenet_for_tests();
        e.backend = BackendChoice::Auto;
        e.target_sparsity = 0.982;
        e.train.sparse_products = sparse_products;
        e
    }

    /// With the sparse products only flex races (the default backend, always compiled);
    /// without them, or on a model that never computes sparsely, every compiled backend.
    #[test]
    fn a_run_with_the_sparse_products_races_the_backends_that_have_them() {
        let all = BackendChoice::candidates().to_vec();
        assert_eq!(candidates(&lenet(true)), vec![Backend::Flex]);
        assert_eq!(candidates(&lenet(false)), all);
        let conv = Experiment {
            model: Architecture::Conv2,
            ..lenet(true)
        };
        assert_eq!(candidates(&conv), all);
    }
}
