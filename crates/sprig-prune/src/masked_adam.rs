//! Adam fused with the masks: one pass over each parameter masks its gradient, updates
//! Adam's moments, steps the weight and zeroes the pruned weights again.
//!
//! Why not Burn's `Adam` followed by two mask multiplications: Burn's Adam runs thirteen
//! element-wise tensor operations per parameter (each a pass over memory and, where the
//! buffer is shared, an allocation), and the masks two more. On Conv-2's 4.2-million-weight
//! `fc1` that is most of the step's time outside the convolutions. Here the weight,
//! gradient and moments are read once and written once, where the backend keeps them when
//! it can ([`update_on_host`]: in LibTorch's CPU buffers, or handed over by flex without a
//! copy); on other backends they are copied once each way.
//!
//! The arithmetic is Burn's `Adam` (β₁ 0.9, β₂ 0.999, ε 1e-5, no weight decay), in the
//! same order and precision, so a training gives the same weights with either
//! (`tests/masked_adam.rs` checks it against Burn's optimizer and [`DeviceMasks`]).

use std::collections::HashMap;

use burn::module::{Module, Param, ParamId};
use burn::optim::GradientsParams;
use burn::tensor::Tensor;

use sprig_backend::update_on_host;

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

/// One parameter's step count and moment estimates: of every weight, or of the kept
/// weights alone (in the mask's order) while the parameter is stepped under a sparse
/// mask. Compact moments are read in order, so a sparse pass touches one scattered value
/// per kept weight (the weight) instead of three: on a late round's largest layer the
/// scattered moments missed the cache at every kept weight.
#[derive(Debug, Default)]
struct Moments {
    time: i32,
    /// The weights the moments are for when not all: the kept indices, increasing.
    kept: Option<Vec<u32>>,
    first: Vec<f32>,
    second: Vec<f32>,
}

impl Moments {
    /// The moments of every weight of a parameter of `len` weights (zero where none were
    /// kept before: a pruned weight's moments are never read again).
    fn every(&mut self, len: usize) -> (&mut [f32], &mut [f32]) {
        if let Some(kept) = self.kept.take() {
            let scatter = |compact: &[f32]| {
                let mut all = vec![0.0; len];
                for (&i, &m) in kept.iter().zip(compact) {
                    all[i as usize] = m;
                }
                all
            };
            self.first = scatter(&self.first);
            self.second = scatter(&self.second);
        } else if self.first.len() != len {
            self.first = vec![0.0; len];
            self.second = vec![0.0; len];
        }
        (&mut self.first, &mut self.second)
    }

    /// The moments of the `kept` weights of a parameter of `len` weights, in their order.
    fn kept(&mut self, kept: &[u32], len: usize) -> (&mut [f32], &mut [f32]) {
        if self.kept.as_deref() != Some(kept) {
            let (first, second) = self.every(len);
            let gather = |all: &[f32]| kept.iter().map(|&i| all[i as usize]).collect();
            let (first, second) = (gather(first), gather(second));
            self.first = first;
            self.second = second;
            self.kept = Some(kept.to_vec());
        }
        (&mut self.first, &mut self.second)
    }
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
            let moments = optimizer.moments.entry(id).or_default();
            let step = |values: &mut [f32], gradient: &[f32]| {
                adam_pass(lr, moments, values, gradient, keep);
            };
            let plain = tensor.without_autodiff();
            let updated = match keep {
                // The kept entries alone: the gradient may share its buffer (the sparse
                // product keeps it for the next step), and only they are read.
                Some(HostKeep::Sparse { on_device, .. }) => update_on_host(
                    plain,
                    grad.flatten::<1>(0, D - 1).select(0, on_device.clone()),
                    step,
                ),
                _ => update_on_host(plain, grad, step),
            };
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
    // Baseline x86-64 (SSE2) code: the pass is bound by memory, so AVX-512 (`pulp`'s
    // run-time dispatch) would not make it faster.
    match keep {
        None => {
            assert_eq!(gradient.len(), values.len(), "one gradient per weight");
            let (first, second) = moments.every(values.len());
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
            let (first, second) = moments.every(values.len());
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
            let (first, second) = moments.kept(kept, values.len());
            for ((&i, &g), (m, v)) in kept.iter().zip(gradient).zip(first.iter_mut().zip(second)) {
                rule.update(&mut values[i as usize], g, m, v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Int, Tensor, TensorData};

    use super::*;

    /// A weight's gradient at step `t`, varied so the moments differ from weight to weight.
    fn gradient(t: usize, i: usize) -> f32 {
        ((t * 7 + i * 3) as f32 * 0.41).sin()
    }

    /// Steps a parameter of eight weights under a sequence of masks that shrink, once with
    /// every mask as flags (moments of every weight) and once with the kept indices
    /// (compact moments, rebuilt whenever the kept set changes): the kept weights get the
    /// same values, bit for bit, and the pruned ones stay zero.
    #[test]
    fn compact_moments_step_the_kept_weights_as_full_ones_do() {
        let device = sprig_backend::Backend::default_compiled()
            .device()
            .expect("the default backend is compiled");
        let masks: [&[u32]; 5] = [&[0, 2, 3, 5, 7], &[0, 2, 3, 5, 7], &[2, 5, 7], &[7], &[7]];
        let (mut full, mut compact) = (Moments::default(), Moments::default());
        let (mut w_full, mut w_compact) = (vec![0.5f32; 8], vec![0.5f32; 8]);
        for (t, kept) in masks.iter().enumerate() {
            let flags: Vec<f32> = (0..8u32)
                .map(|i| f32::from(u8::from(kept.contains(&i))))
                .collect();
            let all: Vec<f32> = (0..8).map(|i| gradient(t, i)).collect();
            adam_pass(
                1e-2,
                &mut full,
                &mut w_full,
                &all,
                Some(HostKeep::Dense(&flags)),
            );
            let on_device = Tensor::<1, Int>::from_data(
                TensorData::new(kept.iter().map(|&i| i64::from(i)).collect(), [kept.len()]),
                &device,
            );
            let sparse = HostKeep::Sparse {
                kept,
                on_device: &on_device,
            };
            let kept_grads: Vec<f32> = kept.iter().map(|&i| all[i as usize]).collect();
            // The weights the previous mask pruned are zero already, as the masks leave them.
            for (i, w) in w_compact.iter_mut().enumerate() {
                *w *= flags[i];
            }
            adam_pass(
                1e-2,
                &mut compact,
                &mut w_compact,
                &kept_grads,
                Some(sparse),
            );
            assert_eq!(w_compact, w_full, "step {t}");
        }
        assert!(w_full[7] != 0.5, "the kept weight moved");
    }
}
