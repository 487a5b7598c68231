//! Times the classifier trainee's training step on MNIST/LeNet-300-100 over a long dense
//! training and over the sparse training after a 90 % prune and rewind, in windows, to see
//! whether (and when) an iteration gets slower as training goes on.
//!
//! `cargo run --example step_time -p sprig-experiments -- [backend] [steps]` (with
//! SPRIG_DATA set; SPRIG_KEEP_DENORMALS=1 leaves subnormal floats on).

use std::time::Instant;

use sprig_backend::Backend;
use sprig_data::{LoadOptions, load_mnist};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, prune_to_sparsity};
use sprig_models::{Initialization, Lenet300100, initial_weights};
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches, TrainConfig};
use sprig_prune::engine::Trainee;
use sprig_prune::tensor_shapes;

sprig_backend::global_allocator!();

const WINDOW: usize = 1000;

fn main() -> anyhow::Result<()> {
    // SPRIG_KEEP_DENORMALS=1 shows the cost of subnormal floats.
    if std::env::var_os("SPRIG_KEEP_DENORMALS").is_none() {
        sprig_backend::flush_denormals_to_zero();
    }
    let mut args = std::env::args().skip(1);
    let backend: Backend = args.next().unwrap_or("flex".into()).parse()?;
    let steps: usize = args.next().map_or(Ok(12_000), |s| s.parse())?;
    let data = load_mnist(
        sprig_data::data_dir(None).join("mnist"),
        &LoadOptions::lth(0),
    )?;
    let norm = data.fit_normalization()?;
    let device = backend.train_device()?;
    let model = Lenet300100::new(784, 10, &device);
    let shapes = tensor_shapes(&model);
    let theta0 = initial_weights(&shapes, Initialization::GlorotNormal, 0)?;
    let mut masks = MaskSet::new();
    for t in model.prunable() {
        let shape = &shapes.iter().find(|(p, _)| *p == t.path).expect("param").1;
        masks.insert_dense(&t.path, t.kind, shape)?;
    }
    let mut trainee = ClassifierTrainee::new(
        model,
        &theta0,
        ImageBatches::new(data.train.clone(), norm.clone()),
        ImageBatches::new(data.validation.clone(), norm),
        &device,
        TrainConfig::lenet(0),
    )?;
    trainee.start_training(&masks, steps as u64)?;
    windows(&mut trainee, "dense", steps)?;
    let start = Instant::now();
    let eval = trainee.validate()?;
    println!(
        "validation: {:.1} ms, accuracy {:.4}",
        start.elapsed().as_secs_f64() * 1000.0,
        eval.accuracy
    );
    let trained = trainee.weights()?;
    let scores = Scores::magnitude(&trained);
    prune_to_sparsity(
        &mut masks,
        &scores,
        Scope::Global,
        &LayerRates::uniform(),
        0.9,
    )?;
    trainee.load_weights(&theta0)?;
    trainee.start_training(&masks, steps as u64)?;
    windows(&mut trainee, "sparse 90%", steps)?;
    Ok(())
}

/// Trains `steps` steps, printing the mean step time of each window and the loss at its end.
fn windows<T: Trainee>(trainee: &mut T, label: &str, steps: usize) -> anyhow::Result<()> {
    let mut means = Vec::new();
    for w in 0..steps / WINDOW {
        let start = Instant::now();
        let mut loss = 0.0;
        for _ in 0..WINDOW {
            loss = trainee.step()?;
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / WINDOW as f64;
        means.push(ms);
        println!("{label} window {w}: {ms:.3} ms per step, loss {loss:.2e}");
    }
    println!(
        "{label}: median window {:.3} ms",
        sprig_report::median(&means)
    );
    Ok(())
}
