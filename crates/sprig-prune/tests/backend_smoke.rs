//! Smoke test of every compiled backend: a small MLP trains a few Adam steps under a 50%
//! magnitude mask. Pruned weights must stay exactly zero through every step, the loss must
//! fall, and rewinding must give θ0 with the pruned entries zeroed, bit for bit.

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_backend::{Backend, compiled_backends};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, Snapshot, prune};
use sprig_prune::{DeviceMasks, MaskedAdam, SPARSE_ADAM_AT_MOST, load_snapshot, snapshot};

#[derive(Module, Debug)]
struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Self {
            fc1: LinearConfig::new(16, 32).init(device),
            fc2: LinearConfig::new(32, 4).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.fc2.forward(relu(self.fc1.forward(x)))
    }
}

/// A fixed, learnable batch: the label is the index of the largest of the first 4 inputs.
fn batch(device: &Device) -> (Tensor<2>, Tensor<1, Int>) {
    let (rows, cols) = (64, 16);
    let mut state = 0x9E37_79B9_u32;
    let mut inputs = Vec::with_capacity(rows * cols);
    for _ in 0..rows * cols {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        inputs.push(state as f32 / u32::MAX as f32 - 0.5);
    }
    let labels: Vec<i64> = inputs
        .chunks(cols)
        .map(|row| {
            (0..4)
                .max_by(|&a, &b| row[a].total_cmp(&row[b]))
                .expect("four candidates") as i64
        })
        .collect();
    (
        Tensor::from_data(TensorData::new(inputs, [rows, cols]), device),
        Tensor::from_data(TensorData::new(labels, [rows]), device),
    )
}

fn weights_only(snapshot: &Snapshot) -> MaskSet {
    let mut masks = MaskSet::new();
    for (name, tensor) in snapshot.iter() {
        if name.ends_with("weight") {
            masks
                .insert_dense(name, "linear", tensor.shape())
                .expect("fresh names");
        }
    }
    masks
}

/// The weights' masks of `theta0` pruned by global magnitude to `sparsity`.
fn magnitude_masks(theta0: &Snapshot, sparsity: f64) -> MaskSet {
    let mut masks = weights_only(theta0);
    prune(
        &mut masks,
        &Scores::magnitude(theta0),
        Scope::Global,
        &LayerRates::uniform(),
        sparsity,
    )
    .expect("valid prune");
    masks
}

fn train_under_mask(backend: Backend) {
    let device = backend.train_device().expect("compiled backend");
    // Burn draws the placeholder weights from the backend's generator: seeded, the
    // test sees the same network every run.
    device.seed(7);
    let model = Mlp::new(&device);
    let theta0 = snapshot(&model).expect("readable parameters");

    let mut masks = weights_only(&theta0);
    let scores = Scores::magnitude(&theta0);
    prune(
        &mut masks,
        &scores,
        Scope::Global,
        &LayerRates::uniform(),
        0.5,
    )
    .expect("valid prune");
    assert!(
        (masks.sparsity() - 0.5).abs() < 1e-3,
        "{}",
        masks.sparsity()
    );

    let device_masks = DeviceMasks::new(&masks, &model, &device).expect("masks fit the model");
    let mut model = device_masks.apply(model);
    let mut optim = AdamConfig::new().init();
    let (x, y) = batch(&device);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut losses = Vec::new();
    for _ in 0..60 {
        let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
        losses.push(loss.clone().into_scalar::<f32>());
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        device_masks.mask_gradients(&model, &mut grads);
        model = optim.step(1e-2, model, grads);
        model = device_masks.apply(model);
    }
    let (first, last) = (losses[0], *losses.last().expect("60 steps"));
    assert!(
        last.is_finite() && last < 0.8 * first,
        "{backend}: loss {first} -> {last}"
    );

    let trained = snapshot(&model).expect("readable parameters");
    for (name, entry) in masks.iter() {
        let values = trained.get(name).expect("same parameters").values();
        let original = theta0.get(name).expect("same parameters").values();
        let mut moved = 0;
        for ((kept, value), start) in entry.mask().iter().zip(values).zip(original) {
            if kept {
                moved += usize::from(value != start);
            } else {
                assert_eq!(value.to_bits(), 0, "{backend}: pruned {name} revived");
            }
        }
        assert!(moved > 0, "{backend}: {name} did not train");
    }

    let rewound = load_snapshot(model, &theta0.masked(&masks).expect("masks fit"))
        .expect("same architecture");
    let rewound = snapshot(&rewound).expect("readable parameters");
    let expected = theta0.masked(&masks).expect("masks fit");
    for (name, tensor) in expected.iter() {
        let got = rewound.get(name).expect("same parameters").values();
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(
            bits(got),
            bits(tensor.values()),
            "{backend}: rewound {name}"
        );
    }
}

#[test]
fn every_compiled_backend_trains_under_a_mask() {
    assert!(!compiled_backends().is_empty());
    for &backend in compiled_backends() {
        let started = std::time::Instant::now();
        train_under_mask(backend);
        eprintln!(
            "{backend}: 60 masked Adam steps, checks passed in {:?}",
            started.elapsed()
        );
    }
}

