//! Adam under masks, one batch per step, with validation for model selection.

use std::sync::Arc;
use std::time::{Duration, Instant};

use burn::nn::loss::{CrossEntropyLoss, CrossEntropyLossConfig};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor};
use serde::{Deserialize, Serialize};
use sprig_backend::StepThreads;
use sprig_data::epoch_order;
use sprig_mask::{MaskSet, Snapshot};
use sprig_models::Classifier;

use crate::classifier::teacher::{Teacher, blend};
use crate::classifier::{LabelledData, LrSchedule};
use crate::engine::{Distillation, Evaluation, Trainee};
use crate::{DeviceMasks, MaskedAdam, PruneError, load_snapshot, snapshot};

/// Hyperparameters of one training (the LTH paper's for LeNet: Adam 1.2e-3, batch 60).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct TrainConfig {
    /// Examples per training step.
    pub batch_size: usize,
    /// Adam's base learning rate.
    pub learning_rate: f64,
    /// How the rate moves within a training.
    pub schedule: LrSchedule,
    /// Examples per forward pass when evaluating.
    pub eval_batch_size: usize,
    /// Seeds the order of the training examples.
    pub seed: u64,
    /// The threads a step's kernels run on (burn-flex, burn-ndarray). Not part of a run's
    /// identity unless set: it changes how fast a step runs, never what it computes
    /// (`tests/classifier_trainee.rs` checks the weights bit for bit).
    #[serde(default, skip_serializing_if = "is_auto")]
    pub threads: StepThreads,
    /// Layers that can (`sprig_models::PrunableLinear`) compute with the kept weights only
    /// once few are kept. It changes what a step costs and the order of its sums, so it is
    /// part of a run's identity when set.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sparse_products: bool,
}

fn is_auto(threads: &StepThreads) -> bool {
    *threads == StepThreads::Auto
}

impl TrainConfig {
    /// The LTH paper's LeNet-300-100 setup with a linear-decay schedule.
    pub fn lenet(seed: u64) -> Self {
        Self {
            batch_size: 60,
            learning_rate: 1.2e-3,
            schedule: LrSchedule::default(),
            eval_batch_size: 1000,
            seed,
            threads: StepThreads::Auto,
            sparse_products: false,
        }
    }

    /// The LTH paper's Conv-2 setup (Adam 2e-4, batch 60) with a linear-decay schedule.
    pub fn conv2(seed: u64) -> Self {
        Self {
            learning_rate: 2e-4,
            // A batch of 1,000 CIFAR images holds hundreds of megabytes of activations per
            // convolution; batches of 100 stay in cache and validate about twice as fast.
            eval_batch_size: 100,
            ..Self::lenet(seed)
        }
    }

    /// Keyword spotting on spectrograms: Adam 3e-3, batch 16, linear decay. Small batches
    /// buy updates where a step is costly: the DS-CNN on FSDD reached 53% dense in 60 s at
    /// Adam 1e-3 and batch 50, 93.3% at 3e-3 and 32, 94.7% at 3e-3 and 16 (flex, seed 0).
    pub fn audio(seed: u64) -> Self {
        Self {
            batch_size: 16,
            learning_rate: 3e-3,
            ..Self::text(seed)
        }
    }

    /// Text classifiers: Adam 1e-3, batch 50 (Kim 2014's batch), linear decay.
    pub fn text(seed: u64) -> Self {
        Self {
            batch_size: 50,
            learning_rate: 1e-3,
            schedule: LrSchedule::default(),
            eval_batch_size: 500,
            seed,
            threads: StepThreads::Auto,
            sparse_products: false,
        }
    }

