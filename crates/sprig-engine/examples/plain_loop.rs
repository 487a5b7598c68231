//! Time-budgeted iterative magnitude pruning of a model trained by a plain Rust loop: no
//! Burn, no tensors. The model implements [`Trainee`]; the engine does the rest (profiling,
//! planning, re-planning, the deadline, pruning, rewinding and model selection) exactly as
//! it does for Sprig's Burn classifiers.
//!
//! The model is a linear regression with 400 inputs of which 20 carry the signal, trained
//! by minibatch SGD; a good ticket keeps those 20. Run it with a budget in seconds:
//!
//! ```sh
//! cargo run --release -p sprig-engine --example plain_loop -- 3
//! ```

use std::time::Duration;

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use sprig_budget::RealClock;
use sprig_engine::{BudgetedConfig, Evaluation, PruneError, Trainee, run_budgeted};
use sprig_mask::{MaskSet, Snapshot};

const INPUTS: usize = 400;
const SIGNAL: usize = 20;
const EXAMPLES: usize = 4_000;
/// The last examples are the validation split.
const VALIDATION: usize = 500;
const BATCH: usize = 32;
const LEARNING_RATE: f32 = 0.01;
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

impl Data {
    fn new(stream: &mut Stream) -> Self {
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
            .map(|row| dot(row, &truth) + 0.1 * stream.next())
            .collect();
        Self { x, y }
    }

    fn row(&self, i: usize) -> &[f32] {
        &self.x[i * INPUTS..(i + 1) * INPUTS]
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The regression as the engine sees it: weights, a mask, and SGD with a learning rate
/// that decays linearly to zero over each training.
struct Regression {
    data: Data,
    w: Vec<f32>,
    keep: Vec<f32>,
    /// Iterations of the current training done and planned.
    done: u64,
    planned: u64,
    /// The next training batch (the batches cycle through the training split).
    batch: usize,
}

impl Regression {
    fn zero_pruned(&mut self) {
        for (w, k) in self.w.iter_mut().zip(&self.keep) {
            *w *= k;
        }
    }

    fn keep_of(masks: &MaskSet) -> Result<Vec<f32>, PruneError> {
        masks
            .get("w")
            .map(|m| m.to_multiplier())
            .ok_or_else(|| PruneError::Config("the mask set has no tensor `w`".into()))
    }
}

impl Trainee for Regression {
    fn weights(&self) -> Result<Snapshot, PruneError> {
        let mut snapshot = Snapshot::new();
        snapshot.insert("w", vec![INPUTS], self.w.clone())?;
        Ok(snapshot)
    }

    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        let w = weights.get("w").ok_or_else(|| PruneError::Parameter {
            path: "w".into(),
            problem: "missing from the snapshot".into(),
        })?;
        self.w.copy_from_slice(w.values());
        Ok(())
    }

    fn start_training(&mut self, masks: &MaskSet, iterations: u64) -> Result<(), PruneError> {
        self.keep = Self::keep_of(masks)?;
        self.zero_pruned();
        (self.done, self.planned) = (0, iterations);
        Ok(())
    }

    fn update_masks(&mut self, masks: &MaskSet) -> Result<(), PruneError> {
        self.keep = Self::keep_of(masks)?;
        self.zero_pruned();
        Ok(())
    }

    fn set_training_length(&mut self, iterations: u64) {
        self.planned = iterations;
    }

    fn step(&mut self) -> Result<f64, PruneError> {
        let decay = 1.0 - self.done as f32 / self.planned.max(1) as f32;
        let rate = LEARNING_RATE * decay.max(0.0);
        let mut grad = vec![0.0f32; INPUTS];
        let mut loss = 0.0;
        for k in 0..BATCH {
            let i = (self.batch * BATCH + k) % (EXAMPLES - VALIDATION);
            let row = self.data.row(i);
            let error = dot(row, &self.w) - self.data.y[i];
            loss += error * error;
            for (g, a) in grad.iter_mut().zip(row) {
                *g += error * a;
            }
        }
        for ((w, g), k) in self.w.iter_mut().zip(&grad).zip(&self.keep) {
            *w = (*w - rate * g / BATCH as f32) * k;
        }
        self.batch += 1;
        self.done += 1;
        let loss = f64::from(loss / BATCH as f32);
        if !loss.is_finite() {
            return Err(PruneError::NonFiniteLoss {
                value: loss,
                iteration: self.done,
                advice: "; try a smaller learning rate".into(),
            });
        }
        Ok(loss)
    }

    /// The loss is the validation MSE; the score (higher is better) is R².
    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        let split = EXAMPLES - VALIDATION..EXAMPLES;
        let n = VALIDATION as f64;
        let mean = split
            .clone()
            .map(|i| f64::from(self.data.y[i]))
            .sum::<f64>()
            / n;
        let (mut residual, mut total) = (0.0, 0.0);
        for i in split {
            let y = f64::from(self.data.y[i]);
            residual += (f64::from(dot(self.data.row(i), &self.w)) - y).powi(2);
            total += (y - mean).powi(2);
        }
        Ok(Evaluation {
            loss: residual / n,
            accuracy: 1.0 - residual / total,
        })
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let budget = Duration::from_secs_f64(
        std::env::args()
            .nth(1)
            .map_or(Ok(3.0), |s| s.parse::<f64>())?,
    );
    let mut stream = Stream(ChaCha8Rng::seed_from_u64(0x5EED));
    let data = Data::new(&mut stream);
    let theta0: Vec<f32> = (0..INPUTS).map(|_| 0.05 * stream.next()).collect();
    let mut model = Regression {
        data,
        w: theta0,
        keep: vec![1.0; INPUTS],
        done: 0,
        planned: 1,
        batch: 0,
    };
    let masks = MaskSet::dense([("w", "linear", &[INPUTS][..])])?;
    let config = BudgetedConfig {
        eval_every: 200,
        ..BudgetedConfig::new(budget, TARGET_SPARSITY)
    };

    let clock = RealClock::new(); // the budget starts now
    let outcome = run_budgeted(&mut model, masks, &clock, &config)?;

    for round in &outcome.rounds {
        println!(
            "  training {:>2} at sparsity {:.3}: {:>6} iterations, validation R² {:.4}, ended at {:.2?}",
            round.round,
            round.sparsity,
            round.iterations,
            round.validation.accuracy,
            round.ended_at
        );
    }
    let kept: Vec<usize> = outcome.masks.get("w").expect("w").kept_indices().collect();
    let found = kept.iter().filter(|&&i| i < SIGNAL).count();
    model.load_weights(&outcome.trained)?;
    println!(
        "ticket: sparsity {:.3} after {} prunes, keeps {found} of the {SIGNAL} signal inputs \
         among {} weights, validation R² {:.4}, {:.2?} of {budget:?} ({:?})",
        outcome.masks.sparsity(),
        outcome.prunes,
        kept.len(),
        model.validate()?.accuracy,
        outcome.time_used,
        outcome.stop
    );
    Ok(())
}
