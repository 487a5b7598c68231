//! Property tests of the planner and of whole simulated runs.
//!
//! The simulator drives a `FakeClock` the way the engine drives a training
//! loop: profile inside the dense training, plan, consult the deadline
//! before every iteration, evaluation and prune, re-plan after every round,
//! finalise when told to or when the deadline says stop. Machine slow-downs
//! are factors (1×–4×) on the duration of iterations.

use std::time::Duration;

use proptest::prelude::*;
use sprig_budget::{
    BudgetError, BuiltinPolicy, Clock, ConvergencePolicy, CostModel, DEFAULT_SPARSITY_TOLERANCE,
    Deadline, EvalSchedule, FakeClock, FixedRounds, IterationProfiler, MaxRounds, PlanInput,
    PlanKind, Replanner, RoundPolicy, RunConfig, minimum_budget, plan, plan_with,
};

/// 256 cases, or more with `PROPTEST_CASES=n` for a longer hunt.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256u32);
    ProptestConfig::with_cases(cases.max(256))
}

fn eval_schedule() -> impl Strategy<Value = EvalSchedule> {
    prop_oneof![
        Just(EvalSchedule::Never),
        Just(EvalSchedule::EndOfTraining),
        (1u64..400).prop_map(EvalSchedule::Every),
    ]
}

fn policy() -> impl Strategy<Value = BuiltinPolicy> {
    prop_oneof![
        (
            0.05f64..0.6,
            prop_oneof![Just(0.0), 0.0f64..0.95],
            prop::option::of(0.01f64..=1.0),
            prop::option::of(1.0f64..5.0),
            prop::option::of(0.0f64..2.0),
        )
            .prop_map(|(r, share, ranking, cap, cooldown)| {
                let mut p = ConvergencePolicy::new(r).with_final_share(share);
                p.ranking_share = ranking;
                p.final_cap = cap;
                p.dense_cooldown = cooldown;
                BuiltinPolicy::Convergence(p)
            }),
        (1u32..30).prop_map(|r| BuiltinPolicy::Fixed(FixedRounds(r))),
        Just(BuiltinPolicy::Max(MaxRounds)),
    ]
}

/// Any valid planner input: from the start of a run to deep into it.
fn plan_input() -> impl Strategy<Value = PlanInput> {
    (
        (
            1u64..300_000, // budget, ms
            0.0f64..1.2,   // elapsed as a fraction of the budget
            10u64..5_000,  // iteration, µs
            0u64..200,     // evaluation, ms
            0u64..100,     // prune+rewind, ms
            0u64..3_000,   // reserve, ms
        ),
        (
            0.0f64..0.999,                      // s*
            0.0f64..1.0,                        // current sparsity as a fraction of s*
            0u32..12,                           // rounds done
            0u64..5_000,                        // iterations done
            1u64..1_000,                        // j_min
            proptest::option::of(0u64..40_000), // dense convergence
            proptest::option::of(0u64..40_000), // cap above j_min
            eval_schedule(),
        ),
    )
        .prop_map(
            |(
                (budget, el, it, ev, pr, res),
                (target, cur, rounds, done, j_min, conv, cap, eval),
            )| {
                let budget = Duration::from_millis(budget);
                let costs = CostModel::new(
                    Duration::from_micros(it),
                    Duration::from_millis(ev),
                    Duration::from_millis(pr),
                );
                PlanInput {
                    elapsed: budget.mul_f64(el),
                    current_sparsity: if rounds == 0 { 0.0 } else { target * cur },
                    rounds_done: rounds,
                    iterations_done: done,
                    reserve: Duration::from_millis(res),
                    dense_convergence: conv,
                    max_iterations_per_training: cap.map(|c| j_min + c),
                    eval,
                    ..PlanInput::new(budget, costs, target, j_min)
                }
            },
        )
}

/// A simulated machine and run.
#[derive(Debug, Clone)]
struct Sim {
    budget: Duration,
    iteration: Duration,
    evaluation: Duration,
    prune: Duration,
    save: Duration,
    target: f64,
    j_min: u64,
    eval: EvalSchedule,
    /// Slow-down factors, by round (`per_round`) or cycled per iteration.
    factors: Vec<f64>,
    per_round: bool,
    /// The first iterations are this much slower (warm-up).
    warmup_factor: f64,
    /// Dense training plateaus after this many iterations.
    converge_at: Option<u64>,
    /// Re-plan when a training ends (before its prune) instead of right
    /// after the rewind: after a prune the new training runs the length the
    /// previous plan gave it, then the run re-plans.
    replan_at_end: bool,
}

