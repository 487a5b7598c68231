//! Your own training step and evaluation, for a task that is not classification, under
//! Sprig's time budget: Sprig keeps the masks, the rewinding, the plan and the deadline;
//! the user's code only trains one batch and scores the model.
//!
//! The task: an autoencoder that compresses real MNIST digits to 32 numbers and rebuilds
//! them (loss: mean squared error). The hook is the `Trainee` trait; the score it reports
//! for model selection (`Evaluation::accuracy`, higher is better) is R², the share of the
//! pixels' variance the reconstruction explains. Pruned to 80% within the budget, against
//! the same autoencoder trained dense for the same budget.
//!
//! `cargo run -p sprig-prune --example custom_step -- [DATA_DIR] [BUDGET_S] [BACKEND]`
//! (DATA_DIR holds `mnist/`; default `$SPRIG_DATA`, then `../shared/data`).

use std::error::Error;
use std::path::PathBuf;
use std::time::Duration;

use burn::module::Module;
use burn::nn::loss::{MseLoss, Reduction};
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{relu, sigmoid};
use burn::tensor::{Device, Tensor, TensorData};
use sprig_backend::Backend;
use sprig_budget::RealClock;
use sprig_data::{ImageSet, LoadOptions, load_mnist};
use sprig_mask::{MaskSet, Snapshot};
use sprig_prune::engine::{
    BudgetedConfig, Evaluation, TrainOnce, Trainee, TrainingLength, run_budgeted, train_once,
};
use sprig_prune::{DeviceMasks, PruneError, PruneRules, discover, load_snapshot, snapshot};

sprig_backend::global_allocator!();

const PIXELS: usize = 784;
const BATCH: usize = 64;
const LEARNING_RATE: f64 = 1e-3;

/// 784 → 256 → 32 → 256 → 784.
#[derive(Module, Debug)]
struct AutoEncoder {
    encode: Linear,
    code: Linear,
    decode: Linear,
    out: Linear,
}

impl AutoEncoder {
    fn new(device: &Device) -> Self {
        Self {
            encode: LinearConfig::new(PIXELS, 256).init(device),
            code: LinearConfig::new(256, 32).init(device),
            decode: LinearConfig::new(32, 256).init(device),
            out: LinearConfig::new(256, PIXELS).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let code = self.code.forward(relu(self.encode.forward(x)));
        sigmoid(self.out.forward(relu(self.decode.forward(code))))
    }
}

/// The user's trainer: Adam with a linearly decaying rate, one batch per step.
struct Reconstruction {
    /// `None` only while a step owns it.
    model: Option<AutoEncoder>,
    device: Device,
    optimizer: ModuleOptimizer,
    masks: Option<DeviceMasks>,
    train: Vec<f32>,
    validation: Vec<f32>,
    position: usize,
    done: u64,
    length: u64,
}

impl Reconstruction {
    fn new(
        model: AutoEncoder,
        theta0: &Snapshot,
        train: Vec<f32>,
        validation: Vec<f32>,
        device: &Device,
    ) -> Result<Self, PruneError> {
        Ok(Self {
            model: Some(load_snapshot(model, theta0)?),
            device: device.clone(),
            optimizer: AdamConfig::new().init(),
            masks: None,
            train,
            validation,
            position: 0,
            done: 0,
            length: 1,
        })
    }

    fn model(&self) -> &AutoEncoder {
        self.model.as_ref().expect("only a step takes the model")
    }

    /// Mean squared error and R² of the reconstruction of `pixels`.
    fn score(&self, pixels: &[f32]) -> Evaluation {
        let device = self.device.clone().without_autodiff();
        let model = self.model().valid();
        let n = pixels.len() / PIXELS;
        let x = Tensor::<2>::from_data(TensorData::new(pixels.to_vec(), [n, PIXELS]), &device);
        let mse = MseLoss::new().forward(model.forward(x.clone()), x, Reduction::Mean);
        let mse = f64::from(mse.into_scalar::<f32>());
        let mean = pixels.iter().map(|&v| f64::from(v)).sum::<f64>() / pixels.len() as f64;
        let variance = pixels
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / pixels.len() as f64;
        Evaluation {
            loss: mse,
            accuracy: (1.0 - mse / variance).clamp(0.0, 1.0),
        }
    }
}

impl Trainee for Reconstruction {
    fn weights(&self) -> Result<Snapshot, PruneError> {
        snapshot(self.model())
    }

    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        let model = self.model().clone();
        self.model = Some(load_snapshot(model, weights)?);
        Ok(())
    }

    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError> {
        self.update_masks(masks)?;
        // A rewind starts a new training: Adam's moments must not carry over.
        self.optimizer = AdamConfig::new().init();
        self.done = 0;
        self.length = iterations.max(1);
        Ok(())
    }

