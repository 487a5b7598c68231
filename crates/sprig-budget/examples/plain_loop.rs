//! Time-budgeted iterative magnitude pruning of a model trained by a plain Rust loop: no
//! Burn, no tensors, only `sprig-budget` (profiler, planner, deadline, real clock) and
//! `sprig-mask` (masks, magnitude pruning and rewinding on flat slices).
//!
//! The model is a linear regression with 400 inputs of which 20 carry the signal, trained
//! by minibatch SGD; a good ticket keeps those 20. Run it with a budget in seconds:
//!
//! ```sh
//! cargo run --release -p sprig-budget --example plain_loop -- 3
//! ```

use std::time::{Duration, Instant};

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sprig_budget::{
    Clock, ConvergencePolicy, Deadline, IterationProfiler, ProfilerConfig, RealClock, Replanner,
    RunConfig,
};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, Snapshot, prune_to_sparsity};

const INPUTS: usize = 400;
const SIGNAL: usize = 20;
const EXAMPLES: usize = 4_000;
const BATCH: usize = 32;
const TARGET_SPARSITY: f64 = 0.95;

/// A seeded stream of values in [-1, 1): the same data on every run.
struct Stream(ChaCha8Rng);

impl Stream {
    fn next(&mut self) -> f32 {
        (self.0.next_u32() >> 8) as f32 / (1u32 << 24) as f32 * 2.0 - 1.0
    }
}

/// y = x · w* + noise, with w* non-zero on the first `SIGNAL` inputs.
struct Data {
    x: Vec<f32>,
    y: Vec<f32>,
}

fn data(stream: &mut Stream) -> Data {
    let truth: Vec<f32> = (0..INPUTS)
        .map(|i| {
            if i < SIGNAL {
                1.0 + i as f32 / 10.0
            } else {
                0.0
            }
        })
        .collect();
    let x: Vec<f32> = (0..EXAMPLES * INPUTS).map(|_| stream.next()).collect();
    let y = x
        .chunks(INPUTS)
        .map(|row| row.iter().zip(&truth).map(|(a, b)| a * b).sum::<f32>() + 0.1 * stream.next())
        .collect();
    Data { x, y }
}

/// One SGD step on a minibatch; pruned weights stay exactly zero.
fn step(w: &mut [f32], keep: &[f32], data: &Data, batch: usize) -> f32 {
    let mut grad = vec![0.0f32; INPUTS];
    let mut loss = 0.0;
    for k in 0..BATCH {
        let i = (batch * BATCH + k) % EXAMPLES;
        let row = &data.x[i * INPUTS..(i + 1) * INPUTS];
        let error = row.iter().zip(w.iter()).map(|(a, b)| a * b).sum::<f32>() - data.y[i];
        loss += error * error;
        for (g, a) in grad.iter_mut().zip(row) {
            *g += error * a;
        }
    }
    for ((wi, g), k) in w.iter_mut().zip(&grad).zip(keep) {
        *wi = (*wi - 0.01 * g / BATCH as f32) * k;
    }
    loss / BATCH as f32
}

