//! The ready classification trainer on a small synthetic image task, on the default
//! backend: it learns, pruned weights stay exactly zero, IMP and the fixed-length training
//! do what they say, and a diverging loss is an error rather than a panic.

use sprig_backend::Backend;
use sprig_budget::FakeClock;
use sprig_data::{ImageSet, ImageShape, Normalization};
use sprig_mask::{MaskSet, Snapshot};
use sprig_models::{Initialization, Lenet300100, initial_weights};
use sprig_prune::PruneError;
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches, LrSchedule, TrainConfig};
use sprig_prune::engine::{
    ImpConfig, StopReason, TrainOnce, Trainee, TrainingLength, run_imp, train_once,
};
use sprig_prune::tensor_shapes;

/// 4×4 grey images: class 0 is bright in the top half, class 1 in the bottom half, with
/// deterministic noise.
fn images(n: usize, salt: u32) -> ImageSet {
    let mut state = 0x2545_F491_u32 ^ salt;
    let mut noise = || {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        (state % 64) as u8
    };
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for i in 0..n {
        let label = (i % 2) as u8;
        for row in 0..4 {
            let bright = (row < 2) == (label == 0);
            for _ in 0..4 {
                pixels.push(if bright { 160 } else { 40 } + noise());
            }
        }
        labels.push(label);
    }
    ImageSet::new(
        ImageShape::new(1, 4, 4),
        pixels,
        labels,
        vec!["top".to_string(), "bottom".to_string()],
    )
    .unwrap()
}

fn setup(
    config: TrainConfig,
) -> (
    ClassifierTrainee<Lenet300100, ImageBatches>,
    MaskSet,
    Snapshot,
) {
    let device = Backend::default_compiled().train_device().unwrap();
    let model = Lenet300100::new(16, 2, &device);
    let shapes = tensor_shapes(&model);
    let theta0 = initial_weights(&shapes, Initialization::GlorotNormal, 3).unwrap();
    let mut masks = MaskSet::new();
    for t in model.prunable() {
        let shape = &shapes.iter().find(|(p, _)| *p == t.path).unwrap().1;
        masks.insert_dense(&t.path, t.kind, shape).unwrap();
    }
    let train = images(600, 1);
    let norm = Normalization::fit(&train).unwrap();
    let trainee = ClassifierTrainee::new(
        model,
        &theta0,
        ImageBatches::new(train, norm.clone()),
        ImageBatches::new(images(200, 2), norm),
        &device,
        config,
    )
    .unwrap();
    (trainee, masks, theta0)
}

fn config() -> TrainConfig {
    TrainConfig {
        batch_size: 20,
        eval_batch_size: 64,
        ..TrainConfig::lenet(5)
    }
}

#[test]
fn learns_and_selects_by_validation() {
    let (mut trainee, masks, _) = setup(config());
    let before = trainee.validate().unwrap();
    let clock = FakeClock::new();
    let settings = TrainOnce {
        eval_every: 20,
        ..TrainOnce::new(TrainingLength::Iterations(100))
    };
    let outcome = train_once(&mut trainee, &masks, &clock, &settings).unwrap();
    assert_eq!(outcome.iterations, 100);
    assert_eq!(outcome.stop, StopReason::Completed);
    assert!(
        outcome.validation.accuracy >= 0.95,
        "{:?}",
        outcome.validation
    );
    assert!(
        outcome.validation.loss < before.loss,
        "{before:?} -> {:?}",
        outcome.validation
    );
    // The selected weights are the trainee's now.
    assert_eq!(trainee.validate().unwrap(), outcome.validation);
}

#[test]
fn imp_keeps_pruned_weights_zero_and_reaches_the_target() {
    for schedule in LrSchedule::ALL {
        let (mut trainee, masks, theta0) = setup(TrainConfig {
            schedule,
            ..config()
        });
        let config = ImpConfig {
            target_sparsity: 0.8,
            rounds: 3,
            iterations: 60,
            eval_every: 30,
            scope: sprig_mask::Scope::Global,
            rates: sprig_mask::LayerRates::uniform(),
        };
        let outcome = run_imp(&mut trainee, masks, &FakeClock::new(), &config).unwrap();
        let total = outcome.masks.total() as f64;
        assert!(
            (outcome.masks.sparsity() - 0.8).abs() <= 1.0 / total,
            "{}",
            outcome.masks.sparsity()
        );
        assert_eq!(outcome.rounds.len(), 4);
        assert!(
            outcome.last.validation.accuracy >= 0.9,
            "{schedule}: {:?}",
            outcome.last.validation
        );
        let trained = trainee.weights().unwrap();
        for (path, entry) in outcome.masks.iter() {
            let values = trained.get(path).unwrap().values();
            let start = theta0.get(path).unwrap().values();
            let mut moved = 0;
            for ((kept, v), s) in entry.mask().iter().zip(values).zip(start) {
                if kept {
                    moved += usize::from(v != s);
                } else {
                    assert_eq!(
                        v.to_bits(),
                        0.0f32.to_bits(),
                        "{path}: pruned weight is {v}"
                    );
                }
            }
            assert!(moved > 0, "{path}: survivors trained");
        }
    }
}

#[test]
fn a_diverging_loss_is_an_error() {
    let (mut trainee, masks, _) = setup(TrainConfig {
        learning_rate: 1e30,
        ..config()
    });
    trainee.start_training(&masks, 50).unwrap();
    let error = (0..50).find_map(|_| trainee.step().err());
    match error {
        Some(e @ PruneError::NonFiniteLoss { .. }) => {
            let message = e.to_string();
            assert!(message.contains("loss became"), "{message}");
            assert!(
                message.contains("try a smaller learning rate than"),
                "{message}"
            );
        }
        other => panic!("expected a non-finite loss, got {other:?}"),
    }
    // The trainee is still usable after the error.
    assert!(trainee.weights().is_ok());
}

#[test]
fn bad_configurations_are_refused() {
    let device = Backend::default_compiled().train_device().unwrap();
    let model = Lenet300100::new(16, 2, &device);
    let theta0 = initial_weights(&tensor_shapes(&model), Initialization::GlorotNormal, 3).unwrap();
    let train = images(10, 1);
    let norm = Normalization::fit(&train).unwrap();
    let error = ClassifierTrainee::new(
        model,
        &theta0,
        ImageBatches::new(train.clone(), norm.clone()),
        ImageBatches::new(train, norm),
        &device,
        config(),
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("fewer than one batch"),
        "{error}"
    );
}