#[derive(Debug)]
struct Outcome {
    finish: Duration,
    slowest_iteration: Duration,
    completed: bool,
    sparsity: f64,
}

fn simulate<P: RoundPolicy>(sim: &Sim, policy: P) -> Outcome {
    let clock = FakeClock::new();
    let reserve = sim.evaluation + sim.save;
    let deadline = Deadline::new(clock.clone(), sim.budget, reserve);
    let mut profiler = IterationProfiler::default();
    let config = RunConfig {
        eval: sim.eval,
        ..RunConfig::new(sim.budget, sim.target, sim.j_min, reserve)
    };
    let mut run = Replanner::new(config, policy).expect("valid config");
    let mut slowest = Duration::ZERO;
    let mut last = Duration::ZERO;
    let mut step = 0usize;

    // One iteration, with its periodic evaluation; false if the deadline
    // refused to start it.
    let mut iterate = |run: &mut Replanner<P>, profiler: &mut IterationProfiler| -> bool {
        let expected = profiler.estimate().unwrap_or(last);
        if !deadline.may_start_iteration(expected) {
            return false;
        }
        let n = sim.factors.len();
        let mut factor = if sim.per_round {
            sim.factors[(run.progress().rounds_done as usize).min(n - 1)]
        } else {
            sim.factors[step % n]
        };
        if step < 5 {
            factor *= sim.warmup_factor;
        }
        let d = sim.iteration.mul_f64(factor);
        clock.advance(d);
        profiler.record_iteration(d);
        run.record_iterations(1);
        (last, slowest, step) = (d, slowest.max(d), step + 1);
        if let EvalSchedule::Every(n) = sim.eval
            && run.progress().iterations_done.is_multiple_of(n)
        {
            if !deadline.may_start(sim.evaluation) {
                return false;
            }
            clock.advance(sim.evaluation);
            profiler.record_evaluation(sim.evaluation);
        }
        true
    };

    let mut completed = false;
    'run: {
        // Profiling: the first dense iterations, one timed evaluation and one
        // trial prune.
        for _ in 0..profiler.config().profiling_iterations() {
            if !iterate(&mut run, &mut profiler) {
                break 'run;
            }
        }
        for (cost, is_eval) in [(sim.evaluation, true), (sim.prune, false)] {
            if !deadline.may_start(cost) {
                break 'run;
            }
            clock.advance(cost);
            if is_eval {
                profiler.record_evaluation(cost);
            } else {
                profiler.record_prune_rewind(cost);
            }
        }
        let mut carry = 0u64;
        loop {
            for _ in 0..std::mem::take(&mut carry) {
                if !iterate(&mut run, &mut profiler) {
                    break 'run;
                }
            }
            let costs = profiler.cost_model().expect("profiled");
            let plan = match run.plan(clock.now(), costs) {
                Ok(p) => p,
                Err(BudgetError::BudgetTooSmall { .. }) => break 'run,
                Err(e) => panic!("unexpected planning error: {e}"),
            };
            if plan.is_finalise() {
                break 'run;
            }
            let end = run.progress().iterations_done + plan.trainings[0];
            let dense_open = |run: &Replanner<P>| {
                run.progress().rounds_done == 0 && run.progress().dense_convergence.is_none()
            };
            let mut plateaued = false;
            while run.progress().iterations_done < end {
                if !iterate(&mut run, &mut profiler) {
                    break 'run;
                }
                let done = run.progress().iterations_done;
                if dense_open(&run) && sim.converge_at.is_some_and(|c| done >= c) {
                    run.record_convergence(done);
                    plateaued = true;
                    break;
                }
            }
            if plateaued {
                continue; // re-plan with the convergence known
            }
            let done = run.progress().iterations_done;
            let end_eval = match sim.eval {
                EvalSchedule::Never => false,
                EvalSchedule::EndOfTraining => done > 0,
                EvalSchedule::Every(n) => done > 0 && !done.is_multiple_of(n),
            };
            if end_eval {
                if !deadline.may_start(costs.evaluation) {
                    break 'run;
                }
                clock.advance(sim.evaluation);
                profiler.record_evaluation(sim.evaluation);
            }
            if dense_open(&run) {
                run.record_convergence(done); // hit its cap without a plateau
            }
            let Some(next) = plan.next_sparsity() else {
                completed = true;
                break 'run;
            };
            if !deadline.may_start(costs.prune_rewind) {
                break 'run;
            }
            clock.advance(sim.prune);
            profiler.record_prune_rewind(sim.prune);
            run.record_prune(next).expect("valid sparsity");
            if sim.replan_at_end {
                carry = plan.trainings[1];
            }
        }
    }
    // Finalise: final evaluation and save, covered by the reserve.
    clock.advance(reserve);
    Outcome {
        finish: clock.now(),
        slowest_iteration: slowest,
        completed,
        sparsity: run.progress().current_sparsity,
    }
}

