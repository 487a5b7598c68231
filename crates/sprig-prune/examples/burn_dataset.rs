//! Prunes a user's model on a user's Burn data pipeline — their own `Dataset` and
//! `Batcher`, as Burn's MNIST guide writes them — to 80% sparsity within a wall-clock
//! budget, against the same model trained dense for the same budget.
//!
//! Nothing here is a Sprig type but the trainer (`ClassifierTrainee`), the adapter that
//! hands it batches (`DatasetBatches`) and the budgeted search. The items are real MNIST
//! digits, read once into Burn's `InMemDataset`.
//!
//! `cargo run -p sprig-prune --example burn_dataset -- [DATA_DIR] [BUDGET_S] [BACKEND]`
//! (DATA_DIR holds `mnist/`; default `$SPRIG_DATA`, then `../shared/data`).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::{Dataset, InMemDataset};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_backend::Backend;
use sprig_budget::RealClock;
use sprig_data::{LoadOptions, load_mnist};
use sprig_models::Classifier;
use sprig_prune::classifier::{ClassifierTrainee, DatasetBatches, TrainConfig};
use sprig_prune::engine::{BudgetedConfig, TrainOnce, TrainingLength, run_budgeted, train_once};
use sprig_prune::{PruneRules, discover, snapshot};

sprig_backend::global_allocator!();

/// One digit as the user's pipeline keeps it.
#[derive(Debug, Clone)]
struct DigitItem {
    pixels: Vec<u8>,
    label: u8,
}

/// The user's batch type.
#[derive(Debug, Clone)]
struct DigitBatch {
    images: Tensor<4>,
    targets: Tensor<1, Int>,
}

/// The user's batcher: pixels to `[batch, 1, 28, 28]` floats, normalised as Burn's MNIST
/// example does.
#[derive(Debug, Clone, Copy)]
struct DigitBatcher;

impl Batcher<DigitItem, DigitBatch> for DigitBatcher {
    fn batch(&self, items: Vec<DigitItem>, device: &Device) -> DigitBatch {
        let n = items.len();
        let pixels: Vec<f32> = items
            .iter()
            .flat_map(|item| item.pixels.iter())
            .map(|&p| (f32::from(p) / 255.0 - 0.1307) / 0.3081)
            .collect();
        let labels: Vec<i64> = items.iter().map(|item| i64::from(item.label)).collect();
        DigitBatch {
            images: Tensor::from_data(TensorData::new(pixels, [n, 1, 28, 28]), device),
            targets: Tensor::from_data(TensorData::new(labels, [n]), device),
        }
    }
}

/// The user's model: 784 → 256 → 64 → 10.
#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    bottleneck: Linear,
    head: Linear,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Self {
            hidden: LinearConfig::new(784, 256).init(device),
            bottleneck: LinearConfig::new(256, 64).init(device),
            head: LinearConfig::new(64, 10).init(device),
        }
    }
}

/// All Sprig needs of the model: its logits.
impl Classifier for Mlp {
    type Input = Tensor<4>;
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x: Tensor<2> = images.flatten(1, 3);
        let x = relu(self.hidden.forward(x));
        self.head.forward(relu(self.bottleneck.forward(x)))
    }
}

/// The user's datasets: MNIST's training images (less a validation share), that share
/// and the test images, as items in memory (shared: Burn implements `Dataset` for `Arc`).
type Digits = Arc<InMemDataset<DigitItem>>;

fn datasets(data_dir: &Path, seed: u64) -> Result<[Digits; 3], Box<dyn Error>> {
    let mnist = load_mnist(data_dir, &LoadOptions::lth(seed))?;
    let items = |set: &sprig_data::ImageSet| {
        let digits = (0..set.len())
            .filter_map(|i| {
                Some(DigitItem {
                    pixels: set.image(i)?.to_vec(),
                    label: u8::try_from(set.label(i)?).ok()?,
                })
            })
            .collect();
        Arc::new(InMemDataset::new(digits))
    };
    Ok([
        items(&mnist.train),
        items(&mnist.validation),
        items(&mnist.test),
    ])
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
    let seed = 0;

    let [train, validation, test] = datasets(&data_dir, seed)?;
    println!(
        "Burn InMemDatasets: {} training, {} validation, {} test digits",
        train.len(),
        validation.len(),
        test.len()
    );
    let split = |batch: DigitBatch| (batch.images, batch.targets);
    let device = backend.train_device()?;
    let model = Mlp::new(&device);
    let theta0 = snapshot(&model)?;
    let found = discover(&model, &PruneRules::default())?;
    let config = TrainConfig::lenet(seed);

    // Dense for the whole budget: the reference.
    let mut dense = ClassifierTrainee::new(
        model.clone(),
        &theta0,
        DatasetBatches::new(train.clone(), DigitBatcher, split),
        DatasetBatches::new(validation.clone(), DigitBatcher, split),
        &device,
        config,
    )?;
    let settings = TrainOnce {
        eval_every: 250,
        ..TrainOnce::new(TrainingLength::Budget(budget))
    };
    let trained = train_once(&mut dense, &found.masks, &RealClock::new(), &settings)?;
    let mut test_batches = DatasetBatches::new(test, DigitBatcher, split);
    let dense_accuracy = dense.evaluate(&mut test_batches)?.accuracy;
    println!(
        "dense:  test accuracy {:.2}% after {} iterations in {:.1} s",
        100.0 * dense_accuracy,
        trained.iterations,
        trained.time_used.as_secs_f64()
    );

    // The ticket at 80% sparsity within the same budget.
    let mut trainee = ClassifierTrainee::new(
        model,
        &theta0,
        DatasetBatches::new(train, DigitBatcher, split),
        DatasetBatches::new(validation, DigitBatcher, split),
        &device,
        config,
    )?;
    let budgeted = BudgetedConfig {
        eval_every: 250,
        rates: found.rates.clone(),
        ..BudgetedConfig::new(budget, 0.8)
    };
    let ticket = run_budgeted(&mut trainee, found.masks, &RealClock::new(), &budgeted)?;
    let ticket_accuracy = trainee.evaluate(&mut test_batches)?.accuracy;
    println!(
        "ticket: test accuracy {:.2}% at sparsity {:.4}, {} prune(s), {:.1} s of {:.0} s ({:?})",
        100.0 * ticket_accuracy,
        ticket.masks.sparsity(),
        ticket.prunes,
        ticket.time_used.as_secs_f64(),
        budget.as_secs_f64(),
        ticket.stop
    );
    println!(
        "ticket − dense: {:+.2} points",
        100.0 * (ticket_accuracy - dense_accuracy)
    );
    Ok(())
}