    fn check(&self) -> Result<(), PruneError> {
        let problem = if self.batch_size == 0 || self.eval_batch_size == 0 {
            Some("batch sizes must be at least 1".to_string())
        } else if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            Some(format!(
                "the learning rate must be positive, not {}",
                self.learning_rate
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |p| Err(PruneError::Config(p)))
    }
}

/// A [`Classifier`] with its training and validation data, trained by Adam with
/// cross-entropy under the current masks.
pub struct ClassifierTrainee<M, D> {
    /// `None` only while a step owns it.
    model: Option<M>,
    /// The model as built, before any mask: what a teacher's weights are loaded into (a
    /// layer computing with the survivors only would not compute the dense teacher).
    template: M,
    /// Distillation's teacher, when the current training learns from one.
    teacher: Option<Teacher<M>>,
    device: Device,
    eval_device: Device,
    optimizer: MaskedAdam,
    /// Whether steps run on one thread; `None` until settled.
    one_thread: Option<bool>,
    /// `StepThreads::Auto` measuring, until it settles `one_thread`.
    probe: Option<ThreadProbe>,
    /// Shared with the step's closure, which may run on another thread.
    masks: Option<Arc<DeviceMasks>>,
    train: D,
    validation: D,
    config: TrainConfig,
    loss: CrossEntropyLoss,
    order: Vec<usize>,
    position: usize,
    epoch: u64,
    done: u64,
    length: u64,
}

impl<M: std::fmt::Debug, D> std::fmt::Debug for ClassifierTrainee<M, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Burn's optimiser has no Debug; its state is summed up by the step count.
        f.debug_struct("ClassifierTrainee")
            .field("model", &self.model)
            .field("config", &self.config)
            .field("epoch", &self.epoch)
            .field("done", &self.done)
            .field("length", &self.length)
            .finish_non_exhaustive()
    }
}

impl<M, D> ClassifierTrainee<M, D>
where
    M: Classifier,
    D: LabelledData<Input = M::Input>,
{
    /// A trainer for `model` (built on `device`, which should have autodiff) starting from
    /// `initial` weights.
    ///
    /// # Errors
    /// [`PruneError::Config`] for a bad configuration or empty data;
    /// [`PruneError::Parameter`] if `initial` does not fit the model.
    pub fn new(
        model: M,
        initial: &Snapshot,
        train: D,
        validation: D,
        device: &Device,
        config: TrainConfig,
    ) -> Result<Self, PruneError> {
        config.check()?;
        if train.len() < config.batch_size {
            return Err(PruneError::Config(format!(
                "the training split has {} examples, fewer than one batch of {}",
                train.len(),
                config.batch_size
            )));
        }
        if validation.is_empty() {
            return Err(PruneError::Config(
                "the validation split is empty: model selection needs one".into(),
            ));
        }
        let model = load_snapshot(model, initial)?;
        // The backend's generator draws dropout masks (the only random draw on the
        // device; θ0 comes from the host): seeded, a run repeats on the same backend.
        device.seed(config.seed);
        Ok(Self {
            template: model.clone(),
            teacher: None,
            model: Some(model),
            device: device.clone(),
            eval_device: device.clone().without_autodiff(),
            optimizer: MaskedAdam::new(),
            one_thread: None,
            probe: None,
            masks: None,
            order: epoch_order(train.len(), config.seed, 0),
            train,
            validation,
            config,
            loss: CrossEntropyLossConfig::new().init(device),
            position: 0,
            epoch: 0,
            done: 0,
            length: 1,
        })
    }

    /// Whether steps run on one thread (see [`StepThreads`]); `None` until settled (for
    /// `Auto`, after its first four steps).
    pub fn steps_on_one_thread(&self) -> Option<bool> {
        self.one_thread
    }

    /// The model as trained so far.
    pub fn model(&self) -> &M {
        self.model
            .as_ref()
            .expect("the model is only taken within a step")
    }

    /// Loss and accuracy on any split (e.g. the test split), without autodiff.
    pub fn evaluate(&self, data: &mut D) -> Result<Evaluation, PruneError> {
        evaluate(
            self.model(),
            data,
            &self.eval_device,
            self.config.eval_batch_size,
        )
    }

    /// The next batch's indices, starting a new epoch (a new seeded order) when the
    /// current one has less than a full batch left.
    fn next_indices(&mut self) -> &[usize] {
        let size = self.config.batch_size;
        if self.position + size > self.order.len() {
            self.epoch += 1;
            self.order = epoch_order(self.train.len(), self.config.seed, self.epoch);
            self.position = 0;
        }
        let start = self.position;
        self.position += size;
        &self.order[start..start + size]
    }

    /// Settles the thread setting once, before the first training: as configured (LibTorch
    /// keeps its own threads whatever the setting), or for [`StepThreads::Auto`] by the
    /// first steps ([`ThreadProbe`]).
    fn choose_threads(&mut self) {
        if self.one_thread.is_some() || self.probe.is_some() {
            return;
        }
        let one = match self.config.threads {
            _ if !sprig_backend::runs_on_rayon(&self.device) => false,
            StepThreads::One => true,
            StepThreads::All => false,
            StepThreads::Auto => {
                self.probe = Some(ThreadProbe::default());
                return;
            }
        };
        tracing::debug!(one_thread = one, threads = ?self.config.threads, "step threads");
        self.one_thread = Some(one);
    }
}