fn sim_strategy(max_factor: f64) -> impl Strategy<Value = Sim> {
    (
        (
            50u64..3_000,  // budget, ms
            200u64..3_000, // iteration, µs
            0u64..30,      // evaluation, ms
            0u64..20,      // prune, ms
            0u64..20,      // save, ms
            0.0f64..0.99,  // s*
            1u64..60,      // j_min
            eval_schedule(),
        ),
        (
            proptest::collection::vec(1.0f64..=max_factor.max(1.0), 1..24),
            any::<bool>(),
            1.0f64..=max_factor.max(1.0),
            proptest::option::of(1u64..400),
            any::<bool>(),
        ),
    )
        .prop_map(
            |(
                (budget, it, ev, pr, save, target, j_min, eval),
                (factors, per_round, warm, conv, at_end),
            )| {
                Sim {
                    budget: Duration::from_millis(budget),
                    iteration: Duration::from_micros(it),
                    evaluation: Duration::from_millis(ev),
                    prune: Duration::from_millis(pr),
                    save: Duration::from_millis(save),
                    target,
                    j_min,
                    eval: match eval {
                        EvalSchedule::Every(n) => EvalSchedule::Every(n % 50 + 1),
                        e => e,
                    },
                    factors,
                    per_round,
                    warmup_factor: warm,
                    converge_at: conv,
                    replan_at_end: at_end,
                }
            },
        )
}

