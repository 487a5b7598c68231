//! Times the classifier trainee's training step on MNIST/LeNet-300-100 against the parts
//! it is made of, to see where an iteration's time goes.
//!
//! `cargo run --example step_time -p sprig-experiments` (with SPRIG_DATA set).

use std::time::Instant;

use sprig_backend::Backend;
use sprig_data::{LoadOptions, load_mnist};
use sprig_mask::MaskSet;
use sprig_models::{Initialization, Lenet300100, initial_weights};
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches, TrainConfig};
use sprig_prune::engine::Trainee;
use sprig_prune::tensor_shapes;

sprig_backend::global_allocator!();

fn main() -> anyhow::Result<()> {
    let data = load_mnist(
        sprig_data::data_dir(None).join("mnist"),
        &LoadOptions::lth(0),
    )?;
    let norm = data.fit_normalization()?;
    let backend: Backend = std::env::args().nth(1).unwrap_or("flex".into()).parse()?;
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
    trainee.start_training(&masks, 100_000)?;
    for _ in 0..50 {
        trainee.step()?;
    }
    let mut times = Vec::new();
    for _ in 0..7 {
        let start = Instant::now();
        for _ in 0..200 {
            trainee.step()?;
        }
        times.push(start.elapsed().as_secs_f64() * 1000.0 / 200.0);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{backend}: median {:.3} ms per step ({times:.3?})",
        times[3]
    );
    // The same step without Sprig: Burn's Adam on the same model, batches and loss.
    {
        use burn::nn::loss::CrossEntropyLossConfig;
        use burn::optim::{AdamConfig, GradientsParams};
        use sprig_prune::classifier::LabelledData;
        let mut model = sprig_prune::load_snapshot(Lenet300100::new(784, 10, &device), &theta0)?;
        let mut optim = AdamConfig::new().init();
        let loss_fn = CrossEntropyLossConfig::new().init(&device);
        let mut train = ImageBatches::new(data.train.clone(), data.fit_normalization()?);
        let order = sprig_data::epoch_order(train.len(), 0, 0);
        let mut times = Vec::new();
        for round in 0..8 {
            let start = Instant::now();
            for i in 0..200 {
                let at = (round * 200 + i) * 60 % 54_000;
                let (x, y) = train.batch(&order[at..at + 60], &device)?;
                let loss = loss_fn.forward(model.forward(x), y);
                let grads = GradientsParams::from_grads(loss.backward(), &model);
                model = optim.step(1.2e-3, model, grads);
            }
            times.push(start.elapsed().as_secs_f64() * 1000.0 / 200.0);
        }
        times.remove(0);
        times.sort_by(f64::total_cmp);
        println!("plain Burn step: median {:.3} ms ({times:.3?})", times[3]);
    }
    let start = Instant::now();
    trainee.validate()?;
    println!(
        "validation (5,000 images): {:.1} ms",
        start.elapsed().as_secs_f64() * 1000.0
    );
    Ok(())
}
