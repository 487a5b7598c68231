//! The ready classification trainer on a small synthetic image task, on the default
//! backend: it learns, pruned weights stay exactly zero, IMP and the fixed-length training
//! do what they say, and a diverging loss is an error rather than a panic.

use sprig_backend::{Backend, StepThreads};
use sprig_budget::FakeClock;
use sprig_data::{ImageSet, ImageShape, Normalization};
use sprig_mask::{MaskSet, Snapshot};
use sprig_models::{Initialization, Lenet300100, initial_weights};
use sprig_prune::PruneError;
use sprig_prune::classifier::{ClassifierTrainee, ImageBatches, LrSchedule, TrainConfig};
use sprig_prune::engine::{
    Distillation, ImpConfig, StopReason, TrainOnce, Trainee, TrainingLength, run_imp, train_once,
};
use sprig_prune::tensor_shapes;

/// 4×4 grey images: class 0 is bright in the top half, class 1 in the bottom half, with
/// deterministic noise.
fn images(n: usize, salt: u32) -> ImageSet {
    labelled_images(n, salt, false)
}

/// [`images`], every label swapped when `swapped`.
fn labelled_images(n: usize, salt: u32, swapped: bool) -> ImageSet {
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
        labels.push(if swapped { 1 - label } else { label });
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
    setup_on(config, images(600, 1))
}