proptest! {
    #![proptest_config(config())]

    /// (a) No plan, of any policy, is expected to finish after T − reserve;
    /// plans are well formed; the only time error is before the first prune.
    #[test]
    fn no_plan_exceeds_the_budget(input in plan_input(), policy in policy()) {
        match plan_with(&input, &policy) {
            Ok(p) if p.kind == PlanKind::Finalise => {
                prop_assert_eq!(p.expected_finish, input.elapsed);
                prop_assert_eq!(p.total_iterations(), 0);
            }
            Ok(p) => {
                prop_assert!(p.expected_finish <= p.cutoff);
                prop_assert_eq!(p.cutoff, input.budget.saturating_sub(input.reserve));
                prop_assert!(p.expected_finish >= input.elapsed);
                prop_assert_eq!(p.trainings.len(), p.rounds as usize + 1);
                prop_assert_eq!(p.sparsity_after_round.len(), p.rounds as usize);
                if p.kind == PlanKind::Regular {
                    prop_assert!(input.iterations_done + p.trainings[0] >= input.min_iterations);
                    prop_assert!(p.trainings[1..].iter().all(|&j| j >= input.min_iterations));
                    if let Some(cap) = input.max_iterations_per_training {
                        prop_assert!(p.trainings[1..].iter().all(|&j| j <= cap));
                    }
                }
                if p.kind == PlanKind::Squeezed && p.rounds == 1 {
                    prop_assert_eq!(p.trainings[0], 0);
                }
            }
            Err(BudgetError::BudgetTooSmall { budget, minimum }) => {
                prop_assert_eq!(input.rounds_done, 0);
                prop_assert!(minimum > budget);
            }
            Err(e) => prop_assert!(false, "unexpected error {e}"),
        }
    }

    /// (c) A plan that runs to completion reaches s* exactly, through
    /// increasing sparsities at the stated rate.
    #[test]
    fn completed_plans_reach_the_target(input in plan_input(), policy in policy()) {
        let Ok(p) = plan_with(&input, &policy) else { return Ok(()) };
        if p.kind == PlanKind::Finalise {
            return Ok(());
        }
        if input.target_reached() {
            prop_assert_eq!(p.rounds, 0);
            return Ok(());
        }
        prop_assert!(p.rounds >= 1);
        let last = *p.sparsity_after_round.last().unwrap();
        prop_assert!((last - input.target_sparsity).abs() <= 1e-9);
        prop_assert_eq!(p.final_sparsity, input.target_sparsity);
        let mut prev = input.current_sparsity;
        for &s in &p.sparsity_after_round {
            prop_assert!(s > prev - 1e-12);
            let rate = 1.0 - (1.0 - s) / (1.0 - prev);
            prop_assert!((rate - p.rate).abs() < 1e-6, "rate {} vs {}", rate, p.rate);
            prev = s;
        }
    }

    /// (d) More time never yields fewer total iterations (default policy,
    /// same costs and progress).
    #[test]
    fn more_time_never_trains_less(
        input in plan_input(),
        extra_us in prop_oneof![0u64..5_000, 0u64..100_000_000],
    ) {
        let more = PlanInput { budget: input.budget + Duration::from_micros(extra_us), ..input.clone() };
        if let (Ok(a), Ok(b)) = (plan(&input), plan(&more)) {
            prop_assert!(
                b.total_iterations() >= a.total_iterations(),
                "{:?} → {:?}", a.trainings, b.trainings
            );
        }
    }

    /// (b) Under any sequence of slow-downs (1×–4×, per round or per
    /// iteration, plus a slow warm-up) a simulated run ends by T plus one
    /// (the slowest) iteration; if it completes it has reached s*.
    #[test]
    fn slowdowns_never_break_the_deadline(sim in sim_strategy(4.0), policy in policy()) {
        let out = simulate(&sim, policy);
        prop_assert!(
            out.finish <= sim.budget + out.slowest_iteration,
            "finished at {:?}, budget {:?}, slowest iteration {:?}",
            out.finish, sim.budget, out.slowest_iteration
        );
        if out.completed {
            // Within the planner's tolerance: with a tiny s* a round can land within
            // it, and the run counts the target as reached.
            prop_assert!((out.sparsity - sim.target).abs() <= DEFAULT_SPARSITY_TOLERANCE);
        }
    }

    /// (c, end to end) On a steady machine, any budget of at least
    /// `minimum_budget` completes the run at exactly s*, within T.
    #[test]
    fn steady_runs_within_minimum_budget_complete(sim in sim_strategy(1.0), extra in 0u64..3_000) {
        let costs = CostModel::new(sim.iteration, sim.evaluation, sim.prune);
        let reserve = sim.evaluation + sim.save;
        let min = minimum_budget(&costs, sim.j_min, 15, sim.eval, reserve);
        let sim = Sim { budget: min + Duration::from_millis(extra), ..sim };
        for policy in [ConvergencePolicy::default(), ConvergencePolicy::default().with_final_share(0.5)] {
            let out = simulate(&sim, policy);
            prop_assert!(out.completed, "{:?} {:?}", policy, out);
            // Within the planner's tolerance: with a tiny s* a round can land within
            // it, and the run counts the target as reached.
            prop_assert!((out.sparsity - sim.target).abs() <= DEFAULT_SPARSITY_TOLERANCE);
            prop_assert!(out.finish <= sim.budget);
        }
    }

    /// Arbitrary input — NaN, infinities, zero or enormous durations and
    /// counts — gives a plan or an error, never a panic, with every policy.
    #[test]
    fn arbitrary_input_never_panics(
        secs in (any::<u64>(), any::<u64>(), any::<u64>()),
        nanos in (any::<u64>(), any::<u64>(), any::<u64>()),
        sparsities in (any::<f64>(), any::<f64>(), any::<f64>()),
        counts in (any::<u32>(), any::<u64>(), any::<u64>()),
        options in (any::<Option<u64>>(), any::<Option<u64>>(), any::<u64>()),
        policy in policy(),
    ) {
        let input = PlanInput {
            budget: Duration::new(secs.0 % 4, 0) + Duration::from_nanos(secs.1) * u32::from(secs.2 % 2 == 0),
            elapsed: Duration::from_nanos(nanos.0),
            reserve: Duration::from_nanos(nanos.1 >> (nanos.1 % 64)),
            current_sparsity: sparsities.1,
            rounds_done: counts.0,
            iterations_done: counts.1,
            dense_convergence: options.0,
            max_iterations_per_training: options.1,
            eval: match options.2 % 4 { 0 => EvalSchedule::Never, 1 => EvalSchedule::EndOfTraining, _ => EvalSchedule::Every(options.2 % 1000) },
            sparsity_tolerance: sparsities.2,
            ..PlanInput::new(
                Duration::ZERO,
                CostModel::new(
                    Duration::from_nanos(nanos.2 >> (nanos.2 % 64)),
                    Duration::from_nanos(secs.2 >> (secs.2 % 64)),
                    Duration::from_nanos(secs.1 >> (secs.1 % 64)),
                ),
                sparsities.0,
                counts.2 >> (counts.2 % 64),
            )
        };
        if let Ok(p) = plan_with(&input, &policy) {
            prop_assert!(p.kind == PlanKind::Finalise || p.expected_finish <= p.cutoff);
        }
    }

    /// A single huge outlier hardly moves the median estimate.
    #[test]
    fn one_outlier_does_not_move_the_median(
        samples in proptest::collection::vec(900u64..1_100, 15..64),
        outlier in 1_000_000u64..1_000_000_000,
        at in any::<proptest::sample::Index>(),
    ) {
        let mut clean = IterationProfiler::default();
        let mut dirty = IterationProfiler::default();
        let pos = at.index(samples.len());
        for _ in 0..5 {
            clean.record_iteration(Duration::from_millis(50));
            dirty.record_iteration(Duration::from_millis(50));
        }
        for (i, &s) in samples.iter().enumerate() {
            clean.record_iteration(Duration::from_micros(s));
            let d = if i == pos { outlier } else { s };
            dirty.record_iteration(Duration::from_micros(d));
        }
        let (c, d) = (clean.estimate().unwrap(), dirty.estimate().unwrap());
        // The median moves by at most one order statistic of the clean
        // samples: from sorted[n/2] to sorted[n/2 + 1] at worst.
        let mut sorted: Vec<Duration> = samples.iter().map(|&s| Duration::from_micros(s)).collect();
        sorted.sort_unstable();
        let m = sorted.len() / 2;
        prop_assert_eq!(c, sorted[m]);
        prop_assert!(d >= sorted[m] && d <= sorted[m + 1], "{:?} vs {:?}", d, c);
    }
}