/// Forward, loss and backward of one step: the loss and the gradients, or the loss
/// alone as `Err` when it is not finite. With a teacher's softened outputs the loss is
/// distillation's blend.
fn forward_backward<M: Classifier>(
    model: &M,
    inputs: M::Input,
    labels: Tensor<1, Int>,
    loss_fn: &CrossEntropyLoss,
    soft: Option<(Tensor<2>, Distillation)>,
) -> Result<(f64, GradientsParams), f64> {
    let logits = model.forward(inputs);
    let hard = loss_fn.forward(logits.clone(), labels);
    let loss = match soft {
        Some((targets, distillation)) => blend(distillation, hard, logits, targets),
        None => hard,
    };
    let value = f64::from(loss.clone().into_scalar::<f32>());
    if !value.is_finite() {
        return Err(value);
    }
    Ok((value, GradientsParams::from_grads(loss.backward(), model)))
}

/// [`StepThreads::Auto`]: a model whose step on all threads takes less than this runs on
/// one. Between the small steps that are faster on one thread (LeNet-300-100) and the
/// larger ones that gain from a second (TextCNN, DS-CNN, Conv-2), by `sprig-backends` and
/// `examples/fixture_steps.rs` in sprig-benches.
/// Timing both settings in alternation during training did not tell them apart reliably
/// (each switch leaves the other thread's allocator heap and caches cold).
const SMALL_STEP: Duration = Duration::from_millis(10);
/// Steps timed on all threads before deciding; the first (warm-up) is not counted.
const PROBE_STEPS: usize = 4;

/// [`StepThreads::Auto`]'s measurement: the first training's first steps, on all
/// threads, timed; a step's threads change nothing it computes, so these are ordinary
/// training steps.
#[derive(Debug, Default)]
struct ThreadProbe {
    times: Vec<Duration>,
}

impl ThreadProbe {
    /// Records a step's time; returns whether to run on one thread once decided.
    fn record(&mut self, took: Duration) -> Option<bool> {
        self.times.push(took);
        if self.times.len() < PROBE_STEPS {
            return None;
        }
        let median = sprig_budget::Estimator::Median.estimate(&mut self.times[1..].to_vec())?;
        Some(median < SMALL_STEP)
    }
}

/// Mean loss and accuracy of `model` on all of `data`, in batches of `batch_size`.
pub(crate) fn evaluate<M, D>(
    model: &M,
    data: &mut D,
    device: &Device,
    batch_size: usize,
) -> Result<Evaluation, PruneError>
where
    M: Classifier,
    D: LabelledData<Input = M::Input>,
{
    let model = model.valid();
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let (mut loss_sum, mut correct) = (0.0, 0_i64);
    let len = data.len();
    let mut indices = Vec::with_capacity(batch_size);
    for start in (0..len).step_by(batch_size.max(1)) {
        indices.clear();
        indices.extend(start..(start + batch_size).min(len));
        let (inputs, labels): (_, Tensor<1, Int>) = data.batch(&indices, device)?;
        let logits = model.forward(inputs);
        let loss = loss_fn.forward(logits.clone(), labels.clone());
        loss_sum += f64::from(loss.into_scalar::<f32>()) * indices.len() as f64;
        let predicted = logits.argmax(1).reshape([indices.len()]);
        correct += predicted.equal(labels).int().sum().into_scalar::<i64>();
    }
    let n = len.max(1) as f64;
    Ok(Evaluation {
        loss: loss_sum / n,
        accuracy: correct as f64 / n,
    })
}

