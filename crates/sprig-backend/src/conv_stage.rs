//! One stage of the VGG-like Conv-2/4/6 networks as a single operation: two 3×3 "same"
//! convolutions with bias, each followed by ReLU, then 2×2 max pooling.
//!
//! Why one operation: on LibTorch, Burn's autodiff differentiates a convolution with its
//! generic formulas (the weight gradient as a convolution over swapped batch and channel
//! axes; ReLU's backward as a `masked_fill`), which LibTorch runs far slower than its own
//! `convolution_backward` and `threshold_backward` (`benches/pytorch/conv_weight_grad.py`
//! times the two for Conv-2's weight gradients). Under autodiff on
//! LibTorch this stage is therefore recorded as one node of Burn's graph whose forward and
//! backward run in LibTorch's own autograd ([`libtorch`]). Every other backend composes
//! the stage from Burn's differentiable operations (the trait's default body), exactly as
//! `Conv2d`, `relu` and `MaxPool2d` would, so their results do not change.

#![allow(deprecated)] // burn-ndarray and burn-tch are deprecated upstream; Sprig keeps them.

#[cfg(feature = "tch")]
mod libtorch;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;
use burn::tensor::ops::ConvOptions;

/// The convolution of a stage: 3×3 kernel, stride 1, one pixel of zero padding on every
/// side (Burn's `PaddingConfig2d::Same` for a 3×3 kernel), no dilation, no groups.
fn same_3x3() -> ConvOptions<2> {
    ConvOptions::new([1, 1], [1, 1], [1, 1], 1)
}

/// The stage as a Burn backend extension: routed at run time to the backend of its input.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    LibTorch: cfg(feature = "tch"),
    Autodiff
)]
pub trait ConvStageOps: Backend {
    /// `max_pool_2×2(relu(conv(relu(conv(x, w1) + b1), w2) + b2))`, composed of Burn's
    /// operations.
    fn conv_stage(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let x = Self::relu(Self::conv2d(x, w1, Some(b1), same_3x3()));
        let x = Self::relu(Self::conv2d(x, w2, Some(b2), same_3x3()));
        Self::max_pool2d(x, [2, 2], [2, 2], [0, 0], [1, 1], false)
    }
}

#[cfg(feature = "flex")]
mod flex {
    use burn::backend::Autodiff;
    use burn::backend::Flex;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;

    impl super::ConvStageOps for Flex {}
    impl<C: CheckpointStrategy> super::ConvStageOps for Autodiff<Flex, C> {}
}

#[cfg(feature = "ndarray")]
mod ndarray {
    use burn::backend::Autodiff;
    use burn::backend::NdArray;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;

    impl super::ConvStageOps for NdArray {}
    impl<C: CheckpointStrategy> super::ConvStageOps for Autodiff<NdArray, C> {}
}

/// A stage's convolution: its weight `[out, in, 3, 3]` and bias `[out]`.
pub type StageConv = (Tensor<4>, Tensor<1>);

