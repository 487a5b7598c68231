//! Sprig's criterion benchmarks: one harness, one group per concern.
//! Run with `cargo bench -p sprig-benches`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use sprig_benches::lenet_weights;
use sprig_budget::{CostModel, PlanInput, plan};
use sprig_mask::{LayerRates, Scope, Scores, prune};

sprig_backend::global_allocator!();

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

criterion_group!(benches, mask, planner);
criterion_main!(benches);