impl<M, D> Trainee for ClassifierTrainee<M, D>
where
    M: Classifier,
    D: LabelledData<Input = M::Input>,
{
    fn weights(&self) -> Result<Snapshot, PruneError> {
        snapshot(self.model())
    }

    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        let model = self
            .model
            .take()
            .expect("the model is only taken within a step");
        match load_snapshot(model.clone(), weights) {
            Ok(loaded) => {
                self.model = Some(loaded);
                Ok(())
            }
            Err(e) => {
                self.model = Some(model);
                Err(e)
            }
        }
    }

    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError> {
        self.update_masks(masks)?;
        self.choose_threads();
        // Adam's moments belong to the weights before the rewind: start afresh.
        self.optimizer = MaskedAdam::new();
        self.done = 0;
        self.length = iterations.max(1);
        Ok(())
    }

    fn update_masks(&mut self, masks: &MaskSet) -> Result<(), PruneError> {
        let model = self
            .model
            .take()
            .expect("the model is only taken within a step");
        let device_masks = match DeviceMasks::new(masks, &model, &self.device) {
            Ok(m) => m,
            Err(e) => {
                self.model = Some(model);
                return Err(e);
            }
        };
        let mut model = device_masks.apply(model);
        if self.config.sparse_products {
            model.use_masks(masks);
        }
        self.model = Some(model);
        self.masks = Some(Arc::new(device_masks));
        Ok(())
    }

    fn set_training_length(&mut self, iterations: u64) {
        self.length = iterations.max(1);
    }

    fn step(&mut self) -> Result<f64, PruneError> {
        let device = self.device.clone();
        let indices = self.next_indices().to_vec();
        let (inputs, labels) = self.train.batch(&indices, &device)?;
        let soft = match self.teacher.as_mut() {
            Some(teacher) => Some((
                teacher.targets(&mut self.train, &indices, &self.eval_device, &device)?,
                teacher.distillation(),
            )),
            None => None,
        };
        let model = self
            .model
            .take()
            .expect("the model is only taken within a step");
        let lr = self
            .config
            .schedule
            .rate(self.config.learning_rate, self.done, self.length);
        // The whole step, Adam's pass included, on the chosen threads: splitting a
        // LeNet-sized pass across the pool made the step slower (`fixture_steps`).
        // Owned, not borrowed: the step may run on the one-thread pool (`'static` work).
        let mut optimizer = std::mem::take(&mut self.optimizer);
        let (masks, loss) = (self.masks.clone(), self.loss.clone());
        let work = move || {
            match forward_backward(&model, inputs, labels, &loss, soft) {
                Ok((value, grads)) => {
                    // One fused pass per parameter: gradient masked, Adam's step, pruned
                    // weights zeroed.
                    let model = optimizer.step(lr, model, grads, masks.as_deref());
                    (model, optimizer, Ok(value))
                }
                Err(value) => (model, optimizer, Err(value)),
            }
        };
        let on_one = self.one_thread == Some(true);
        let started = Instant::now();
        let (model, optimizer, value) = if on_one {
            sprig_backend::on_one_thread(work)
        } else {
            work()
        };
        let took = started.elapsed();
        if let Some(one) = self.probe.as_mut().and_then(|probe| probe.record(took)) {
            tracing::debug!(one_thread = one, "step threads measured");
            self.one_thread = Some(one);
            self.probe = None;
        }
        self.model = Some(model);
        self.optimizer = optimizer;
        let value = value.map_err(|value| PruneError::NonFiniteLoss {
            value,
            iteration: self.done + 1,
            advice: format!(
                "; try a smaller learning rate than {}",
                self.config.learning_rate
            ),
        })?;
        self.done += 1;
        Ok(value)
    }

    fn set_teacher(
        &mut self,
        teacher: Option<(&Snapshot, Distillation)>,
    ) -> Result<(), PruneError> {
        self.teacher = match teacher {
            None => None,
            Some((weights, distillation)) => {
                distillation.check()?;
                let model = load_snapshot(self.template.clone(), weights)?.valid();
                Some(Teacher::new(model, distillation, self.train.len()))
            }
        };
        Ok(())
    }

    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        let model = self
            .model
            .as_ref()
            .expect("the model is only taken within a step");
        evaluate(
            model,
            &mut self.validation,
            &self.eval_device,
            self.config.eval_batch_size,
        )
    }
}
