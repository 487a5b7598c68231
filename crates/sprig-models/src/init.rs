//! θ0 drawn on the host from one seed, the same on every backend.
//!
//! Burn's initialisers draw from the backend's generator, which is global per backend and
//! differs between backends; Sprig promises the same mask for the same seed, so the
//! initial weights are drawn here, from a ChaCha stream per tensor, and loaded into the
//! model.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::{Deserialize, Serialize};
use sprig_mask::Snapshot;

use crate::ModelError;

/// How weight tensors are initialised. Biases start at 0, normalisation scales at 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Initialization {
    /// Gaussian Glorot (Xavier) initialisation, as in the LTH paper.
    #[default]
    GlorotNormal,
    /// Kaiming (He) normal, fan-in mode, as open_lth's default.
    KaimingNormal,
}

/// Standard deviation of random token vectors: that of Kim (2014)'s U[-0.25, 0.25].
pub const EMBEDDING_STD: f64 = 0.144_337_567;

/// (fan in, fan out) of a weight. Burn stores a linear weight as `[inputs, outputs]` and a
/// convolution weight as `[outputs, inputs, kernel…]`.
fn fans(shape: &[usize]) -> (usize, usize) {
    match shape {
        [inputs, outputs] => (*inputs, *outputs),
        [outputs, inputs, kernel @ ..] => {
            let field: usize = kernel.iter().product();
            (inputs * field, outputs * field)
        }
        _ => (1, 1),
    }
}

/// Initial weights for parameters given by `(path, shape)` (as
/// `sprig_prune::tensor_shapes` lists them): rank ≥ 2 tensors drawn per `scheme` (an
/// `…embedding.weight` table from N(0, [`EMBEDDING_STD`]²) whatever the scheme), `gamma`
/// tensors 1, everything else 0. Each tensor has its own stream, derived from `seed` and
/// its position, so one seed fixes all of θ0.
pub fn initial_weights(
    params: &[(String, Vec<usize>)],
    scheme: Initialization,
    seed: u64,
) -> Result<Snapshot, ModelError> {
    let mut snapshot = Snapshot::new();
    for (index, (path, shape)) in params.iter().enumerate() {
        let len = shape.iter().product();
        let values = if shape.len() >= 2 {
            let (fan_in, fan_out) = fans(shape);
            let std = match scheme {
                // A table of token vectors has no fan: Kim (2014) draws random word vectors
                // from U[-0.25, 0.25], whose spread this matches (σ ≈ 0.144).
                _ if path.ends_with("embedding.weight") => EMBEDDING_STD,
                Initialization::GlorotNormal => (2.0 / (fan_in + fan_out) as f64).sqrt(),
                Initialization::KaimingNormal => (2.0 / fan_in as f64).sqrt(),
            };
            let normal = Normal::new(0.0, std).map_err(|e| ModelError::Init {
                path: path.clone(),
                message: e.to_string(),
            })?;
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            rng.set_stream(index as u64);
            (0..len).map(|_| normal.sample(&mut rng) as f32).collect()
        } else if path.ends_with("gamma") || path.ends_with("running_var") {
            vec![1.0; len]
        } else {
            vec![0.0; len]
        };
        snapshot.insert(path.clone(), shape.clone(), values)?;
    }
    Ok(snapshot)
}