/// [`setup`] on the training split `train`.
fn setup_on(
    config: TrainConfig,
    train: ImageSet,
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
fn a_teacher_s_outputs_weigh_as_much_as_the_distillation_says() {
    let settings = TrainOnce {
        eval_every: 20,
        ..TrainOnce::new(TrainingLength::Iterations(100))
    };
    let (mut teacher, masks, _) = setup(config());
    train_once(&mut teacher, &masks, &FakeClock::new(), &settings).unwrap();
    let teacher = teacher.weights().unwrap();
    // A student whose training labels are all wrong: the labels alone teach it the
    // swapped task, the teacher alone the right one (validation labels are right).
    let check = |weight: f64, accuracy: std::ops::RangeInclusive<f64>| {
        let (mut student, masks, _) = setup_on(config(), labelled_images(600, 1, true));
        let distillation = Distillation {
            temperature: 2.0,
            weight,
        };
        student.set_teacher(Some((&teacher, distillation))).unwrap();
        let steps = TrainOnce {
            // The last iterate, not the best one: selection would favour the right task.
            eval_every: 1_000,
            ..settings
        };
        train_once(&mut student, &masks, &FakeClock::new(), &steps).unwrap();
        let got = student.validate().unwrap().accuracy;
        assert!(accuracy.contains(&got), "weight {weight}: accuracy {got}");
    };
    check(0.0, 0.0..=0.1);
    check(1.0, 0.9..=1.0);
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

/// The same task as a user's Burn `Dataset` of items with their own `Batcher`.
mod burn_dataset {
    use burn::data::dataloader::batcher::Batcher;
    use burn::data::dataset::InMemDataset;
    use burn::tensor::{Device, Int, Tensor, TensorData};
    use sprig_prune::classifier::{DatasetBatches, LabelledData};

    use super::*;

    #[derive(Debug, Clone)]
    struct Item {
        pixels: Vec<u8>,
        label: u8,
    }

    struct Batch {
        images: Tensor<4>,
        targets: Tensor<1, Int>,
    }

    /// Pixels to [0, 1]; `drop_last` makes a broken batcher that loses an item.
    struct ItemBatcher {
        drop_last: bool,
    }

    impl Batcher<Item, Batch> for ItemBatcher {
        fn batch(&self, mut items: Vec<Item>, device: &Device) -> Batch {
            if self.drop_last {
                items.pop();
            }
            let n = items.len();
            let pixels: Vec<f32> = items
                .iter()
                .flat_map(|i| i.pixels.iter().map(|&p| f32::from(p) / 255.0))
                .collect();
            let labels: Vec<i64> = items.iter().map(|i| i64::from(i.label)).collect();
            Batch {
                images: Tensor::from_data(TensorData::new(pixels, [n, 1, 4, 4]), device),
                targets: Tensor::from_data(TensorData::new(labels, [n]), device),
            }
        }
    }

    fn dataset(n: usize, salt: u32) -> InMemDataset<Item> {
        let set = images(n, salt);
        InMemDataset::new(
            (0..n)
                .map(|i| Item {
                    pixels: set.image(i).unwrap().to_vec(),
                    label: set.label(i).unwrap() as u8,
                })
                .collect(),
        )
    }

    fn split(batch: Batch) -> (Tensor<4>, Tensor<1, Int>) {
        (batch.images, batch.targets)
    }

    #[test]
    fn batches_come_in_the_order_asked_and_bad_ones_are_errors() {
        let device = Backend::default_compiled().device().unwrap();
        let good = ItemBatcher { drop_last: false };
        let mut data = DatasetBatches::new(dataset(10, 1), good, split);
        assert_eq!(data.len(), 10);
        let (images, labels) = data.batch(&[3, 0, 5], &device).unwrap();
        assert_eq!(images.dims(), [3, 1, 4, 4]);
        let labels: Vec<i64> = labels.into_data().convert::<i64>().try_to_vec().unwrap();
        assert_eq!(labels, [1, 0, 1]);

        let err = data.batch(&[2, 10], &device).unwrap_err();
        assert!(
            matches!(err, PruneError::Dataset { index: 10, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("10 items"), "{err}");

        let broken = ItemBatcher { drop_last: true };
        let mut data = DatasetBatches::new(dataset(10, 1), broken, split);
        let err = data.batch(&[1, 2, 3], &device).unwrap_err();
        assert!(
            err.to_string().contains("2 labels for a batch of 3"),
            "{err}"
        );
    }

    #[test]
    fn the_trainer_learns_from_a_burn_dataset() {
        let device = Backend::default_compiled().train_device().unwrap();
        let model = Lenet300100::new(16, 2, &device);
        let theta0 =
            initial_weights(&tensor_shapes(&model), Initialization::GlorotNormal, 3).unwrap();
        let found = sprig_prune::discover(&model, &sprig_prune::PruneRules::default()).unwrap();
        let batches = |n, salt| {
            DatasetBatches::new(dataset(n, salt), ItemBatcher { drop_last: false }, split)
        };
        let mut trainee = ClassifierTrainee::new(
            model,
            &theta0,
            batches(200, 1),
            batches(64, 2),
            &device,
            config(),
        )
        .unwrap();
        let settings = TrainOnce {
            eval_every: 20,
            ..TrainOnce::new(TrainingLength::Iterations(100))
        };
        let outcome = train_once(&mut trainee, &found.masks, &FakeClock::new(), &settings).unwrap();
        assert_eq!(outcome.iterations, 100);
        assert!(
            outcome.validation.accuracy >= 0.95,
            "{:?}",
            outcome.validation
        );
        let test = trainee.evaluate(&mut batches(64, 3)).unwrap();
        assert!(test.accuracy >= 0.95, "{test:?}");
    }
}

/// The weights after `steps` masked steps of LeNet-300-100 on 28×28 images (the full
/// size: its products are large enough for burn-flex to split across threads) on
/// `backend`, pruned to `sparsity`, with `setting` applied to the training's settings.
fn trained_on(
    backend: Backend,
    setting: impl Fn(TrainConfig) -> TrainConfig,
    sparsity: f64,
    steps: usize,
) -> Snapshot {
    let device = backend.train_device().unwrap();
    let model = Lenet300100::new(784, 10, &device);
    let shapes = tensor_shapes(&model);
    let theta0 = initial_weights(&shapes, Initialization::GlorotNormal, 3).unwrap();
    let mut masks = MaskSet::new();
    for t in model.prunable() {
        let shape = &shapes.iter().find(|(p, _)| *p == t.path).unwrap().1;
        masks.insert_dense(&t.path, t.kind, shape).unwrap();
    }
    sprig_mask::prune_to_sparsity(
        &mut masks,
        &sprig_mask::Scores::magnitude(&theta0),
        sprig_mask::Scope::Global,
        &sprig_mask::LayerRates::uniform(),
        sparsity,
    )
    .unwrap();
    let mut state = 0x9E37_79B9_u32;
    let n = 240;
    let pixels = (0..n * 784)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    let labels = (0..n).map(|i| (i % 10) as u8).collect();
    let classes: Vec<String> = (0..10).map(|c| c.to_string()).collect();
    let set = ImageSet::new(ImageShape::new(1, 28, 28), pixels, labels, classes).unwrap();
    let norm = Normalization::fit(&set).unwrap();
    let batches = ImageBatches::new(set, norm);
    let config = setting(TrainConfig::lenet(2));
    let mut trainee =
        ClassifierTrainee::new(model, &theta0, batches.clone(), batches, &device, config).unwrap();
    trainee.start_training(&masks, steps as u64).unwrap();
    for _ in 0..steps {
        trainee.step().unwrap();
    }
    trainee.weights().unwrap()
}

#[test]
fn the_thread_setting_changes_how_fast_a_step_runs_not_what_it_computes() {
    for &backend in sprig_backend::compiled_backends() {
        let on = |threads: StepThreads| move |c: TrainConfig| TrainConfig { threads, ..c };
        let one = trained_on(backend, on(StepThreads::One), 0.5, 12);
        let all = trained_on(backend, on(StepThreads::All), 0.5, 12);
        let auto = trained_on(backend, on(StepThreads::Auto), 0.5, 12);
        for (name, tensor) in one.iter() {
            let bits = |s: &Snapshot| {
                s.get(name)
                    .unwrap()
                    .values()
                    .iter()
                    .map(|v| v.to_bits())
                    .collect::<Vec<_>>()
            };
            let expected = bits(&one);
            assert_eq!(
                bits(&all),
                expected,
                "{backend}: {name}, one vs all threads"
            );
            assert_eq!(bits(&auto), expected, "{backend}: {name}, one vs auto");
            assert!(tensor.values().iter().any(|v| *v != 0.0));
        }
    }
}

#[test]
fn sparse_products_train_as_the_dense_masked_path_does() {
    for &backend in sprig_backend::compiled_backends() {
        let sparse = |c: TrainConfig| TrainConfig {
            sparse_products: true,
            ..c
        };
        let expected = trained_on(backend, |c| c, 0.98, 6);
        let got = trained_on(backend, sparse, 0.98, 6);
        for (name, tensor) in expected.iter() {
            let (a, b) = (tensor.values(), got.get(name).unwrap().values());
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                assert!(
                    (x - y).abs() <= 1e-4 * (1.0 + x.abs()) && ((*x == 0.0) == (*y == 0.0)),
                    "{backend}: {name}[{i}]: dense masked {x}, sparse {y}"
                );
            }
            assert!(a.iter().any(|v| *v != 0.0), "{name} is all zero");
        }
    }
}
