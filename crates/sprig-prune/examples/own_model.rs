//! Prunes a network that this file defines — no Sprig crate knows it — on a folder of
//! images, to 80% sparsity within a wall-clock budget, and compares the ticket with the
//! same network trained dense for the same budget.
//!
//! The folder is made here from real MNIST digits (`train/DIGIT/*.png` and
//! `test/DIGIT/*.png`, the test images from MNIST's test set), as any image tool would lay
//! out a user's data. The model only says how it computes logits (`Classifier::forward`);
//! which of its tensors are pruned is found by visiting it (`sprig_prune::discover`).
//!
//! `cargo run -p sprig-prune --example own_model -- [DATA_DIR] [BUDGET_S] [BACKEND]`
//! (DATA_DIR holds `mnist/`; default `$SPRIG_DATA`, then `../shared/data`).

use std::error::Error;
use std::path::{Path, PathBuf};
use std::time::Duration;

use burn::module::Module;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};
use sprig_backend::Backend;
use sprig_budget::RealClock;
use sprig_data::vision::write_grey_png;
use sprig_data::{FolderSplit, LoadOptions, load_image_folder, load_mnist};
use sprig_models::Classifier;
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches, TrainConfig};
use sprig_prune::engine::{BudgetedConfig, TrainOnce, TrainingLength, run_budgeted, train_once};
use sprig_prune::{PruneRules, discover, snapshot};

sprig_backend::global_allocator!();

/// The user's network: two 3×3 convolutions with 2×2 max pooling, a hidden layer of 64
/// and the classifier head.
#[derive(Module, Debug)]
struct SmallCnn {
    conv1: Conv2d,
    conv2: Conv2d,
    pool: MaxPool2d,
    fc: Linear,
    head: Linear,
}

impl SmallCnn {
    fn new([channels, height, width]: [usize; 3], classes: usize, device: &Device) -> Self {
        let conv = |from, to| {
            Conv2dConfig::new([from, to], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        Self {
            conv1: conv(channels, 16),
            conv2: conv(16, 32),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc: LinearConfig::new(32 * (height / 4) * (width / 4), 64).init(device),
            head: LinearConfig::new(64, classes).init(device),
        }
    }
}

/// All Sprig needs of the model: its logits.
impl Classifier for SmallCnn {
    type Input = Tensor<4>;
    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.pool.forward(relu(self.conv1.forward(images)));
        let x = self.pool.forward(relu(self.conv2.forward(x)));
        let x: Tensor<2> = x.flatten(1, 3);
        self.head.forward(relu(self.fc.forward(x)))
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    sprig_backend::flush_denormals_to_zero();
    let mut args = std::env::args().skip(1);
    let data_dir = args
        .next()
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("SPRIG_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("../shared/data"));
    let budget = Duration::from_secs_f64(args.next().map_or(Ok(60.0), |s| s.parse())?);
    let backend: Backend = args.next().unwrap_or_else(|| "flex".into()).parse()?;
    let seed = 0;

    let folder = std::env::temp_dir().join("sprig-own-model-digits");
    make_digit_folder(&data_dir, &folder, 1_000, 200)?;
    let data = load_image_folder(&folder, &FolderSplit::default(), &LoadOptions::lth(seed))?;
    let norm = data.fit_normalization()?;
    let shape = data.train.shape();
    let input = [shape.channels, shape.height, shape.width];
    let classes = data.classes.len();
    println!(
        "image folder {}: {} classes, {} training, {} validation, {} test images of {input:?}",
        folder.display(),
        classes,
        data.train.len(),
        data.validation.len(),
        data.test.len()
    );

    let device = backend.train_device()?;
    let model = SmallCnn::new(input, classes, &device);
    // θ0 is the model's own initialisation; the ticket rewinds to it.
    let theta0 = snapshot(&model)?;
    let found = discover(&model, &PruneRules::default())?;
    for (path, entry) in found.masks.iter() {
        println!(
            "  prunable: {path} ({}, {} weights)",
            entry.kind(),
            entry.mask().len()
        );
    }
    let batches = |set: &sprig_data::ImageSet| ImageBatches::new(set.clone(), norm.clone());
    let config = TrainConfig::lenet(seed);

    // The same network trained dense for the whole budget: the reference.
    let mut dense = ClassifierTrainee::new(
        model.clone(),
        &theta0,
        batches(&data.train),
        batches(&data.validation),
        &device,
        config,
    )?;
    let settings = TrainOnce {
        eval_every: 100,
        ..TrainOnce::new(TrainingLength::Budget(budget))
    };
    let trained = train_once(&mut dense, &found.masks, &RealClock::new(), &settings)?;
    let dense_accuracy = dense.evaluate(&mut batches(&data.test))?.accuracy;
    println!(
        "dense:    test accuracy {:.2}% after {} iterations in {:.1} s",
        100.0 * dense_accuracy,
        trained.iterations,
        trained.time_used.as_secs_f64()
    );

    // The lottery ticket at 80% sparsity within the same budget.
    let mut trainee = ClassifierTrainee::new(
        model,
        &theta0,
        batches(&data.train),
        batches(&data.validation),
        &device,
        config,
    )?;
    let budgeted = BudgetedConfig {
        eval_every: 100,
        rates: found.rates.clone(),
        ..BudgetedConfig::new(budget, 0.8)
    };
    let clock = RealClock::new();
    let ticket = run_budgeted(&mut trainee, found.masks.clone(), &clock, &budgeted)?;
    let ticket_accuracy = trainee.evaluate(&mut batches(&data.test))?.accuracy;
    println!(
        "ticket:   test accuracy {:.2}% at sparsity {:.4}, {} prune(s), {:.1} s of {:.0} s ({:?})",
        100.0 * ticket_accuracy,
        ticket.masks.sparsity(),
        ticket.prunes,
        ticket.time_used.as_secs_f64(),
        budget.as_secs_f64(),
        ticket.stop
    );
    for (path, entry) in ticket.masks.iter() {
        println!("  {path}: {:.1}% pruned", 100.0 * entry.mask().sparsity());
    }
    println!(
        "ticket − dense: {:+.2} points",
        100.0 * (ticket_accuracy - dense_accuracy)
    );
    Ok(())
}

/// Writes `train/DIGIT/*.png` (the first `train_per_class` MNIST training images of each
/// digit) and `test/DIGIT/*.png` (the first `test_per_class` test images) under `root`,
/// unless a previous run already did.
fn make_digit_folder(
    data_dir: &Path,
    root: &Path,
    train_per_class: usize,
    test_per_class: usize,
) -> Result<(), Box<dyn Error>> {
    let done = root.join("complete");
    if done.exists() {
        return Ok(());
    }
    let mnist = load_mnist(
        data_dir,
        &LoadOptions {
            validation: 0,
            ..LoadOptions::lth(0)
        },
    )?;
    for (split, set, per_class) in [
        ("train", &mnist.train, train_per_class),
        ("test", &mnist.test, test_per_class),
    ] {
        let mut counts = vec![0; mnist.classes.len()];
        for i in 0..set.len() {
            let (Some(label), Some(pixels)) = (set.label(i), set.image(i)) else {
                continue;
            };
            if counts[label] >= per_class {
                continue;
            }
            counts[label] += 1;
            let dir = root.join(split).join(&mnist.classes[label]);
            std::fs::create_dir_all(&dir)?;
            write_grey_png(&dir.join(format!("{i:05}.png")), 28, 28, pixels)?;
        }
    }
    std::fs::write(done, "")?;
    Ok(())
}