    fn update_masks(&mut self, masks: &MaskSet) -> Result<(), PruneError> {
        let masks = DeviceMasks::new(masks, self.model(), &self.device)?;
        let model = self.model.take().expect("only a step takes the model");
        self.model = Some(masks.apply(model));
        self.masks = Some(masks);
        Ok(())
    }

    fn set_training_length(&mut self, iterations: u64) {
        self.length = iterations.max(1);
    }

    fn step(&mut self) -> Result<f64, PruneError> {
        let examples = self.train.len() / PIXELS;
        if self.position + BATCH > examples {
            self.position = 0;
        }
        let batch = &self.train[self.position * PIXELS..(self.position + BATCH) * PIXELS];
        self.position += BATCH;
        let x = Tensor::<2>::from_data(
            TensorData::new(batch.to_vec(), [BATCH, PIXELS]),
            &self.device,
        );
        let model = self.model.take().expect("only a step takes the model");
        let loss = MseLoss::new().forward(model.forward(x.clone()), x, Reduction::Mean);
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            self.model = Some(model);
            return Err(PruneError::NonFiniteLoss {
                value,
                iteration: self.done + 1,
                advice: String::new(),
            });
        }
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        // Pruned weights get no update, and the mask is re-applied after the step.
        if let Some(masks) = &self.masks {
            masks.mask_gradients(&model, &mut grads);
        }
        let progress = self.done as f64 / self.length as f64;
        let lr = LEARNING_RATE * (1.0 - progress).max(0.0);
        let mut model = self.optimizer.step(lr, model, grads);
        if let Some(masks) = &self.masks {
            model = masks.apply(model);
        }
        self.model = Some(model);
        self.done += 1;
        Ok(value)
    }

    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        Ok(self.score(&self.validation))
    }
}

/// Pixels scaled to [0, 1], one image after another.
fn pixels(set: &ImageSet) -> Vec<f32> {
    (0..set.len())
        .flat_map(|i| set.image(i).unwrap_or_default().iter())
        .map(|&p| f32::from(p) / 255.0)
        .collect()
}

fn main() -> Result<(), Box<dyn Error>> {
    sprig_backend::flush_denormals_to_zero();
    let mut args = std::env::args().skip(1);
    let data_dir = args
        .next()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SPRIG_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let budget = Duration::from_secs_f64(args.next().map_or(Ok(30.0), |s| s.parse())?);
    let backend: Backend = args.next().unwrap_or_else(|| "flex".into()).parse()?;

    let mnist = load_mnist(&data_dir, &LoadOptions::lth(0))?;
    let (train, validation, test) = (
        pixels(&mnist.train),
        pixels(&mnist.validation),
        pixels(&mnist.test),
    );
    let device = backend.train_device()?;
    let model = AutoEncoder::new(&device);
    let theta0 = snapshot(&model)?;
    let found = discover(&model, &PruneRules::default())?;

    let mut dense = Reconstruction::new(
        model.clone(),
        &theta0,
        train.clone(),
        validation.clone(),
        &device,
    )?;
    let settings = TrainOnce {
        eval_every: 250,
        ..TrainOnce::new(TrainingLength::Budget(budget))
    };
    let trained = train_once(&mut dense, &found.masks, &RealClock::new(), &settings)?;
    let dense_test = dense.score(&test);
    println!(
        "dense:  test MSE {:.5}, R² {:.4} after {} iterations in {:.1} s",
        dense_test.loss,
        dense_test.accuracy,
        trained.iterations,
        trained.time_used.as_secs_f64()
    );

    let mut trainee = Reconstruction::new(model, &theta0, train, validation, &device)?;
    let config = BudgetedConfig {
        eval_every: 250,
        rates: found.rates.clone(),
        ..BudgetedConfig::new(budget, 0.8)
    };
    let ticket = run_budgeted(&mut trainee, found.masks, &RealClock::new(), &config)?;
    let ticket_test = trainee.score(&test);
    println!(
        "ticket: test MSE {:.5}, R² {:.4} at sparsity {:.4}, {} prune(s), {:.1} s of {:.0} s ({:?})",
        ticket_test.loss,
        ticket_test.accuracy,
        ticket.masks.sparsity(),
        ticket.prunes,
        ticket.time_used.as_secs_f64(),
        budget.as_secs_f64(),
        ticket.stop
    );
    Ok(())
}
