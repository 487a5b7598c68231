//! A [`MaskSet`] as boolean tensors on a device, made once per round and applied at
//! every step.

use std::collections::BTreeMap;

use burn::module::{Module, Param};
use burn::optim::GradientsParams;
use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_mask::MaskSet;

use crate::PruneError;
use crate::param_path::{FloatMapper, FloatVisitor, map_floats, visit_floats};
use crate::params::tensor_shapes;

/// One mask as tensors: 1.0 where a weight is kept, 0.0 where it is pruned.
///
/// Masking multiplies by it rather than filling pruned positions (`mask_fill`): on
/// burn-flex the fill is a scalar loop with a branch per element, which a mixed mask makes
/// unpredictable (a visible share of a small model's step), while the multiplication is a
/// vectorised kernel. A pruned negative weight becomes `-0.0`, which equals `+0.0` in every sum and
/// product; [`snapshot`](crate::snapshot) writes it out as `+0.0`.
#[derive(Debug, Clone)]
struct MaskTensors {
    shape: Vec<usize>,
    /// On the module's device without autodiff: gradients live there, and weights are
    /// masked there (outside the graph).
    keep: Tensor<1>,
    /// The same on the host, in the form [`MaskedAdam`](crate::MaskedAdam)'s fused pass
    /// uses: the kept weights' indices when they are few enough that it visits them alone
    /// ([`SPARSE_ADAM_AT_MOST`]), a 1.0/0.0 entry per weight otherwise.
    host: HostMask,
}

/// A mask on the host, in one of the two forms of [`HostKeep`].
#[derive(Debug, Clone)]
enum HostMask {
    Flags(Vec<f32>),
    /// The kept indices, on the host and on the device.
    Kept(Vec<u32>, Box<Tensor<1, Int>>),
}

/// The share of kept weights at or below which [`MaskedAdam`](crate::MaskedAdam) updates
/// the kept weights alone instead of passing over the whole parameter: an indexed pass
/// costs a few times a vectorised dense one per element it visits, so it pays once
/// most weights are pruned (late rounds, where a dense pass is nearly all waste).
pub const SPARSE_ADAM_AT_MOST: f64 = 0.25;

/// How Adam's pass masks one parameter.
#[derive(Debug, Clone, Copy)]
pub(crate) enum HostKeep<'a> {
    /// 1.0 for a kept weight, 0.0 for a pruned one, one entry per weight.
    Dense(&'a [f32]),
    /// The flat indices of the kept weights, increasing; pruned weights are zero already
    /// (the masks were applied) and stay so. `on_device` holds the same indices, to
    /// gather the kept gradients on the device (copying a whole gradient to the host for a
    /// few of its values would cost as much as a dense pass).
    Sparse {
        kept: &'a [u32],
        on_device: &'a Tensor<1, Int>,
    },
}

/// The masks of a round on a device, keyed by parameter path.
#[derive(Debug, Clone)]
pub struct DeviceMasks {
    by_path: BTreeMap<String, MaskTensors>,
}

