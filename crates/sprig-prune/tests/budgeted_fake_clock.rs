//! The budgeted loop on a fake trainee and a fake clock: every iteration, evaluation and
//! prune costs simulated time, so deadline adherence is checked exactly, without timing.

use std::time::Duration;

use sprig_budget::{BuiltinPolicy, Clock, ConvergencePolicy, FakeClock};
use sprig_mask::{MaskSet, Snapshot};
use sprig_prune::PruneError;
use sprig_prune::engine::{BudgetedConfig, Evaluation, StopReason, Trainee, run_budgeted};

/// A "model" of one 30×20 weight and a bias whose training costs fake time. Training
/// nudges every kept weight; accuracy grows with the iterations of the current training.
struct FakeTrainee {
    clock: FakeClock,
    weights: Snapshot,
    masks: Option<MaskSet>,
    steps: u64,
    iteration_cost: Duration,
    evaluation_cost: Duration,
    /// Multiplies the iteration cost from the given training on (an injected slowdown).
    slowdown: Option<(u32, u32)>,
    trainings: u32,
    /// The weights each training started from.
    starts: Vec<Snapshot>,
}

impl FakeTrainee {
    fn new(clock: FakeClock) -> Self {
        let mut weights = Snapshot::new();
        let values = (0..600)
            .map(|i| ((i * 37 % 101) as f32 - 50.0) / 50.0)
            .collect();
        weights.insert("fc.weight", vec![30, 20], values).unwrap();
        weights.insert("fc.bias", vec![20], vec![0.0; 20]).unwrap();
        Self {
            clock,
            weights,
            masks: None,
            steps: 0,
            iteration_cost: Duration::from_millis(2),
            evaluation_cost: Duration::from_millis(30),
            slowdown: None,
            trainings: 0,
            starts: Vec::new(),
        }
    }
}

impl Trainee for FakeTrainee {
    fn weights(&self) -> Result<Snapshot, PruneError> {
        Ok(self.weights.clone())
    }
    fn load_weights(&mut self, weights: &Snapshot) -> Result<(), PruneError> {
        self.weights = weights.clone();
        Ok(())
    }
    fn start_training(&mut self, masks: &MaskSet, _iterations: u64) -> Result<(), PruneError> {
        self.masks = Some(masks.clone());
        self.steps = 0;
        self.trainings += 1;
        masks.apply_to(&mut self.weights)?;
        self.starts.push(self.weights.clone());
        Ok(())
    }
    fn set_training_length(&mut self, _iterations: u64) {}
    fn step(&mut self) -> Result<f64, PruneError> {
        let factor = match self.slowdown {
            Some((from, factor)) if self.trainings > from => factor,
            _ => 1,
        };
        self.clock.advance(self.iteration_cost * factor);
        self.steps += 1;
        let tensor = self.weights.get_mut("fc.weight").unwrap();
        for (i, v) in tensor.values_mut().iter_mut().enumerate() {
            *v += if i % 2 == 0 { 1e-4 } else { -1e-4 };
        }
        if let Some(masks) = &self.masks {
            masks.apply_to(&mut self.weights)?;
        }
        Ok(1.0 / (1.0 + self.steps as f64))
    }
    fn validate(&mut self) -> Result<Evaluation, PruneError> {
        self.clock.advance(self.evaluation_cost);
        Ok(Evaluation {
            loss: 1.0 / (1.0 + self.steps as f64 / 1000.0),
            accuracy: (0.5 + self.steps as f64 / 20_000.0).min(0.99),
        })
    }
}

fn dense_masks() -> MaskSet {
    MaskSet::dense([("fc.weight", "linear", &[30, 20][..])]).unwrap()
}

fn config(budget_secs: u64) -> BudgetedConfig {
    BudgetedConfig {
        eval_every: 200,
        save_reserve: Duration::from_millis(100),
        ..BudgetedConfig::new(Duration::from_secs(budget_secs), 0.9)
    }
}

/// Runs and checks what every budgeted run must guarantee; returns the outcome.
fn run_and_check(
    trainee: &mut FakeTrainee,
    clock: &FakeClock,
    budget: u64,
    slowest: Duration,
) -> sprig_prune::engine::BudgetedOutcome {
    let outcome = run_budgeted(trainee, dense_masks(), clock, &config(budget)).unwrap();
    let limit = Duration::from_secs(budget) + slowest;
    assert!(
        outcome.time_used <= limit,
        "used {:?} of {budget} s",
        outcome.time_used
    );
    assert_eq!(outcome.time_used, clock.now());
    // Pruned weights are exactly +0.0 in both saved snapshots.
    for snapshot in [&outcome.trained, &outcome.initial] {
        let values = snapshot.get("fc.weight").unwrap().values();
        for (kept, v) in outcome.masks.get("fc.weight").unwrap().iter().zip(values) {
            if !kept {
                assert_eq!(v.to_bits(), 0);
            }
        }
    }
    outcome
}

