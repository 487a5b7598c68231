//! Adam fused with the masks: one pass over each parameter masks its gradient, updates
//! Adam's moments, steps the weight and zeroes the pruned weights again.
//!
//! Why not Burn's `Adam` followed by two mask multiplications: Burn's Adam runs thirteen
//! element-wise tensor operations per parameter (each a pass over memory and, where the
//! buffer is shared, an allocation), and the masks two more. On Conv-2's 4.2-million-weight
//! `fc1` that is most of the step's time outside the convolutions. Here the weight,
//! gradient and moments are read once and written once. On burn-flex the weight and the
//! gradient leave and re-enter the backend without a copy (a tensor that owns its buffer
//! hands it over); on other backends they are copied once each way.
//!
//! The arithmetic is Burn's `Adam` (β₁ 0.9, β₂ 0.999, ε 1e-5, no weight decay), in the
//! same order and precision, so a training gives the same weights with either
//! (`tests/masked_adam.rs` checks it against Burn's optimizer and [`DeviceMasks`]).

use std::collections::HashMap;

use burn::module::{Module, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use crate::DeviceMasks;
use crate::device_masks::HostKeep;
use crate::param_path::{FloatMapper, map_floats};

/// Adam's decay rates and ε, as Burn's `AdamConfig::new()` sets them.
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;
const EPSILON: f32 = 1e-5;

/// Adam under masks, state kept on the host by parameter id.
///
/// Start a fresh one for every training (a rewind invalidates the moments, and parameter
/// ids survive a rewind).
#[derive(Debug, Default)]
pub struct MaskedAdam {
    moments: HashMap<ParamId, Moments>,
}

/// One parameter's step count and moment estimates.
#[derive(Debug)]
struct Moments {
    time: i32,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl MaskedAdam {
    /// An optimizer with no state yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// One step at learning rate `lr`: every parameter of `module` with a gradient in
    /// `grads` is updated; with `masks`, a pruned weight's gradient counts as zero and
    /// the weight is zero after the step. Parameters without a gradient are left as they
    /// are.
    pub fn step<M: Module>(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
        masks: Option<&DeviceMasks>,
    ) -> M {
        map_floats(
            module,
            Step {
                lr,
                optimizer: self,
                grads: &mut grads,
                masks,
            },
        )
    }
}

struct Step<'a> {
    lr: f64,
    optimizer: &'a mut MaskedAdam,
    grads: &'a mut GradientsParams,
    masks: Option<&'a DeviceMasks>,
}

impl FloatMapper for Step<'_> {
    fn map<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let id = param.id;
        let Some(grad) = self.grads.remove::<D>(id) else {
            return param;
        };
        let keep = self.masks.and_then(|m| m.host_keep(path));
        let lr = self.lr;
        let optimizer = &mut *self.optimizer;
        param.map(|tensor| {
            let require_grad = tensor.is_require_grad();
            let autodiff = tensor.is_autodiff();
            let plain = tensor.without_autodiff();
            let device = plain.device();
            let mut weights = plain.into_data().convert::<f32>();
            let gradient = match keep {
                // The kept entries alone: the gradient may share its buffer (the sparse
                // product keeps it for the next step), and only they are read.
                Some(HostKeep::Sparse { on_device, .. }) => grad
                    .flatten::<1>(0, D - 1)
                    .select(0, on_device.clone())
                    .into_data(),
                _ => grad.into_data(),
            }
            .convert::<f32>();
            let values = weights
                .as_mut_slice::<f32>()
                .expect("converted to f32 above");
            let gradient = gradient.as_slice::<f32>().expect("converted to f32 above");
            let moments = optimizer.moments.entry(id).or_insert_with(|| Moments {
                time: 0,
                first: vec![0.0; values.len()],
                second: vec![0.0; values.len()],
            });
            adam_pass(lr, moments, values, gradient, keep);
            let updated = Tensor::<D>::from_data(weights, &device);
            let updated = if autodiff {
                updated.autodiff()
            } else {
                updated
            };
            updated.set_require_grad(require_grad)
        })
    }
}

/// Adam's update of one weight at one step, its constants computed once per parameter.
#[derive(Debug, Clone, Copy)]
struct AdamRule {
    combined: f32,
    epsilon: f32,
    lr: f32,
}

impl AdamRule {
    #[inline(always)]
    fn update(self, w: &mut f32, g: f32, m: &mut f32, v: &mut f32) {
        *m = *m * BETA_1 + g * (1.0 - BETA_1);
        *v = *v * BETA_2 + (g * g) * (1.0 - BETA_2);
        let step = (*m * self.combined) / (v.sqrt() + self.epsilon);
        *w -= step * self.lr;
    }
}

/// The fused update of one parameter under `keep`, when given (see [`HostKeep`]): with
/// kept indices, `gradient` holds the kept weights' gradients alone, in their order.
fn adam_pass(
    lr: f64,
    moments: &mut Moments,
    values: &mut [f32],
    gradient: &[f32],
    keep: Option<HostKeep<'_>>,
) {
    moments.time += 1;
    let bias_correction_2 = (1.0 - BETA_2.powi(moments.time)).sqrt();
    let rule = AdamRule {
        combined: bias_correction_2 / (1.0 - BETA_1.powi(moments.time)),
        epsilon: EPSILON * bias_correction_2,
        // Burn multiplies by the rate as an f32 scalar.
        lr: lr as f32,
    };
    let (first, second) = (&mut moments.first, &mut moments.second);
    // Baseline x86-64 (SSE2) code: the pass is bound by memory, so AVX-512 (`pulp`'s
    // run-time dispatch) would not make it faster.
    match keep {
        None => {
            assert_eq!(gradient.len(), values.len(), "one gradient per weight");
            for (((w, &g), m), v) in values.iter_mut().zip(gradient).zip(first).zip(second) {
                rule.update(w, g, m, v);
            }
        }
        Some(HostKeep::Dense(keep)) => {
            assert_eq!(gradient.len(), values.len(), "one gradient per weight");
            assert_eq!(
                keep.len(),
                values.len(),
                "a mask of {} weights for a parameter of {}: the masks were made for another model",
                keep.len(),
                values.len()
            );
            for ((((w, &g), m), v), &k) in values
                .iter_mut()
                .zip(gradient)
                .zip(first)
                .zip(second)
                .zip(keep)
            {
                rule.update(w, g * k, m, v);
                *w *= k;
            }
        }
        // A pruned weight is zero and its moments never matter (a mask only shrinks), so
        // the dense pass's work on it is skipped: the kept weights get the same arithmetic.
        Some(HostKeep::Sparse { kept, .. }) => {
            assert_eq!(gradient.len(), kept.len(), "one gradient per kept weight");
            if let Some(&last) = kept.last() {
                assert!(
                    (last as usize) < values.len(),
                    "a mask keeping weight {last} of a parameter of {}: the masks were made for another model",
                    values.len()
                );
            }
            for (&i, &g) in kept.iter().zip(gradient) {
                let i = i as usize;
                rule.update(&mut values[i], g, &mut first[i], &mut second[i]);
            }
        }
    }
}