/// Trains `model` `steps` steps at a falling learning rate, either with Burn's `Adam` and
/// the masks multiplied in around it, or with Sprig's fused `MaskedAdam`.
fn train_with(
    fused: bool,
    model: Mlp,
    masks: Option<&DeviceMasks>,
    device: &Device,
    steps: usize,
) -> Snapshot {
    let (x, y) = batch(device);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut burn_adam = AdamConfig::new().init();
    let mut masked_adam = MaskedAdam::new();
    let mut model = match masks {
        Some(m) => m.apply(model),
        None => model,
    };
    for step in 0..steps {
        let lr = 1e-2 * (1.0 - step as f64 / steps as f64);
        let loss = loss_fn.forward(model.forward(x.clone()), y.clone());
        let mut grads = GradientsParams::from_grads(loss.backward(), &model);
        model = if fused {
            masked_adam.step(lr, model, grads, masks)
        } else {
            if let Some(m) = masks {
                m.mask_gradients(&model, &mut grads);
            }
            let stepped = burn_adam.step(lr, model, grads);
            match masks {
                Some(m) => m.apply(stepped),
                None => stepped,
            }
        };
    }
    snapshot(&model).expect("readable parameters")
}

#[test]
fn the_fused_masked_adam_trains_as_burns_adam_with_masks_does() {
    for &backend in compiled_backends() {
        let device = backend.train_device().expect("compiled backend");
        device.seed(11);
        let theta0 = snapshot(&Mlp::new(&device)).expect("readable parameters");
        // 0.7 keeps too many weights for the indexed pass, 0.85 few enough
        // (`SPARSE_ADAM_AT_MOST`): both of the fused pass's masked forms are compared.
        for sparsity in [0.7, 0.85] {
            let masks = magnitude_masks(&theta0, sparsity);
            let indexed = masks.iter().all(|(_, entry)| {
                let mask = entry.mask();
                mask.kept_count() as f64 <= SPARSE_ADAM_AT_MOST * mask.len() as f64
            });
            assert_eq!(
                indexed,
                sparsity > 0.8,
                "{backend}: which pass {sparsity} takes"
            );
            compare_fused_with_burn(backend, &theta0, &masks, &device);
        }
    }
}

/// Trains the same network with Burn's Adam and with the fused pass, unmasked and under
/// `masks`, and checks the weights agree, pruned weights stay zero, and enough moved.
fn compare_fused_with_burn(backend: Backend, theta0: &Snapshot, masks: &MaskSet, device: &Device) {
    let fresh = || load_snapshot(Mlp::new(device), theta0).expect("same architecture");
    let device_masks = DeviceMasks::new(masks, &fresh(), device).expect("masks fit");
    for masked in [false, true] {
        let m = masked.then_some(&device_masks);
        let reference = train_with(false, fresh(), m, device, 25);
        let fused = train_with(true, fresh(), m, device, 25);
        let mut moved = 0;
        for (name, tensor) in reference.iter() {
            let got = fused.get(name).expect("same parameters").values();
            let start = theta0.get(name).expect("same parameters").values();
            for ((a, b), s) in tensor.values().iter().zip(got).zip(start) {
                // Same arithmetic in the same order: equal up to the backends'
                // vectorised kernels' last bit.
                assert!(
                    (a - b).abs() <= 1e-6 * a.abs().max(1.0),
                    "{backend}, masked {masked}: {name} {a} vs {b}"
                );
                moved += usize::from(b != s);
            }
            if let Some(mask) = masks.get(name).filter(|_| masked) {
                for (kept, v) in mask.iter().zip(got) {
                    assert!(kept || *v == 0.0, "{backend}: pruned {name} is {v}");
                }
            }
        }
        // Every kept weight and bias is trained: most of them must have moved.
        let trainable: usize = theta0
            .iter()
            .map(|(name, t)| match masks.get(name).filter(|_| masked) {
                Some(mask) => mask.kept_count(),
                None => t.values().len(),
            })
            .sum();
        assert!(
            moved > trainable / 2,
            "{backend}: only {moved} of {trainable} weights moved"
        );
    }
}

/// On LibTorch's CPU, where the fused pass can update a weight in its own buffer, training
/// never leaves one shared: every step updates every parameter where it is, masked or not.
#[test]
fn training_updates_libtorch_weights_where_they_are() {
    const STEPS: usize = 3;
    for &backend in compiled_backends() {
        let device = backend.train_device().expect("compiled backend");
        let theta0 = snapshot(&Mlp::new(&device)).expect("readable parameters");
        let masks = magnitude_masks(&theta0, 0.5);
        let fresh = || load_snapshot(Mlp::new(&device), &theta0).expect("same architecture");
        let device_masks = DeviceMasks::new(&masks, &fresh(), &device).expect("masks fit");
        for masks in [None, Some(&device_masks)] {
            let before = sprig_backend::host_updates_on_this_thread();
            let trained = train_with(true, fresh(), masks, &device, STEPS);
            let after = sprig_backend::host_updates_on_this_thread();
            let in_libtorch = if backend == Backend::TchCpu {
                STEPS * trained.len()
            } else {
                0
            };
            assert_eq!(
                (
                    after.in_place - before.in_place,
                    after.copied - before.copied
                ),
                (in_libtorch, 0),
                "{backend}, masked {}: (updated in place, copied)",
                masks.is_some()
            );
        }
    }
}
