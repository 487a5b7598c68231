//! Concrete plans, checked against hand computation, and input errors.

use std::time::Duration;

use sprig_budget::{
    BudgetError, ConvergencePolicy, CostModel, EvalSchedule, FixedRounds, MaxRounds, Plan,
    PlanInput, PlanKind, PlanRecord, RoundPolicy, minimum_budget, plan, plan_with,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn us(n: u64) -> Duration {
    Duration::from_micros(n)
}

/// t_e = 1.4 ms, evaluation 50 ms, prune+rewind 20 ms.
fn costs() -> CostModel {
    CostModel::new(us(1400), ms(50), ms(20))
}

/// T = 120 s, s* = 0.9, j_min = 100, reserve 1 s, right after profiling:
/// 15 dense iterations done (21 ms) plus one timed evaluation and one trial
/// prune (70 ms) → elapsed 91 ms.
fn after_profiling() -> PlanInput {
    PlanInput {
        elapsed: ms(91),
        iterations_done: 15,
        reserve: Duration::from_secs(1),
        ..PlanInput::new(Duration::from_secs(120), costs(), 0.9, 100)
    }
}

/// After the dense training converged at 3000 iterations, 4.3 s into the run.
fn dense_converged(budget_s: u64) -> PlanInput {
    PlanInput {
        budget: Duration::from_secs(budget_s),
        elapsed: ms(4300),
        iterations_done: 3000,
        dense_convergence: Some(3000),
        ..after_profiling()
    }
}

struct Case {
    name: &'static str,
    input: PlanInput,
    policy: Box<dyn RoundPolicy>,
    rounds: u32,
    trainings: (u64, u64),
    rate: f64,
}

fn check(case: &Case) -> Plan {
    let p = plan_with(&case.input, &case.policy).unwrap_or_else(|e| panic!("{}: {e}", case.name));
    let name = case.name;
    assert_eq!(p.kind, PlanKind::Regular, "{name}");
    assert_eq!(p.rounds, case.rounds, "{name}");
    assert_eq!(p.trainings.len(), case.rounds as usize + 1, "{name}");
    assert_eq!(p.trainings[0], case.trainings.0, "{name}");
    assert!(
        p.trainings[1..].iter().all(|&j| j == case.trainings.1),
        "{name}: {:?}",
        p.trainings
    );
    assert!((p.rate - case.rate).abs() < 1e-4, "{name}: rate {}", p.rate);
    assert_eq!(p.sparsity_after_round.last().copied(), Some(0.9), "{name}");
    assert!(p.expected_finish <= p.cutoff, "{name}");
    p
}

#[test]
fn table_of_concrete_plans() {
    let cases = [
        // Convergence unknown: the dense training gets the share of a short run of
        // EXPLORE_ROUNDS = 2 rounds of equal trainings:
        // (j − 15)·1.4 + 50 + 2·(20 + 1.4 j + 50) ≤ 118 909 ms → 4.2 j ≤ 118 740
        // → j* = 28 271, so 2 rounds fit (rate 1 − 0.1^(1/2)); the dense training
        // is capped at 28 271 (28 256 more).
        Case {
            name: "start, convergence unknown",
            input: after_profiling(),
            policy: Box::new(ConvergencePolicy::default()),
            rounds: 2,
            trainings: (28_256, 28_271),
            rate: 0.683_772,
        },
        // Dense converged at 3000 (j* = 3000); 10 rounds of 3000 fit easily, so
        // R = 10 and the spare time lengthens the trainings:
        // 50 (end eval of the dense) + 10·(70 + 1.4 j) ≤ 114 700 → j = 8139.
        Case {
            name: "T = 120 s, dense converged at 3000",
            input: dense_converged(120),
            policy: Box::new(ConvergencePolicy::default()),
            rounds: 10,
            trainings: (0, 8139),
            rate: 0.205_672,
        },
        // T = 20 s: only 3 rounds of 3000 fit (50 + 3·4270 ≤ 14 700 < 50 + 4·4270),
        // rate 1 − 0.1^(1/3); j limited by time: 50 + 3·(70 + 1.4 j) ≤ 14 700 → 3438
        // (the "at most 4 rounds' worth of iterations" limit, j ≤ 4000, is looser).
        Case {
            name: "T = 20 s, dense converged at 3000",
            input: dense_converged(20),
            policy: Box::new(ConvergencePolicy::default()),
            rounds: 3,
            trainings: (0, 3438),
            rate: 0.535_841,
        },
        // A 5000-iteration cap per training: the spare time is left unused.
        Case {
            name: "start, capped at 5000",
            input: PlanInput {
                max_iterations_per_training: Some(5000),
                ..after_profiling()
            },
            policy: Box::new(ConvergencePolicy::default()),
            rounds: 10,
            trainings: (4985, 5000),
            rate: 0.205_672,
        },
        // One-shot baseline in the same budget: two equal trainings,
        // (j − 15)·1.4 + 50 + 20 + 1.4 j + 50 ≤ 118 909 → j = 42 432.
        Case {
            name: "one-shot",
            input: after_profiling(),
            policy: Box::new(FixedRounds(1)),
            rounds: 1,
            trainings: (42_417, 42_432),
            rate: 0.9,
        },
        // As many rounds of 100 as fit: 169 + 210 R ≤ 118 909 → R = 565.
        Case {
            name: "max rounds",
            input: after_profiling(),
            policy: Box::new(MaxRounds),
            rounds: 565,
            trainings: (85, 100),
            rate: 1.0 - 0.1f64.powf(1.0 / 565.0),
        },
    ];
    for case in &cases {
        check(case);
    }
}

#[test]
fn tight_budget_limits_total_iterations_to_next_round() {
    // Slow convergence: 20 000 iterations (28 s) at 28 s elapsed, T = 120 s.
    // 3 rounds of 20 000 fit, 4 do not; time would allow j = 21 604 but the
    // total is limited to what 4 rounds of 20 000 would train (80 000 ≥
    // 3 × 21 604), so here time is the binding limit.
    let input = PlanInput {
        elapsed: ms(28_000),
        iterations_done: 20_000,
        dense_convergence: Some(20_000),
        ..after_profiling()
    };
    let p = plan(&input).unwrap();
    assert_eq!(p.rounds, 3);
    assert_eq!(p.trainings, vec![0, 21_604, 21_604, 21_604]);

    // With an expensive prune (2 s) the limit binds. A = 16.7 − 1 − 5 =
    // 10.7 s; a round costs 2000 + 1000 + 50 = 3050 ms, and
    // 50 + 3·3050 ≤ 10 700 < 50 + 4·3050, so R = 3 (< R_g = 10). Time alone
    // would allow 50 + 3·(2050 + j) ≤ 10 700 → j = 1500, but 3 rounds may
    // train at most what 4 rounds of 1000 would: 3 j ≤ 4000 → j = 1333.
    let input = PlanInput {
        budget: ms(16_700),
        elapsed: ms(5_000),
        costs: CostModel::new(ms(1), ms(50), ms(2000)),
        iterations_done: 1000,
        dense_convergence: Some(1000),
        ..after_profiling()
    };
    let p = plan(&input).unwrap();
    assert_eq!(p.rounds, 3);
    assert_eq!(p.trainings, vec![0, 1333, 1333, 1333]);
}

#[test]
fn replanning_after_a_slowdown_shrinks_the_plan() {
    let first = plan(&dense_converged(120)).unwrap();
    assert_eq!(first.rounds, 10);
    // One round later the machine runs 3× slower and the round took three
    // times as long as planned. R_g is now 9; only 5 rounds of 3000 fit:
    // 12 750 + 5·12 810 ≤ 80 308 ms; j: 25.2 j ≤ 79 108 → 3139 (the limit of
    // 6 rounds of 3000, 6 j ≤ 21 000, does not bind).
    let input = PlanInput {
        elapsed: ms(4300 + 3 * (70 + 8139 * 1400 / 1000)),
        costs: CostModel::new(us(4200), ms(150), ms(60)),
        current_sparsity: first.sparsity_after_round[0],
        rounds_done: 1,
        iterations_done: 0,
        ..dense_converged(120)
    };
    let p = plan(&input).unwrap();
    assert_eq!(p.kind, PlanKind::Regular);
    assert_eq!(p.rounds, 5);
    assert!(p.rate > first.rate);
    assert_eq!(p.trainings, vec![3139; 6]);
    assert!(p.expected_finish <= p.cutoff);
    assert!((p.sparsity_after_round.last().unwrap() - 0.9).abs() < 1e-12);
}

#[test]
fn target_reached_trains_final_ticket_with_what_is_left() {
    let input = PlanInput {
        current_sparsity: 0.9 - 1e-7, // within the default tolerance
        rounds_done: 4,
        iterations_done: 0,
        elapsed: ms(100_000),
        ..after_profiling()
    };
    let p = plan(&input).unwrap();
    assert_eq!(p.rounds, 0);
    assert_eq!(p.rate, 0.0);
    assert!(p.sparsity_after_round.is_empty());
    // 1.4 j + 50 ≤ 19 000 → j = 13 535.
    assert_eq!(p.trainings, vec![13_535]);
    assert_eq!(p.final_sparsity, 0.9 - 1e-7);
}

#[test]
fn budget_too_small_names_the_minimum() {
    let reserve = ms(100);
    let min = minimum_budget(&costs(), 100, 15, EvalSchedule::EndOfTraining, reserve);
    // 70 profiling extras + (140 + 50) dense + 20 prune + (140 + 50) final + 100.
    assert_eq!(min, ms(570));
    let input = PlanInput {
        budget: ms(500),
        reserve,
        ..after_profiling()
    };
    let err = plan(&input).unwrap_err();
    assert_eq!(
        err,
        BudgetError::BudgetTooSmall {
            budget: ms(500),
            minimum: ms(570)
        }
    );
    let msg = err.to_string();
    assert!(msg.contains("0.570 s"), "{msg}");
    assert!(msg.contains("smallest workable budget"), "{msg}");
    // At the minimum exactly, a plan exists.
    let at_min = PlanInput {
        budget: ms(570),
        ..input
    };
    let p = plan(&at_min).unwrap();
    assert_eq!(p.trainings, vec![85, 100]);
    assert_eq!(p.expected_finish, p.cutoff);
}

#[test]
fn invalid_inputs_are_errors() {
    let ok = after_profiling();
    type Expect = fn(&BudgetError) -> bool;
    let cases: Vec<(PlanInput, Expect)> = vec![
        (
            PlanInput {
                target_sparsity: 1.0,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidTargetSparsity(_)),
        ),
        (
            PlanInput {
                target_sparsity: -0.1,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidTargetSparsity(_)),
        ),
        (
            PlanInput {
                target_sparsity: f64::NAN,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidTargetSparsity(_)),
        ),
        (
            PlanInput {
                current_sparsity: f64::NAN,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidCurrentSparsity(_)),
        ),
        (
            PlanInput {
                current_sparsity: 1.0,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidCurrentSparsity(_)),
        ),
        (
            PlanInput {
                costs: CostModel::new(Duration::ZERO, ms(1), ms(1)),
                ..ok.clone()
            },
            |e| *e == BudgetError::ZeroIterationCost,
        ),
        (
            PlanInput {
                min_iterations: 0,
                ..ok.clone()
            },
            |e| *e == BudgetError::ZeroMinIterations,
        ),
        (
            PlanInput {
                max_iterations_per_training: Some(99),
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::CapBelowMinimum { cap: 99, min: 100 }),
        ),
        (
            PlanInput {
                eval: EvalSchedule::Every(0),
                ..ok.clone()
            },
            |e| *e == BudgetError::ZeroEvalInterval,
        ),
        (
            PlanInput {
                sparsity_tolerance: f64::NAN,
                ..ok.clone()
            },
            |e| matches!(e, BudgetError::InvalidTolerance(_)),
        ),
    ];
    for (input, expected) in cases {
        let err = plan(&input).unwrap_err();
        assert!(expected(&err), "{input:?}: {err:?}");
    }
    for rate in [f64::NAN, 0.0, 1.0, -0.5] {
        let err = plan_with(&ok, &ConvergencePolicy::new(rate)).unwrap_err();
        assert!(matches!(err, BudgetError::InvalidRate(_)), "{err}");
    }
    assert_eq!(
        plan_with(&ok, &FixedRounds(0)).unwrap_err(),
        BudgetError::ZeroRounds
    );
    assert!(matches!(
        plan_with(&ok, &FixedRounds(1001)).unwrap_err(),
        BudgetError::TooManyRounds { .. }
    ));
}

#[test]
fn plans_round_trip_through_json() {
    let input = after_profiling();
    let record = PlanRecord {
        plan: plan(&input).unwrap(),
        input,
    };
    let json = serde_json::to_string(&record).unwrap();
    let back: PlanRecord = serde_json::from_str(&json).unwrap();
    // serde_json without its `float_roundtrip` feature may be off by an ulp.
    assert_eq!(back.input, record.input);
    let (a, b) = (&back.plan, &record.plan);
    assert_eq!(
        (a.kind, a.rounds, &a.trainings),
        (b.kind, b.rounds, &b.trainings)
    );
    assert_eq!((a.expected_finish, a.cutoff), (b.expected_finish, b.cutoff));
    assert!((a.rate - b.rate).abs() < 1e-15);
    assert!(a.final_sparsity == b.final_sparsity);
    for (x, y) in a.sparsity_after_round.iter().zip(&b.sparsity_after_round) {
        assert!((x - y).abs() < 1e-15);
    }
    let policy = sprig_budget::BuiltinPolicy::Fixed(FixedRounds(1));
    let back: sprig_budget::BuiltinPolicy =
        serde_json::from_str(&serde_json::to_string(&policy).unwrap()).unwrap();
    assert_eq!(back, policy);
}

#[test]
fn extreme_values_plan_without_overflow() {
    let input = PlanInput {
        reserve: Duration::from_secs(1),
        ..PlanInput::new(
            Duration::MAX,
            CostModel::new(Duration::from_nanos(1), Duration::ZERO, Duration::ZERO),
            0.999_999,
            1,
        )
    };
    for policy in [
        sprig_budget::BuiltinPolicy::default(),
        sprig_budget::BuiltinPolicy::Fixed(FixedRounds(1000)),
        sprig_budget::BuiltinPolicy::Max(MaxRounds),
    ] {
        let p = plan_with(&input, &policy).unwrap();
        assert_eq!(p.kind, PlanKind::Regular);
        assert!(p.rounds >= 1 && p.rounds <= sprig_budget::MAX_ROUNDS);
        assert!(p.expected_finish <= p.cutoff);
        assert_eq!(p.total_iterations(), u64::MAX); // saturates
        assert_eq!(*p.sparsity_after_round.last().unwrap(), 0.999_999);
    }
}

#[test]
fn a_final_share_puts_the_spare_time_into_the_final_training() {
    // After dense convergence at 3000 iterations, 115.7 s left minus the 1 s reserve:
    // 114 700 ms. Each later round costs 20 ms + its iterations × 1.4 ms + 50 ms.
    // Share 0.5 reserves ≥ 0.5 × (114 700 / 1.4) = 40 964 iterations for the last
    // training; the intermediate ones stay at j* = 3000.
    let input = dense_converged(120);
    let policy = ConvergencePolicy::default().with_final_share(0.5);
    let p = plan_with(&input, &policy).unwrap();
    let (last, middle) = p.trainings[1..].split_last().unwrap();
    assert_eq!(p.trainings[0], 0, "the dense training is over");
    assert!(middle.iter().all(|&j| j == 3000), "{:?}", p.trainings);
    assert!(*last >= 40_964, "{:?}", p.trainings);
    // Rounds: the most that fit with the reserved final training, at most 10 (rate 0.2).
    // (R − 1)·(70 + 4200) + 70 + 40 964·1.4 ≤ 114 700 → R − 1 ≤ 13.4 → R = 10.
    assert_eq!(p.rounds, 10);
    assert!(p.expected_finish <= p.cutoff);
    // Everything is used: one more iteration in the final training would not fit.
    let equal = plan_with(&input, &ConvergencePolicy::default()).unwrap();
    assert!(p.trainings.iter().sum::<u64>() >= equal.trainings.iter().sum::<u64>() - 1000);
    // A share outside [0, 1) is an error.
    let bad = ConvergencePolicy::default().with_final_share(1.0);
    assert!(matches!(
        plan_with(&input, &bad),
        Err(BudgetError::InvalidPolicy(_))
    ));
}

#[test]
fn short_ranking_trainings_leave_more_to_the_final_one() {
    // As above, with ranking trainings planned at a quarter of j* = 3000: 750 each. Still
    // 10 rounds (the gentle cap), and the 9 × 2250 iterations saved go to the final one.
    let input = dense_converged(120);
    let share = ConvergencePolicy::default().with_final_share(0.5);
    let long = plan_with(&input, &share).unwrap();
    let p = plan_with(&input, &share.with_ranking_share(0.25)).unwrap();
    let (last, middle) = p.trainings[1..].split_last().unwrap();
    assert!(middle.iter().all(|&j| j == 750), "{:?}", p.trainings);
    assert_eq!(p.rounds, 10);
    assert!(
        *last >= long.trainings.last().unwrap() + 9 * 2250 - 100,
        "{:?}",
        p.trainings
    );
    assert!(p.expected_finish <= p.cutoff);
    // While the dense training is still exploring, it is not shortened.
    let early = after_profiling();
    let a = plan_with(&early, &share).unwrap();
    let b = plan_with(&early, &share.with_ranking_share(0.25)).unwrap();
    assert_eq!(a.trainings[0], b.trainings[0]);
    for bad in [0.0, 1.5, f64::NAN] {
        assert!(matches!(
            plan_with(&input, &share.with_ranking_share(bad)),
            Err(BudgetError::InvalidPolicy(_))
        ));
    }
}

#[test]
fn a_share_that_cannot_fit_still_gives_one_round_with_the_rest() {
    // Right after profiling, the dense training's exploring cap is a third of the time;
    // a 0.9 share cannot fit after it, so the plan is one round whose final training
    // takes everything left.
    let input = after_profiling();
    let p = plan_with(&input, &ConvergencePolicy::default().with_final_share(0.9)).unwrap();
    assert_eq!(p.kind, PlanKind::Regular);
    assert_eq!(p.rounds, 1, "{:?}", p.trainings);
    // The dense training keeps its exploring cap (the 2-round share of the table above),
    // not the minimum: it still has to show when the network converges.
    assert_eq!(p.trainings[0], 28_256, "{:?}", p.trainings);
    assert!(p.trainings[1] > p.trainings[0], "{:?}", p.trainings);
    assert!(p.expected_finish <= p.cutoff);
}

/// Half of the time left for the final training but at most 2 j*, rankings planned at a
/// quarter of j*.
fn capped_final_heavy() -> ConvergencePolicy {
    ConvergencePolicy::default()
        .with_final_share(0.5)
        .with_ranking_share(0.25)
        .with_final_cap(2.0)
}

#[test]
fn a_capped_final_training_gives_its_time_to_the_rankings() {
    // As in the final-share test (j* = 3000, 114 700 ms left), with the final training at
    // most 2 j* = 6000 and rankings planned at a quarter of j*. Ten rounds (the gentle
    // cap) of full-length rankings take 9 × (70 + 4200) + 70 + 6000 × 1.4 = 46 900 ms, so
    // the rankings grow to j* and the rest of the time is left unspent.
    let input = dense_converged(120);
    let policy = capped_final_heavy();
    let p = plan_with(&input, &policy).unwrap();
    let (last, middle) = p.trainings[1..].split_last().unwrap();
    assert_eq!(p.rounds, 10);
    assert_eq!(*last, 6000, "{:?}", p.trainings);
    assert!(middle.iter().all(|&j| j == 3000), "{:?}", p.trainings);
    assert!(p.expected_finish <= p.cutoff);
    // In a long budget with tight time per round, the cap still holds and the rankings
    // take what fits between a quarter of j* and j*.
    let tight = dense_converged(40);
    let q = plan_with(&tight, &policy).unwrap();
    let (last, middle) = q.trainings[1..].split_last().unwrap();
    assert!(*last <= 6000, "{:?}", q.trainings);
    assert!(
        middle.iter().all(|&j| (750..=3000).contains(&j)),
        "{:?}",
        q.trainings
    );
    assert!(q.expected_finish <= q.cutoff);
    // The final training itself (target reached, 1000 iterations into it) stops at the cap.
    let last_round = PlanInput {
        current_sparsity: 0.9 - 1e-7,
        rounds_done: 10,
        iterations_done: 1000,
        ..dense_converged(120)
    };
    assert_eq!(
        plan_with(&last_round, &policy).unwrap().trainings,
        vec![5000]
    );
    // Taking the rest: the same plans while rounds remain, and the final training, once
    // it starts, gets all the time left, as an uncapped one does.
    let rest = policy.with_final_taking_rest();
    assert_eq!(plan_with(&input, &rest).unwrap().trainings, p.trainings);
    let uncapped = ConvergencePolicy::default()
        .with_final_share(0.5)
        .with_ranking_share(0.25);
    let all_left = plan_with(&last_round, &uncapped).unwrap().trainings;
    assert!(all_left[0] > 5000, "{all_left:?}");
    assert_eq!(plan_with(&last_round, &rest).unwrap().trainings, all_left);
    // Below 1 × j* (or not a number) is an error.
    refused(
        &input,
        [0.5, f64::NAN].map(|bad| policy.with_final_cap(bad)),
    );
}

#[test]
fn the_final_cap_is_the_time_of_its_dense_iterations() {
    // The final training, 1000 iterations in, capped at 2 j* = 6000 iterations of the
    // dense step (1.4 ms each): a step that got cheaper after the prunes trains for that
    // time, one that got dearer (a slower machine) still for 6000 iterations; before the
    // dense step was timed, the cap counts iterations.
    let policy = capped_final_heavy();
    let cases: [(Option<Duration>, Duration, u64); 4] = [
        (Some(us(1400)), us(1400), 5000),
        (Some(us(1400)), us(700), 11_000),
        (Some(us(1400)), us(2800), 5000),
        (None, us(700), 5000),
    ];
    for (dense, now, expected) in cases {
        let input = PlanInput {
            current_sparsity: 0.9 - 1e-7,
            rounds_done: 10,
            iterations_done: 1000,
            dense_iteration: dense,
            costs: CostModel {
                iteration: now,
                ..costs()
            },
            ..dense_converged(120)
        };
        let trainings = plan_with(&input, &policy).unwrap().trainings;
        assert_eq!(trainings, vec![expected], "dense {dense:?}, now {now:?}");
    }
    // While rounds remain, the planned final training is as long as the cheaper step
    // buys in the time of 2 j* dense iterations.
    let input = PlanInput {
        dense_iteration: Some(us(2800)),
        ..dense_converged(120)
    };
    let p = plan_with(&input, &policy).unwrap();
    assert_eq!(p.trainings.last(), Some(&12_000), "{:?}", p.trainings);
    assert!(p.expected_finish <= p.cutoff);
}

#[test]
fn the_replanner_keeps_the_dense_step_of_the_dense_training() {
    use sprig_budget::{Replanner, RunConfig};
    let config = RunConfig::new(Duration::from_secs(120), 0.9, 100, Duration::from_secs(1));
    let mut replanner = Replanner::new(config, capped_final_heavy()).unwrap();
    let cheaper = CostModel {
        iteration: us(700),
        ..costs()
    };
    replanner.plan(ms(91), costs()).unwrap();
    assert_eq!(replanner.progress().dense_iteration, Some(us(1400)));
    replanner.record_prune(0.2).unwrap();
    replanner.plan(ms(5000), cheaper).unwrap();
    let record = replanner.history().last().unwrap();
    assert_eq!(record.input.dense_iteration, Some(us(1400)));
    assert_eq!(record.input.costs.iteration, us(700));
}

#[test]
fn a_dense_cooldown_lengthens_only_the_dense_training() {
    // The dense training has just plateaued at j* = 3000: without a cool-down it stops
    // there; with 0.5 it trains on to 4500 (its learning rate decaying over the 1500),
    // and the later trainings, planned from j*, keep their lengths as far as time allows.
    let input = dense_converged(120);
    let policy = capped_final_heavy();
    let plain = plan_with(&input, &policy).unwrap();
    let cooled = plan_with(&input, &policy.with_dense_cooldown(0.5)).unwrap();
    assert_eq!(plain.trainings[0], 0, "{:?}", plain.trainings);
    assert_eq!(cooled.trainings[0], 1500, "{:?}", cooled.trainings);
    assert_eq!(
        cooled.trainings.last(),
        Some(&6000),
        "{:?}",
        cooled.trainings
    );
    assert_eq!(cooled.rounds, plain.rounds);
    assert!(cooled.expected_finish <= cooled.cutoff);
    // After the first prune there is no dense training left to cool down.
    let later = PlanInput {
        current_sparsity: 0.2,
        rounds_done: 1,
        iterations_done: 100,
        ..dense_converged(120)
    };
    assert_eq!(
        plan_with(&later, &policy.with_dense_cooldown(0.5))
            .unwrap()
            .trainings,
        plan_with(&later, &policy).unwrap().trainings
    );
    refused(
        &input,
        [-0.1, f64::NAN, f64::INFINITY].map(|bad| policy.with_dense_cooldown(bad)),
    );
}

#[test]
fn a_ranking_stops_at_one_valid_test() {
    let input = dense_converged(120);
    let policy = capped_final_heavy();
    assert!(plan_with(&input, &policy.with_ranking_agreement(0.9)).is_ok());
    refused(
        &input,
        [
            policy.with_ranking_agreement(0.0),
            policy.with_ranking_agreement(1.5),
            policy.with_ranking_agreement(f64::NAN),
            policy.with_ranking_overlap(0.9).with_ranking_agreement(0.9),
        ],
    );
}

/// Each of `policies` is refused as invalid when planning `input`.
fn refused(input: &PlanInput, policies: impl IntoIterator<Item = ConvergencePolicy>) {
    for policy in policies {
        assert!(
            matches!(
                plan_with(input, &policy),
                Err(BudgetError::InvalidPolicy(_))
            ),
            "{policy:?}"
        );
    }
}