#[test]
fn simulator_sanity_a_steady_run_follows_its_plan() {
    let sim = Sim {
        eval: EvalSchedule::Every(10),
        converge_at: Some(60),
        ..base_sim()
    };
    let out = simulate(&sim, ConvergencePolicy::default());
    assert!(out.completed);
    assert_eq!(out.sparsity, 0.9);
    assert!(out.finish <= sim.budget);
    // Little time is left unused.
    assert!(
        out.finish > sim.budget - Duration::from_millis(60),
        "{out:?}"
    );
}

#[test]
fn simulator_sanity_a_slow_machine_still_meets_the_deadline() {
    let sim = Sim {
        factors: vec![1.0, 4.0, 4.0, 4.0],
        per_round: true,
        budget: Duration::from_secs(1),
        ..base_sim()
    };
    let out = simulate(&sim, ConvergencePolicy::default());
    assert!(out.finish <= sim.budget + out.slowest_iteration, "{out:?}");
}

fn base_sim() -> Sim {
    Sim {
        budget: Duration::from_secs(2),
        iteration: Duration::from_millis(1),
        evaluation: Duration::from_millis(5),
        prune: Duration::from_millis(3),
        save: Duration::from_millis(2),
        target: 0.9,
        j_min: 20,
        eval: EvalSchedule::EndOfTraining,
        factors: vec![1.0],
        per_round: false,
        warmup_factor: 1.0,
        converge_at: None,
        replan_at_end: false,
    }
}
