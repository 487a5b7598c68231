//! A parameter update computed on the host, applied to a weight wherever its backend keeps
//! it: [`update_on_host`].
//!
//! Why: Sprig's masked optimiser updates a weight in one pass over its values, its
//! gradient's and its moments'. Reading a tensor into `TensorData` and building a new one
//! from it copies the values each way; on LibTorch that was three copies of every weight
//! per step (the weight out, its gradient out, the result back into a fresh LibTorch
//! buffer), which PyTorch's in-place optimisers never make. On LibTorch's CPU the values
//! already are host memory, so the pass runs on LibTorch's own buffers: the weight's when
//! nothing else holds it (burn-tch's own rule for updating in place; otherwise one copy
//! first), and the gradient's as it is. Every other backend goes through `TensorData`,
//! which on flex hands an unshared buffer over without a copy.

use burn::tensor::Tensor;

/// Applies `update` to the values of `weight` (row-major, as `into_data` lists them) with
/// the values of `gradient` beside it, and returns the updated weight.
///
/// Both tensors are plain ones (not tracked by autodiff) on the same device; the weight is
/// updated in place when its backend allows it, so no other tensor may share its values
/// expecting them unchanged (Burn's tensors never do: a shared buffer is copied first).
pub fn update_on_host<const D: usize, const G: usize>(
    weight: Tensor<D>,
    gradient: Tensor<G>,
    update: impl FnOnce(&mut [f32], &[f32]),
) -> Tensor<D> {
    #[cfg(feature = "tch")]
    if libtorch::holds_on_cpu(&weight) && libtorch::holds_on_cpu(&gradient) {
        return libtorch::update(weight, gradient, update);
    }
    through_tensor_data(weight, gradient, update)
}

/// What [`update_on_host`] has done on LibTorch's CPU on this thread so far: for tests
/// that training updates weights where they are.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct HostUpdates {
    /// Weights updated in their own buffer.
    pub in_place: usize,
    /// Weights copied first, because another tensor shared their buffer.
    pub copied: usize,
}

/// The [`HostUpdates`] of this thread.
#[doc(hidden)]
pub fn host_updates_on_this_thread() -> HostUpdates {
    HOST_UPDATES.with(std::cell::Cell::get)
}

thread_local! {
    static HOST_UPDATES: std::cell::Cell<HostUpdates> =
        const { std::cell::Cell::new(HostUpdates { in_place: 0, copied: 0 }) };
}

/// Adds one update to this thread's [`HostUpdates`].
#[cfg(feature = "tch")]
fn count(in_place: bool) {
    HOST_UPDATES.with(|updates| {
        let mut now = updates.get();
        if in_place {
            now.in_place += 1;
        } else {
            now.copied += 1;
        }
        updates.set(now);
    });
}

/// The update through host copies (none on flex for a tensor that owns its buffer).
fn through_tensor_data<const D: usize, const G: usize>(
    weight: Tensor<D>,
    gradient: Tensor<G>,
    update: impl FnOnce(&mut [f32], &[f32]),
) -> Tensor<D> {
    let device = weight.device();
    let mut values = weight.into_data().convert::<f32>();
    let gradient = gradient.into_data().convert::<f32>();
    update(
        values
            .as_mut_slice::<f32>()
            .expect("converted to f32 above"),
        gradient.as_slice::<f32>().expect("converted to f32 above"),
    );
    Tensor::from_data(values, &device)
}

#[cfg(feature = "tch")]
#[allow(deprecated)] // burn-tch is deprecated upstream; Sprig keeps it.
mod libtorch {
    use burn::backend::LibTorch;
    use burn::backend::libtorch::TchTensor;
    use burn::tensor::{Device, Tensor};
    use tch::Kind;

    /// Whether `tensor` is a plain tensor on LibTorch's CPU device.
    pub(super) fn holds_on_cpu<const D: usize>(tensor: &Tensor<D>) -> bool {
        !tensor.is_autodiff() && tensor.device() == Device::libtorch()
    }

    /// The update on LibTorch's buffers; both tensors passed [`holds_on_cpu`].
    pub(super) fn update<const D: usize, const G: usize>(
        weight: Tensor<D>,
        gradient: Tensor<G>,
        update: impl FnOnce(&mut [f32], &[f32]),
    ) -> Tensor<D> {
        let weight = weight
            .try_into_primitive::<LibTorch>()
            .expect("a plain tensor on LibTorch's CPU is a LibTorch primitive");
        let gradient = gradient
            .try_into_primitive::<LibTorch>()
            .expect("a plain tensor on LibTorch's CPU is a LibTorch primitive");
        let mut weight = writable(weight);
        let gradient = readable(gradient.tensor);
        update(values_mut(&mut weight), values(&gradient));
        Tensor::from_primitive::<LibTorch>(weight)
    }