/// One stage of a VGG-like network on images `[batch, channels, height, width]`:
/// `[batch, out, height / 2, width / 2]`, where `out` is the second convolution's filters.
///
/// # Panics
/// When the weights are not 3×3 kernels chaining from the input's channels (a model
/// built wrongly, not user input).
pub fn conv_stage(x: Tensor<4>, first: StageConv, second: StageConv) -> Tensor<4> {
    let [_, channels, _, _] = x.dims();
    let [filters_1, in_1, k1h, k1w] = first.0.dims();
    let [filters_2, in_2, k2h, k2w] = second.0.dims();
    assert!(
        [k1h, k1w, k2h, k2w] == [3; 4]
            && in_1 == channels
            && in_2 == filters_1
            && first.1.dims() == [filters_1]
            && second.1.dims() == [filters_2],
        "a conv stage needs 3x3 kernels chaining {channels} input channels, \
         got weights {:?} and {:?}, biases {:?} and {:?}",
        first.0.dims(),
        second.0.dims(),
        first.1.dims(),
        second.1.dims()
    );
    Tensor::from_dispatch(<Dispatch as ConvStageOps>::conv_stage(
        x.into_dispatch(),
        first.0.into_dispatch(),
        first.1.into_dispatch(),
        second.0.into_dispatch(),
        second.1.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::relu;
    use burn::tensor::module::{conv2d, max_pool2d};
    use burn::tensor::ops::MaxPoolOptions;
    use burn::tensor::{Device, Tensor, TensorData, Tolerance};

    use super::*;
    use crate::compiled_backends;

    /// Deterministic values in [-1, 1] without a random number generator.
    fn wavy<const D: usize>(shape: [usize; D], phase: f32, device: &Device) -> Tensor<D> {
        let count = shape.iter().product::<usize>();
        let values: Vec<f32> = (0..count)
            .map(|i| (i as f32 * 0.737 + phase).sin())
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// The stage as `Conv2d`, `relu` and `MaxPool2d` compute it.
    fn composed(x: Tensor<4>, first: StageConv, second: StageConv) -> Tensor<4> {
        let x = relu(conv2d(x, first.0, Some(first.1), same_3x3()));
        let x = relu(conv2d(x, second.0, Some(second.1), same_3x3()));
        max_pool2d(x, MaxPoolOptions::new([2, 2]))
    }

    /// Output and the gradients of x, w1, b1, w2, b2 for a weighted sum of the output.
    fn output_and_gradients(
        stage: fn(Tensor<4>, StageConv, StageConv) -> Tensor<4>,
        device: &Device,
    ) -> Vec<TensorData> {
        let x = wavy([2, 3, 8, 6], 0.1, device).require_grad();
        let w1 = wavy([4, 3, 3, 3], 0.2, device).require_grad();
        let b1 = wavy([4], 0.3, device).require_grad();
        let w2 = wavy([5, 4, 3, 3], 0.4, device).require_grad();
        let b2 = wavy([5], 0.5, device).require_grad();
        let output = stage(
            x.clone(),
            (w1.clone(), b1.clone()),
            (w2.clone(), b2.clone()),
        );
        assert_eq!(output.dims(), [2, 5, 4, 3]);
        let weights = wavy([2, 5, 4, 3], 0.6, device);
        let grads = (output.clone() * weights).sum().backward();
        let mut all = vec![output.into_data()];
        all.push(x.grad(&grads).expect("x is tracked").into_data());
        all.push(w1.grad(&grads).expect("w1 is tracked").into_data());
        all.push(b1.grad(&grads).expect("b1 is tracked").into_data());
        all.push(w2.grad(&grads).expect("w2 is tracked").into_data());
        all.push(b2.grad(&grads).expect("b2 is tracked").into_data());
        all
    }

    #[test]
    fn the_stage_equals_its_composition_with_gradients_on_every_backend() {
        for backend in compiled_backends() {
            let device = backend.train_device().expect("a compiled backend");
            let fused = output_and_gradients(conv_stage, &device);
            let reference = output_and_gradients(composed, &device);
            for (index, (fused, reference)) in fused.iter().zip(&reference).enumerate() {
                // LibTorch's native backward sums in another order than Burn's formulas.
                fused.assert_approx_eq::<f32>(reference, Tolerance::rel_abs(1e-4, 1e-5));
                assert!(
                    reference.iter::<f32>().any(|v| v != 0.0),
                    "{backend}: tensor {index} of the reference is all zero: the test compares nothing"
                );
            }
        }
    }

    #[test]
    fn the_stage_runs_without_autodiff_and_with_untracked_inputs() {
        for backend in compiled_backends() {
            let plain = backend.device().expect("a compiled backend");
            let train = backend.train_device().expect("a compiled backend");
            for device in [plain, train] {
                let conv = |shape, phase| {
                    (
                        wavy(shape, phase, &device),
                        wavy([shape[0]], phase, &device),
                    )
                };
                let x = wavy([1, 2, 4, 4], 0.0, &device);
                let fused = conv_stage(x.clone(), conv([3, 2, 3, 3], 0.1), conv([3, 3, 3, 3], 0.2));
                let reference = composed(x, conv([3, 2, 3, 3], 0.1), conv([3, 3, 3, 3], 0.2));
                fused.into_data().assert_approx_eq::<f32>(
                    &reference.into_data(),
                    Tolerance::rel_abs(1e-4, 1e-5),
                );
            }
        }
    }

    #[test]
    #[should_panic(expected = "a conv stage needs 3x3 kernels")]
    fn kernels_other_than_3x3_are_refused() {
        let device = Device::default();
        let x = wavy([1, 2, 4, 4], 0.0, &device);
        let w = wavy([3, 2, 5, 5], 0.0, &device);
        let b = wavy([3], 0.0, &device);
        conv_stage(x, (w.clone(), b.clone()), (w, b));
    }
}
