//! What `sprig plan` prints: the run, the measured costs, the plan training by training,
//! the prunable tensors and which method the evaluation tables advise.

use std::fmt::Write;
use std::time::Duration;

use sprig_run::Experiment;
use sprig_run::advice::Advice;
use sprig_run::probe::Planned;

/// The page `sprig plan` prints for `e`, planned as `planned` says.
pub fn plan_page(e: &Experiment, planned: &Planned, advice: &Advice) -> String {
    let (input, plan) = (&planned.record.input, &planned.record.plan);
    let masks = &planned.masks;
    let ms = |d: Duration| 1e3 * d.as_secs_f64();
    let mut page = String::new();
    let mut line = |text: String| {
        page.push_str(&text);
        page.push('\n');
    };
    line(format!(
        "{} on {}, {} for {:.0} s to sparsity {} on {} (seed {})",
        e.model,
        e.dataset,
        e.method,
        input.budget.as_secs_f64(),
        input.target_sparsity,
        planned.backend,
        e.seed
    ));
    if let Some(laps) = &planned.race {
        line(
            "backend chosen by timing this run's steps on each compiled backend (--backend auto):"
                .into(),
        );
        for l in laps {
            line(match (l.step_ms, &l.left) {
                (Some(ms), _) => format!(
                    "  {}: {ms:.3} ms per step ({} steps, {:.2} s)",
                    l.candidate, l.steps, l.spent_s
                ),
                (None, why) => format!(
                    "  {}: {} ({:.2} s)",
                    l.candidate,
                    why.as_deref().unwrap_or("not timed"),
                    l.spent_s
                ),
            });
        }
    }
    line(format!(
        "profiled: {:.2} ms per iteration, {:.0} ms per validation, {:.1} ms per prune + rewind \
         ({:.1} s spent profiling; {:.1} s kept in reserve for the last evaluation and the save)",
        ms(input.costs.iteration),
        ms(input.costs.evaluation),
        ms(input.costs.prune_rewind),
        input.elapsed.as_secs_f64(),
        input.reserve.as_secs_f64(),
    ));
    line(format!(
        "plan ({:?}): {} prune(s) at a rate of {:.1}% per round, reaching sparsity {:.4}",
        plan.kind,
        plan.rounds,
        100.0 * plan.rate,
        plan.final_sparsity
    ));
    for (i, iterations) in plan.trainings.iter().enumerate() {
        let sparsity = if i == 0 {
            input.current_sparsity
        } else {
            plan.sparsity_after_round
                .get(i - 1)
                .copied()
                .unwrap_or(plan.final_sparsity)
        };
        let what = if i == 0 {
            "dense (profiled iterations included)"
        } else if i + 1 == plan.trainings.len() {
            "final ticket"
        } else {
            "ranking"
        };
        line(format!(
            "  training {i}: {iterations} iterations at sparsity {sparsity:.4} ({what})"
        ));
    }
    line(format!("prunable tensors ({} weights):", masks.total()));
    for (path, entry) in masks.iter() {
        line(format!(
            "  {path}: {} weights ({})",
            entry.mask().len(),
            entry.kind()
        ));
    }
    line(format!(
        "expected to finish at {:.1} s of {:.0} s; the plan is remade at every validation",
        plan.expected_finish.as_secs_f64(),
        input.budget.as_secs_f64()
    ));
    let _ = writeln!(page, "{advice}");
    page
}

#[cfg(test)]
mod tests {
    use sprig_backend::Backend;
    use sprig_budget::{CostModel, Lap, PlanInput, PlanRecord, plan_with};
    use sprig_mask::MaskSet;
    use sprig_models::Architecture;
    use sprig_run::advice::{Choice, ChoiceRows, Regime};
    use sprig_run::{Dataset, Method, defaults};

    use super::*;

