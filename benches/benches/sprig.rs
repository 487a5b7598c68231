//! Sprig's criterion benchmarks: one harness, one group per concern.
//! Run with `cargo bench -p sprig-benches` (groups: train_step, mask, planner, inference);
//! `cargo xtask bench` runs `train_step` on every compiled backend and writes
//! `docs/results/backends.{md,json}`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use sprig_backend::{Backend, compiled_backends};
use sprig_benches::{Masking, STEP_MODELS, lenet_runtime_file, lenet_weights, step_fixture};
use sprig_budget::{CostModel, PlanInput, plan};
use sprig_export::ExportFormat;
use sprig_mask::{LayerRates, Scope, Scores, prune};
use sprig_models::Architecture;
use sprig_runtime::{Execution, Model};

sprig_backend::global_allocator!();

/// One training iteration — batch assembly, forward, backward, gradients masked, Adam
/// step, masks re-applied — of each zoo model on every compiled backend, at the batch size
/// of its table; `-unmasked` is the same step with no masks (the masking overhead is the
/// difference). The step reads its loss back from the device (`into_scalar`), so the
/// device has finished before the clock stops. Benchmark ids: `MODEL/BACKEND-masked`.
fn train_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("train_step");
    for &backend in compiled_backends() {
        for model in STEP_MODELS {
            // burn-ndarray's convolution backward pass takes seconds per step: Conv-2 is
            // timed with few samples, the text and audio convolutions not at all.
            let slow = backend == Backend::NdArray && model != Architecture::Lenet300100;
            if slow && model != Architecture::Conv2 {
                continue;
            }
            group.sample_size(if slow { 10 } else { 30 });
            for (masking, label) in [(Masking::Masked, "masked"), (Masking::None, "unmasked")] {
                let mut fixture =
                    step_fixture(model, backend, masking).expect("a fixture for a zoo model");
                let id = BenchmarkId::new(model.name(), format!("{backend}-{label}"));
                group.bench_function(id, |b| {
                    b.iter(|| fixture.trainee.step().expect("a finite loss"))
                });
            }
        }
    }
    group.finish();
}

/// The mask core on LeNet-300-100-sized weights (266,200 prunable weights).
fn mask(c: &mut Criterion) {
    let (snapshot, masks) = lenet_weights();
    let scores = Scores::magnitude(&snapshot);
    let rates = LayerRates::lth();
    let mut group = c.benchmark_group("mask");
    group.bench_function("global_prune_20pct_lenet", |b| {
        b.iter_batched(
            || masks.clone(),
            |mut masks| {
                prune(&mut masks, &scores, Scope::Global, &rates, 0.2).expect("valid prune");
                masks
            },
            BatchSize::LargeInput,
        )
    });
    let mut pruned = masks.clone();
    prune(&mut pruned, &scores, Scope::Global, &rates, 0.8).expect("valid prune");
    group.bench_function("rewind_lenet", |b| {
        b.iter(|| black_box(snapshot.masked(black_box(&pruned)).expect("same shapes")))
    });
    group.bench_function("magnitude_scores_lenet", |b| {
        b.iter(|| black_box(Scores::magnitude(black_box(&snapshot))))
    });
    group.finish();
}

/// One plan of a two-minute budget (the planner runs after every round).
fn planner(c: &mut Criterion) {
    let ms = Duration::from_millis;
    let costs = CostModel::new(Duration::from_micros(1400), ms(50), ms(20));
    let input = PlanInput {
        reserve: costs.reserve_with_save(ms(200)),
        ..PlanInput::new(Duration::from_secs(120), costs, 0.9, 100)
    };
    c.benchmark_group("planner")
        .bench_function("plan_120s_budget", |b| {
            b.iter(|| black_box(plan(black_box(&input)).expect("feasible budget")))
        });
}

/// Single-sample inference of LeNet-300-100 in the sparse runtime across sparsities: the
/// dense kernels on the dense export against the sparse kernels on the sparse export.
fn inference(c: &mut Criterion) {
    // An MNIST-like image: a centred disc of ink, 145 of 784 pixels non-zero.
    let x: Vec<u8> = (0..784)
        .map(|i: i32| {
            let (r, c) = (i / 28 - 14, i % 28 - 14);
            if r * r + c * c < 48 { 200 } else { 0 }
        })
        .collect();
    let mut group = c.benchmark_group("inference");
    for sparsity in [0.5, 0.7, 0.9, 0.964, 0.98] {
        for (format, execution, label) in [
            (ExportFormat::DenseF32, Execution::Dense, "dense"),
            (ExportFormat::SparseF32, Execution::Sparse, "sparse"),
        ] {
            let bytes = lenet_runtime_file(sparsity, format);
            let model = Model::load(&bytes, execution).expect("a file the fixture wrote");
            group.bench_function(format!("lenet_{label}_runtime_s{sparsity}"), |b| {
                b.iter(|| black_box(model.forward_pixels(black_box(&x)).expect("784 pixels")))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, train_step, mask, planner, inference);
criterion_main!(benches);