fn mse(w: &[f32], data: &Data) -> f32 {
    let n = 500;
    (EXAMPLES - n..EXAMPLES)
        .map(|i| {
            let row = &data.x[i * INPUTS..(i + 1) * INPUTS];
            let e = row.iter().zip(w).map(|(a, b)| a * b).sum::<f32>() - data.y[i];
            e * e
        })
        .sum::<f32>()
        / n as f32
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let budget = Duration::from_secs_f64(
        std::env::args()
            .nth(1)
            .map_or(Ok(3.0), |s| s.parse::<f64>())?,
    );
    let mut stream = Stream(ChaCha8Rng::seed_from_u64(0x5EED));
    let data = data(&mut stream);
    let clock = RealClock::new(); // the budget starts now

    // θ0 and a mask over the one prunable tensor.
    let theta0: Vec<f32> = (0..INPUTS).map(|_| 0.05 * stream.next()).collect();
    let mut initial = Snapshot::new();
    initial.insert("w", vec![INPUTS], theta0)?;
    let mut masks = MaskSet::dense([("w", "linear", &[INPUTS][..])])?;
    let mut w = initial.get("w").expect("just inserted").values().to_vec();
    let mut keep = masks.get("w").expect("just inserted").to_multiplier();

    // Profile the first iterations of the dense training, one evaluation and one trial
    // prune + rewind (its mask is thrown away), as the planner needs all three costs.
    let mut profiler = IterationProfiler::new(ProfilerConfig::default())?;
    let mut batch = 0;
    while !profiler.has_enough_samples() {
        let t = Instant::now();
        step(&mut w, &keep, &data, batch);
        profiler.record_iteration(t.elapsed());
        batch += 1;
    }
    let t = Instant::now();
    let _ = mse(&w, &data);
    profiler.record_evaluation(t.elapsed());
    let t = Instant::now();
    let mut trial = masks.clone();
    let mut snapshot = Snapshot::new();
    snapshot.insert("w", vec![INPUTS], w.clone())?;
    let scores = Scores::magnitude(&snapshot);
    prune_to_sparsity(
        &mut trial,
        &scores,
        Scope::Global,
        &LayerRates::uniform(),
        0.5,
    )?;
    let _ = initial.masked(&trial)?;
    profiler.record_prune_rewind(t.elapsed());

    let costs = profiler.cost_model()?;
    let reserve = costs.reserve_with_save(Duration::from_millis(5));
    let config = RunConfig::new(budget, TARGET_SPARSITY, 100, reserve);
    let deadline = Deadline::new(clock, budget, reserve);
    let mut run = Replanner::new(config, ConvergencePolicy::default())?;
    run.record_iterations(batch as u64);
    let mut plan = run.plan(clock.now(), costs)?;
    println!(
        "budget {budget:?}: {:?} per iteration, plan: {} rounds at rate {:.3}, trainings {:?}",
        costs.iteration, plan.rounds, plan.rate, plan.trainings
    );

    // The last trained (mask, weights): what the run returns if the deadline ends it
    // between a prune and the training that follows.
    let mut ticket;
    loop {
        let mut trained = 0;
        for _ in 0..plan.trainings[0] {
            if !deadline.may_start_iteration(profiler.estimate().unwrap_or(costs.iteration)) {
                break;
            }
            let t = Instant::now();
            step(&mut w, &keep, &data, batch);
            profiler.record_iteration(t.elapsed());
            run.record_iterations(1);
            batch += 1;
            trained += 1;
        }
        if run.progress().rounds_done == 0 {
            // A real loop would detect the validation plateau; here the dense training
            // runs as planned and that length counts as its convergence.
            run.record_convergence(batch as u64);
        }
        ticket = (masks.clone(), w.clone());
        println!(
            "  sparsity {:.3}: {trained} iterations, validation MSE {:.4} at {:.2?}",
            masks.sparsity(),
            mse(&w, &data),
            clock.now()
        );
        let Some(sparsity) = plan.next_sparsity() else {
            break; // the final ticket is trained
        };
        if !deadline.may_start(costs.prune_rewind) {
            break;
        }
        // Prune the trained weights by magnitude, rewind the survivors to θ0.
        let t = Instant::now();
        let mut trained_weights = Snapshot::new();
        trained_weights.insert("w", vec![INPUTS], w.clone())?;
        let scores = Scores::magnitude(&trained_weights);
        prune_to_sparsity(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            sparsity,
        )?;
        w = initial
            .masked(&masks)?
            .get("w")
            .expect("w")
            .values()
            .to_vec();
        keep = masks.get("w").expect("w").to_multiplier();
        profiler.record_prune_rewind(t.elapsed());
        run.record_prune(masks.sparsity())?;
        plan = run.plan(clock.now(), profiler.cost_model()?)?;
        if plan.is_finalise() {
            break; // no time to train the new mask: the last trained ticket stands
        }
    }
    let (masks, w) = ticket;
    let kept: Vec<usize> = masks.get("w").expect("w").kept_indices().collect();
    let found = kept.iter().filter(|&&i| i < SIGNAL).count();
    println!(
        "ticket: sparsity {:.3}, keeps {found} of the {SIGNAL} signal inputs among {} weights, \
         validation MSE {:.4}, {:.2?} of {budget:?}",
        masks.sparsity(),
        kept.len(),
        mse(&w, &data),
        clock.now()
    );
    Ok(())
}