impl DeviceMasks {
    /// Uploads every mask of `masks` to `device` (the device `module` lives on), after
    /// checking that each mask names a parameter of `module` with the same shape.
    pub fn new<M: Module>(
        masks: &MaskSet,
        module: &M,
        device: &Device,
    ) -> Result<Self, PruneError> {
        let shapes = tensor_shapes(module);
        let params: Vec<(&str, &[usize])> = shapes
            .iter()
            .map(|(p, s)| (p.as_str(), s.as_slice()))
            .collect();
        masks.validate_with(&params, |_, _| false)?;
        let plain = device.clone().without_autodiff();
        let by_path = masks
            .iter()
            .map(|(path, entry)| {
                let mask = entry.mask();
                let keep: Vec<f32> = mask.iter().map(|kept| f32::from(u8::from(kept))).collect();
                let few = mask.kept_count() as f64 <= SPARSE_ADAM_AT_MOST * mask.len() as f64;
                let host = if few {
                    let kept: Vec<u32> = mask
                        .kept_indices()
                        .map(|i| u32::try_from(i).expect("a parameter has under 2^32 weights"))
                        .collect();
                    let indices: Vec<i64> = kept.iter().map(|&i| i64::from(i)).collect();
                    let count = indices.len();
                    let on_device = Tensor::from_data(TensorData::new(indices, [count]), &plain);
                    HostMask::Kept(kept, Box::new(on_device))
                } else {
                    HostMask::Flags(keep.clone())
                };
                let tensors = MaskTensors {
                    shape: mask.shape().to_vec(),
                    keep: Tensor::from_data(TensorData::new(keep, [mask.len()]), &plain),
                    host,
                };
                (path.to_string(), tensors)
            })
            .collect();
        Ok(Self { by_path })
    }

    /// The mask of the parameter at `path` on the host, if it has one: its kept indices
    /// when they are few, a 1.0/0.0 entry per weight otherwise.
    pub(crate) fn host_keep(&self, path: &str) -> Option<HostKeep<'_>> {
        self.by_path.get(path).map(|m| match &m.host {
            HostMask::Kept(kept, on_device) => HostKeep::Sparse { kept, on_device },
            HostMask::Flags(flags) => HostKeep::Dense(flags),
        })
    }

    /// Sets every pruned weight of `module` to zero (±0.0, see `MaskTensors`), keeping parameter ids and
    /// gradient settings. The result is a leaf again (`detach`), or `from_grads` would
    /// silently drop the parameter's gradient.
    pub fn apply<M: Module>(&self, module: M) -> M {
        struct Apply<'a>(&'a DeviceMasks);
        impl FloatMapper for Apply<'_> {
            fn map<const D: usize>(
                &mut self,
                path: &str,
                param: Param<Tensor<D>>,
            ) -> Param<Tensor<D>> {
                let Some(mask) = self.0.by_path.get(path) else {
                    return param;
                };
                param.map(|tensor| {
                    let require_grad = tensor.is_require_grad();
                    let autodiff = tensor.is_autodiff();
                    // The product is taken outside autodiff: no graph node to record and
                    // drop, and the backend may reuse the weight's buffer in place.
                    let keep = mask.keep.clone().reshape(shape_of::<D>(&mask.shape));
                    let masked = tensor.without_autodiff() * keep;
                    let masked = if autodiff { masked.autodiff() } else { masked };
                    masked.set_require_grad(require_grad)
                })
            }
        }
        map_floats(module, Apply(self))
    }

    /// Zeroes the gradient of every pruned weight, so an optimizer's moments never build
    /// up behind a pruned weight and weight decay never moves it.
    pub fn mask_gradients<M: Module>(&self, module: &M, grads: &mut GradientsParams) {
        struct MaskGrads<'a>(&'a DeviceMasks, &'a mut GradientsParams);
        impl FloatVisitor for MaskGrads<'_> {
            fn visit<const D: usize>(&mut self, path: &str, param: &Param<Tensor<D>>) {
                let Some(mask) = self.0.by_path.get(path) else {
                    return;
                };
                if let Some(grad) = self.1.remove::<D>(param.id) {
                    let keep = mask.keep.clone().reshape(shape_of::<D>(&mask.shape));
                    self.1.register(param.id, grad * keep);
                }
            }
        }
        visit_floats(module, MaskGrads(self, grads));
    }
}

/// `shape` as the fixed-size array a rank-`D` reshape takes. [`DeviceMasks::new`] checked
/// every mask against the module's shapes, so the rank always matches.
fn shape_of<const D: usize>(shape: &[usize]) -> [usize; D] {
    let mut dims = [1; D];
    for (dim, &n) in dims.iter_mut().zip(shape) {
        *dim = n;
    }
    dims
}