    /// The values of a tensor [`writable`] returned.
    fn values_mut(weight: &mut TchTensor) -> &mut [f32] {
        let len = weight.tensor.numel();
        if len == 0 {
            return &mut [];
        }
        // SAFETY: `writable` returned a contiguous f32 CPU tensor whose storage no other
        // tensor shares (burn-tch's `can_mut`: one reference to its buffer, no broadcast
        // stride), so its `len` values from `data_ptr` (not null: `len` > 0) are borrowed
        // here alone, for as long as `weight` is.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts_mut(weight.tensor.data_ptr().cast::<f32>(), len)
        }
    }

    /// The values of a tensor [`readable`] returned.
    fn values(gradient: &tch::Tensor) -> &[f32] {
        let len = gradient.numel();
        if len == 0 {
            return &[];
        }
        // SAFETY: `readable` returned a contiguous f32 CPU tensor: `len` values from
        // `data_ptr` (not null: `len` > 0), only read, for as long as `gradient` is borrowed.
        #[allow(unsafe_code)]
        unsafe {
            std::slice::from_raw_parts(gradient.data_ptr().cast::<f32>(), len)
        }
    }

    /// `weight` itself when it may be written in place, else a fresh contiguous f32 copy.
    fn writable(weight: TchTensor) -> TchTensor {
        let in_place = weight.tensor.kind() == Kind::Float
            && weight.tensor.is_contiguous()
            && weight.can_mut();
        super::count(in_place);
        if in_place {
            return weight;
        }
        let mut fresh = tch::Tensor::empty(weight.tensor.size(), (Kind::Float, tch::Device::Cpu));
        fresh.copy_(&weight.tensor);
        TchTensor::new(fresh)
    }

    /// `gradient`'s values as a contiguous f32 tensor (itself when it is one already).
    fn readable(gradient: tch::Tensor) -> tch::Tensor {
        if gradient.kind() == Kind::Float && gradient.is_contiguous() {
            gradient
        } else {
            gradient.to_kind(Kind::Float).contiguous()
        }
    }
}

#[cfg(test)]
#[allow(deprecated)] // burn-tch is deprecated upstream; Sprig keeps it.
mod tests {
    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::compiled_backends;

    /// `w - 0.5 g` on every compiled backend: the weight a clone still shares keeps its old
    /// values (the update copies it first), and a weight stored transposed (a strided view)
    /// is updated in its logical order.
    #[test]
    fn the_update_sees_logical_order_and_leaves_shared_values_alone() {
        for backend in compiled_backends() {
            let device = backend.device().expect("a compiled backend");
            let weight = Tensor::<2>::from_data(
                TensorData::new(vec![1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0], [2, 3]),
                &device,
            );
            let gradient = Tensor::<1>::from_data(
                TensorData::new(vec![2.0f32, 4.0, 6.0, 8.0, 10.0, 12.0], [6]),
                &device,
            );
            let shared = weight.clone();
            let step = |w: &mut [f32], g: &[f32]| {
                assert_eq!(w.len(), g.len(), "{backend}: one gradient per weight");
                for (w, g) in w.iter_mut().zip(g) {
                    *w -= 0.5 * g;
                }
            };
            let updated = update_on_host(weight, gradient.clone(), step);
            assert_eq!(
                updated.into_data().iter::<f32>().collect::<Vec<_>>(),
                vec![0.0; 6],
                "{backend}"
            );
            assert_eq!(
                shared.to_data().iter::<f32>().collect::<Vec<_>>(),
                vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
                "{backend}: a clone's values changed"
            );

            // [[1, 4], [2, 5], [3, 6]]: in row-major order 1, 4, 2, 5, 3, 6.
            let transposed = shared.transpose();
            let updated = update_on_host(transposed, gradient, step);
            assert_eq!(
                updated.into_data().iter::<f32>().collect::<Vec<_>>(),
                vec![0.0, 2.0, -1.0, 1.0, -2.0, 0.0],
                "{backend}"
            );
        }
    }

    /// On LibTorch's CPU an unshared weight is updated where it is and a shared one is
    /// copied first, and the count says which happened.
    #[cfg(feature = "tch")]
    #[test]
    fn libtorch_copies_a_weight_only_when_another_tensor_shares_it() {
        let device = crate::Backend::TchCpu.device().expect("tch is compiled");
        let ones = || Tensor::<1>::from_data(TensorData::new(vec![1.0f32; 4], [4]), &device);
        let add = |w: &mut [f32], g: &[f32]| w.iter_mut().zip(g).for_each(|(w, g)| *w += g);
        let start = host_updates_on_this_thread();
        let updated = update_on_host(ones(), ones(), add);
        let unshared = host_updates_on_this_thread();
        assert_eq!(
            (unshared.in_place, unshared.copied),
            (start.in_place + 1, start.copied)
        );
        let shared = updated.clone();
        let updated = update_on_host(updated, ones(), add);
        let after = host_updates_on_this_thread();
        assert_eq!(
            (after.in_place, after.copied),
            (unshared.in_place, unshared.copied + 1)
        );
        assert_eq!(
            updated.into_data().iter::<f32>().collect::<Vec<_>>(),
            vec![3.0; 4]
        );
        assert_eq!(
            shared.into_data().iter::<f32>().collect::<Vec<_>>(),
            vec![2.0; 4]
        );
    }
}