    /// LeNet-300-100 on MNIST, 120 s to 0.982, right after profiling (1.4 ms per
    /// iteration, 50 ms per validation, 20 ms per prune), with the default policy.
    #[test]
    fn the_page_of_a_lenet_plan() {
        let e = defaults::single(
            Dataset::Mnist,
            Architecture::Lenet300100,
            Method::Budgeted,
            0,
            Backend::Flex,
            120.0,
            0.982,
        )
        .unwrap();
        let costs = CostModel::new(
            Duration::from_micros(1400),
            Duration::from_millis(50),
            Duration::from_millis(20),
        );
        let input = PlanInput {
            elapsed: Duration::from_millis(91),
            iterations_done: 15,
            reserve: Duration::from_secs(1),
            ..PlanInput::new(Duration::from_secs(120), costs, 0.982, 500)
        };
        let policy = e.policy.unwrap();
        let plan = plan_with(&input, &policy).unwrap();
        let masks = MaskSet::dense([
            ("fc1.weight", "linear", &[784, 300][..]),
            ("fc2.weight", "linear", &[300, 100][..]),
            ("fc3.weight", "output", &[100, 10][..]),
        ])
        .unwrap();
        let advice = Advice {
            choice: Choice::TICKET,
            regime: Some(Regime {
                dataset: "mnist".into(),
                model: "lenet-300-100".into(),
                budget_s: 120.0,
                target_sparsity: 0.982,
                choices: vec![
                    ChoiceRows {
                        choice: Choice::TICKET,
                        mean: 0.9794,
                        std: 0.0011,
                        seeds: 5,
                        backend: "flex".into(),
                        variant: Some("final-heavy 0.5".into()),
                    },
                    ChoiceRows {
                        choice: Method::Gmp.into(),
                        mean: 0.9769,
                        std: 0.0014,
                        seeds: 5,
                        backend: "flex".into(),
                        variant: None,
                    },
                    ChoiceRows {
                        choice: Method::Gmp.into(),
                        mean: 0.9766,
                        std: 0.0011,
                        seeds: 3,
                        backend: "flex".into(),
                        variant: Some("ramp ends at 0.5 of the training".into()),
                    },
                ],
                verdict: Some("beats gmp (+0.25 points, pooled std 0.12)".into()),
            }),
        };
        let race = vec![
            Lap {
                candidate: "flex".to_string(),
                step_ms: Some(1.054),
                steps: 10,
                spent_s: 0.02,
                left: None,
            },
            Lap {
                candidate: "tch-cpu".to_string(),
                step_ms: None,
                steps: 0,
                spent_s: 0.0,
                left: Some("unavailable: no LibTorch".into()),
            },
        ];
        let planned = Planned {
            record: PlanRecord { input, plan },
            masks,
            backend: Backend::Flex,
            race: Some(race),
        };
        let page = plan_page(&e, &planned, &advice);
        expect_test::expect![[r#"
            lenet-300-100 on mnist, budgeted for 120 s to sparsity 0.982 on flex (seed 0)
            backend chosen by timing this run's steps on each compiled backend (--backend auto):
              flex: 1.054 ms per step (10 steps, 0.02 s)
              tch-cpu: unavailable: no LibTorch (0.00 s)
            profiled: 1.40 ms per iteration, 50 ms per validation, 20.0 ms per prune + rewind (0.1 s spent profiling; 1.0 s kept in reserve for the last evaluation and the save)
            plan (Regular): 2 prune(s) at a rate of 86.6% per round, reaching sparsity 0.9820
              training 0: 28256 iterations at sparsity 0.0000 (dense (profiled iterations included))
              training 1: 7067 iterations at sparsity 0.8658 (ranking)
              training 2: 49476 iterations at sparsity 0.9820 (final ticket)
            prunable tensors (266200 weights):
              fc1.weight: 235200 weights (linear)
              fc2.weight: 30000 weights (linear)
              fc3.weight: 1000 weights (output)
            expected to finish at 119.0 s of 120 s; the plan is remade at every validation
            the evaluation tables, nearest regime (mnist / lenet-300-100, 120 s, target sparsity 0.982):
              budgeted: 97.94 ± 0.11 % test accuracy (5 seed(s), flex)
              gmp: 97.69 ± 0.14 % test accuracy (5 seed(s), flex)
              gmp (ramp ends at 0.5 of the training): 97.66 ± 0.11 % test accuracy (3 seed(s), flex)
              budgeted beats gmp (+0.25 points, pooled std 0.12)
            --method auto runs budgeted
        "#]].assert_eq(&page);
    }
}
