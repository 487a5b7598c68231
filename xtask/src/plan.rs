//! `cargo xtask plan`: what the time-budget planner does with a budget, printed.
//!
//! The pruning engine profiles the time per iteration on the first epoch; here it is
//! given on the command line so the planner can be explored without training.

use std::time::Duration;

use anyhow::{Context, Result};
use clap::Args;
use sprig_budget::{ConvergencePolicy, CostModel, PlanInput, minimum_budget, plan_with};

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Wall-clock budget, end to end (e.g. `90s`, `5m`, `1h30m`).
    #[arg(long, value_parser = humantime::parse_duration)]
    budget: Duration,
    /// Target sparsity over the prunable weights, in [0, 1).
    #[arg(long, default_value_t = 0.9)]
    target_sparsity: f64,
    /// Time per training iteration, in milliseconds.
    #[arg(long, default_value_t = 1.4)]
    iter_ms: f64,
    /// Time of one evaluation on the validation split, in milliseconds.
    #[arg(long, default_value_t = 50.0)]
    eval_ms: f64,
    /// Time of one prune and rewind, in milliseconds.
    #[arg(long, default_value_t = 20.0)]
    prune_ms: f64,
    /// Time to save the ticket, in milliseconds (kept in reserve with a final evaluation).
    #[arg(long, default_value_t = 200.0)]
    save_ms: f64,
    /// Minimum iterations of any training.
    #[arg(long, default_value_t = 100)]
    min_iters: u64,
    /// Iterations the dense training needed to converge, if known.
    #[arg(long)]
    dense_convergence: Option<u64>,
    /// Per-round rate up to which more rounds are preferred to longer trainings.
    #[arg(long, default_value_t = 0.2)]
    gentle_rate: f64,
    /// Share of the time left reserved for the final training (0: equal trainings).
    #[arg(long, default_value_t = 0.0)]
    final_share: f64,
}

fn millis(ms: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(ms / 1e3).with_context(|| format!("{ms} ms is not a duration"))
}

pub fn print(args: &PlanArgs) -> Result<()> {
    let costs = CostModel::new(
        millis(args.iter_ms)?,
        millis(args.eval_ms)?,
        millis(args.prune_ms)?,
    );
    let reserve = costs.reserve_with_save(millis(args.save_ms)?);
    let input = PlanInput {
        reserve,
        dense_convergence: args.dense_convergence,
        ..PlanInput::new(args.budget, costs, args.target_sparsity, args.min_iters)
    };
    let policy = ConvergencePolicy::new(args.gentle_rate).with_final_share(args.final_share);
    let plan = plan_with(&input, &policy).context("planning")?;
    let smallest = minimum_budget(&costs, args.min_iters, 0, input.eval, reserve);

    println!(
        "Budget {:.1} s, target sparsity {:.3}; {:.3} ms per iteration, {:.0} ms per evaluation, \
         {:.0} ms per prune+rewind (given, not profiled)",
        args.budget.as_secs_f64(),
        args.target_sparsity,
        args.iter_ms,
        args.eval_ms,
        args.prune_ms
    );
    println!(
        "Plan ({:?}): {} pruning rounds at {:.2}% of the surviving weights per round, {} trainings",
        plan.kind,
        plan.rounds,
        plan.rate * 100.0,
        plan.trainings.len()
    );
    println!("{:>10} {:>12} {:>10}", "training", "iterations", "sparsity");
    let mut sparsity = 0.0;
    for (index, iterations) in plan.trainings.iter().enumerate() {
        let label = if index == 0 {
            "dense".to_string()
        } else {
            index.to_string()
        };
        println!("{label:>10} {iterations:>12} {sparsity:>10.4}");
        sparsity = plan
            .sparsity_after_round
            .get(index)
            .copied()
            .unwrap_or(sparsity);
    }
    println!(
        "Expected finish {:.2} s; {:.2} s kept for the final evaluation and save; \
         smallest workable budget {:.2} s",
        plan.expected_finish.as_secs_f64(),
        reserve.as_secs_f64(),
        smallest.as_secs_f64()
    );
    Ok(())
}