#[test]
fn a_steady_run_reaches_the_target_within_the_budget() {
    let clock = FakeClock::new();
    let mut trainee = FakeTrainee::new(clock.clone());
    let outcome = run_and_check(&mut trainee, &clock, 30, Duration::from_millis(2));
    eprintln!(
        "prunes {} stop {:?} used {:?} rounds {:?}",
        outcome.prunes,
        outcome.stop,
        outcome.time_used,
        outcome
            .rounds
            .iter()
            .map(|r| (r.sparsity, r.iterations))
            .collect::<Vec<_>>()
    );
    assert_eq!(outcome.stop, StopReason::Completed);
    assert_eq!(outcome.masks.pruned(), 540, "90% of 600 weights");
    assert!(outcome.prunes >= 2, "{} prunes", outcome.prunes);
    assert_eq!(outcome.rounds.len() as u32, outcome.prunes + 1);
    // The budget was used, not wasted: the run ends within a few evaluations of it.
    assert!(
        outcome.time_used >= Duration::from_secs(29),
        "{:?}",
        outcome.time_used
    );
}

#[test]
fn a_slowdown_after_the_first_round_still_meets_the_deadline() {
    let clock = FakeClock::new();
    let mut trainee = FakeTrainee::new(clock.clone());
    trainee.slowdown = Some((1, 3));
    let outcome = run_and_check(&mut trainee, &clock, 30, Duration::from_millis(6));
    assert!((outcome.masks.sparsity() - 0.9).abs() < 1e-9 || outcome.stop != StopReason::Completed);
    assert_eq!(outcome.masks.pruned(), 540);
}

#[test]
fn the_same_inputs_give_the_same_ticket() {
    let run = || {
        let clock = FakeClock::new();
        let mut trainee = FakeTrainee::new(clock.clone());
        run_and_check(&mut trainee, &clock, 20, Duration::from_millis(2))
    };
    let (a, b) = (run(), run());
    assert_eq!(a.masks, b.masks);
    assert_eq!(a.trained, b.trained);
}

#[test]
fn a_budget_too_small_names_the_smallest_workable_one() {
    let clock = FakeClock::new();
    let mut trainee = FakeTrainee::new(clock.clone());
    let err = run_budgeted(&mut trainee, dense_masks(), &clock, &config(0)).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("smallest workable budget"), "{message}");
}

#[test]
fn ranking_trainings_resume_and_stop_early_and_the_final_one_rewinds() {
    let clock = FakeClock::new();
    let mut trainee = FakeTrainee::new(clock.clone());
    let theta0 = trainee.weights.clone();
    let policy = ConvergencePolicy::default()
        .with_final_share(0.2)
        .with_ranking_overlap(1.0)
        .with_ranking_resumes();
    let config = BudgetedConfig {
        policy: BuiltinPolicy::Convergence(policy),
        ..config(30)
    };
    let outcome = run_budgeted(&mut trainee, dense_masks(), &clock, &config).unwrap();
    eprintln!("{:?}", outcome.rounds);
    assert!(outcome.time_used <= Duration::from_secs(30) + Duration::from_millis(2));
    assert_eq!(outcome.stop, StopReason::Completed);
    assert_eq!(outcome.masks.pruned(), 540);
    assert!(outcome.prunes >= 2, "{} prunes", outcome.prunes);
    let starts = &trainee.starts;
    assert_eq!(starts.len() as u32, outcome.prunes + 1);
    // The final training starts from θ0 under the final mask: the ticket.
    assert_eq!(starts.last(), Some(&theta0.masked(&outcome.masks).unwrap()));
    assert_eq!(outcome.initial, theta0.masked(&outcome.masks).unwrap());
    // The ranking trainings resumed from trained weights, and stopped as soon as two
    // checks agreed (the fake training never reorders the magnitudes).
    let ranking = &outcome.rounds[1..outcome.rounds.len() - 1];
    assert!(!ranking.is_empty());
    for (start, round) in starts[1..starts.len() - 1].iter().zip(ranking) {
        assert_ne!(
            start.get("fc.weight"),
            theta0.masked(&outcome.masks).unwrap().get("fc.weight")
        );
        assert!(round.iterations <= 2 * config.eval_every, "{round:?}");
    }
}
