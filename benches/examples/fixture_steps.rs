//! Steps one training-step fixture (`sprig_benches::step_fixture_on`) and prints the median
//! step time, for profiling one variant alone:
//! `fixture_steps MODEL BACKEND masked|none [one|all|auto] [steps]`, or, for a late round
//! of pruning, `fixture_steps MODEL BACKEND sparsity=S dense|sparse [steps]` (masks at
//! sparsity S, the sparse products off or on).

use std::time::Instant;

use sprig_benches::{Masking, StepFixture, sparse_step_fixture, step_fixture_on};

sprig_backend::global_allocator!();

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    let model = arg(0, "lenet-300-100").parse()?;
    let backend = arg(1, "flex").parse()?;
    let (mut fixture, label, steps): (StepFixture, String, usize) =
        match arg(2, "masked").strip_prefix("sparsity=") {
            Some(sparsity) => {
                let sparse = arg(3, "dense") == "sparse";
                let fixture = sparse_step_fixture(model, backend, sparsity.parse()?, sparse)?;
                let label = format!("masked at {sparsity}, sparse products {sparse}");
                (fixture, label, arg(4, "2000").parse()?)
            }
            None => {
                let masking = if arg(2, "masked") == "none" {
                    Masking::None
                } else {
                    Masking::Masked
                };
                let threads = arg(3, "auto").parse().map_err(anyhow::Error::msg)?;
                let fixture = step_fixture_on(model, backend, masking, threads)?;
                (fixture, format!("{masking:?}"), arg(4, "2000").parse()?)
            }
        };
    let mut times = Vec::with_capacity(steps);
    for _ in 0..steps {
        let start = Instant::now();
        fixture.trainee.step()?;
        times.push(start.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{model} on {backend}, {label}, one thread: {}: median {:.3} ms per step",
        fixture.one_thread,
        times[steps / 2]
    );
    Ok(())
}
