//! The training-step fixtures the benchmarks time: every model steps with a finite loss on
//! the default backend, masked and not, and a masked step keeps pruned weights at zero.

use sprig_backend::Backend;
use sprig_benches::{Masking, STEP_MODELS, step_fixture};

#[test]
fn every_fixture_steps_and_assembles_batches() {
    let backend = Backend::default_compiled();
    for model in STEP_MODELS {
        for masking in [Masking::Masked, Masking::None] {
            let mut fixture = step_fixture(model, backend, masking).unwrap();
            assert!(fixture.batch_size > 0);
            for _ in 0..2 {
                let loss = fixture.trainee.step().unwrap();
                assert!(
                    loss.is_finite() && loss > 0.0,
                    "{model} {masking:?}: {loss}"
                );
            }
            (fixture.next_batch)().unwrap();
            let weights = fixture.trainee.weights().unwrap();
            let zeros = weights
                .iter()
                .map(|(_, t)| t.values().iter().filter(|v| **v == 0.0).count())
                .sum::<usize>();
            let total = weights.iter().map(|(_, t)| t.values().len()).sum::<usize>();
            let share = zeros as f64 / total as f64;
            match masking {
                // 80–90 % of the prunable weights, which are most of the parameters.
                Masking::Masked => assert!(share > 0.5, "{model}: {share}"),
                Masking::None => assert!(share < 0.01, "{model}: {share}"),
            }
        }
    }
}
