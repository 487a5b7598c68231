//! The product of a batch with a pruned linear weight, `x · W`, as a Burn backend
//! extension whose cost on flex scales with the weights that survive.
//!
//! Why an extension: a pruned weight is stored dense with zeros, so Burn's matrix
//! product (and its backward, two more products) costs as much at 98 % sparsity as
//! dense. On flex, under autodiff, this operation is one node of Burn's graph whose
//! forward and backward run the kernels of [`crate::sparse`]: the input gradient from the
//! kept entries, and the weight gradient at the kept entries only (a pruned weight gets
//! none: the masked optimiser would zero it anyway). Every other backend runs the dense
//! product (the trait's default body), so results agree up to the order of summation.
//!
//! The weight gradient is still a dense tensor (Burn's optimisers expect one), so a fresh
//! one would cost a zeroed buffer of the whole weight at every step. Instead each
//! [`SparseWeight`] keeps its gradient's buffer from step to step and writes only the
//! kept entries into it once the step before has let go of it; the rest stays zero.

#![allow(deprecated)] // burn-ndarray and burn-tch are deprecated upstream; Sprig keeps them.

use std::sync::Arc;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use crate::sparse::SparsePattern;

/// A pruned weight's pattern, with (on flex) the buffer its gradient is written into,
/// kept from one step to the next. One per layer and mask: a new mask makes a new one.
#[derive(Debug)]
pub struct SparseWeight {
    pattern: SparsePattern,
    /// The last gradient handed to Burn, zero outside the pattern's entries. Reused when
    /// nothing else holds it any more (flex copies a shared buffer before writing to it,
    /// so no one can have changed it).
    #[cfg(feature = "flex")]
    gradient: std::sync::Mutex<Option<burn_flex::FlexTensor>>,
}

impl SparseWeight {
    /// The weight that keeps `pattern`'s entries.
    pub fn new(pattern: SparsePattern) -> Self {
        Self {
            pattern,
            #[cfg(feature = "flex")]
            gradient: std::sync::Mutex::new(None),
        }
    }

    /// The kept entries.
    pub fn pattern(&self) -> &SparsePattern {
        &self.pattern
    }

    /// The reusable gradient, even after a panic while it was held (a panic leaves it
    /// zero outside the pattern: only kept entries are ever written).
    #[cfg(feature = "flex")]
    fn gradient(&self) -> std::sync::MutexGuard<'_, Option<burn_flex::FlexTensor>> {
        self.gradient
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The sparse product as a Burn backend extension: routed at run time to the backend of
/// its input.
#[backend_extension(
    Flex: cfg(feature = "flex"),
    NdArray: cfg(feature = "ndarray"),
    LibTorch: cfg(feature = "tch"),
    Autodiff
)]
pub trait SparseLinearOps: Backend {
    /// `x · W` for `x` of `[batch, inputs]` and `W` of `[inputs, outputs]` that is zero
    /// outside `sparse`'s pattern: here the dense product, which the pattern only makes
    /// cheaper.
    fn sparse_matmul(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        sparse: Arc<SparseWeight>,
    ) -> FloatTensor<Self> {
        drop(sparse);
        Self::float_matmul(x, weight)
    }
}

#[cfg(feature = "ndarray")]
mod ndarray {
    use burn::backend::Autodiff;
    use burn::backend::NdArray;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;

    impl super::SparseLinearOps for NdArray {}
    impl<C: CheckpointStrategy> super::SparseLinearOps for Autodiff<NdArray, C> {}
}

#[cfg(feature = "tch")]
mod libtorch {
    use burn::backend::Autodiff;
    use burn::backend::LibTorch;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;

    impl super::SparseLinearOps for LibTorch {}
    impl<C: CheckpointStrategy> super::SparseLinearOps for Autodiff<LibTorch, C> {}
}

#[cfg(feature = "flex")]
mod flex {
    use std::sync::Arc;

    use burn::backend::Autodiff;
    use burn::backend::Flex;
    use burn::backend::autodiff::checkpoint::base::Checkpointer;
    use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
    use burn::backend::autodiff::grads::Gradients;
    use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
    use burn::backend::ops::FloatTensorOps;
    use burn::backend::tensor::FloatTensor;
    use burn::tensor::TensorData;
    use burn_flex::FlexTensor;

    use super::{SparseLinearOps, SparseWeight};
    use crate::sparse::{BatchMajor, SparsePattern};

    /// The contiguous `f32` values of `tensor` (a copy only if it is a strided view).
    fn values(tensor: &FlexTensor) -> FlexTensor {
        if tensor.is_contiguous() {
            tensor.clone()
        } else {
            tensor.to_contiguous()
        }
    }

    fn slice(tensor: &FlexTensor) -> &[f32] {
        tensor
            .as_slice::<f32>()
            .expect("the sparse product runs on contiguous f32 tensors")
    }

    fn tensor(values: Vec<f32>, shape: [usize; 2]) -> FlexTensor {
        FlexTensor::from_data(TensorData::new(values, shape))
    }

    /// `x · W` through the kept entries; the input in batch-major order and the kept
    /// values are returned for the backward.
    fn forward(
        x: &FlexTensor,
        weight: &FlexTensor,
        pattern: &SparsePattern,
    ) -> (FlexTensor, BatchMajor, Vec<f32>) {
        let (x, weight) = (values(x), values(weight));
        let mut kept = Vec::with_capacity(pattern.kept());
        pattern.gather(slice(&weight), &mut kept);
        let xt = BatchMajor::of(slice(&x), pattern.rows());
        let y = pattern.forward(&xt, &kept);
        (tensor(y, [xt.batch(), pattern.cols()]), xt, kept)
    }

    /// The weight gradient at the kept entries, written into the buffer of the last one
    /// when nothing else holds it, else into a fresh zeroed one that is kept instead.
    fn weight_gradient(sparse: &SparseWeight, xt: &BatchMajor, dyt: &BatchMajor) -> FlexTensor {
        let pattern = sparse.pattern();
        let mut last = sparse.gradient();
        match last.as_mut().and_then(|dw| dw.try_storage_mut::<f32>()) {
            Some(dw) => pattern.weight_grad_into(xt, dyt, dw),
            None => {
                let dw = pattern.weight_grad(xt, dyt);
                *last = Some(tensor(dw, [pattern.rows(), pattern.cols()]));
            }
        }
        last.clone().expect("a gradient was just written")
    }

    fn is_f32(tensors: [&FlexTensor; 2]) -> bool {
        tensors
            .iter()
            .all(|t| t.dtype() == burn::tensor::DType::F32)
    }

    impl SparseLinearOps for Flex {
        fn sparse_matmul(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            sparse: Arc<SparseWeight>,
        ) -> FloatTensor<Self> {
            if !is_f32([&x, &weight]) {
                return Self::float_matmul(x, weight);
            }
            forward(&x, &weight, sparse.pattern()).0
        }
    }

    impl<C: CheckpointStrategy> SparseLinearOps for Autodiff<Flex, C> {
        fn sparse_matmul(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            sparse: Arc<SparseWeight>,
        ) -> FloatTensor<Self> {
            let nodes = [x.node(), weight.node()];
            match SparseMatmul.prepare::<C>(nodes).compute_bound().stateful() {
                OpsKind::Tracked(prep) => {
                    let (x, weight) = (x.into_primitive(), weight.into_primitive());
                    if !is_f32([&x, &weight]) {
                        panic!("the sparse product trains f32 weights only");
                    }
                    let (output, xt, kept) = forward(&x, &weight, sparse.pattern());
                    let state = SparseState {
                        xt: Arc::new(xt),
                        kept: Arc::new(kept),
                        sparse,
                    };
                    prep.finish(state, output)
                }
                OpsKind::UnTracked(prep) => prep.finish(Flex::sparse_matmul(
                    x.into_primitive(),
                    weight.into_primitive(),
                    sparse,
                )),
            }
        }
    }

    /// What the backward needs: the input (batch-major, as the forward made it), the kept
    /// weight values and the weight's pattern (with its gradient's buffer).
    #[derive(Debug, Clone)]
    struct SparseState {
        xt: Arc<BatchMajor>,
        kept: Arc<Vec<f32>>,
        sparse: Arc<SparseWeight>,
    }

    /// The backward step of the sparse product in Burn's graph.
    #[derive(Debug)]
    struct SparseMatmul;

    impl Backward<Flex, 2> for SparseMatmul {
        type State = SparseState;

        fn backward(
            self,
            ops: Ops<Self::State, 2>,
            grads: &mut Gradients,
            _checkpointer: &mut Checkpointer,
        ) {
            let dy = values(&grads.consume::<Flex>(&ops.node));
            let SparseState { xt, kept, sparse } = ops.state;
            let pattern = sparse.pattern();
            // Transposed once, for both gradients.
            let dyt = BatchMajor::of(slice(&dy), pattern.cols());
            let [x_parent, weight_parent] = ops.parents;
            if let Some(node) = x_parent {
                let dx = pattern.input_grad(&dyt, &kept);
                grads.register::<Flex>(node.id, tensor(dx, [xt.batch(), pattern.rows()]));
            }
            if let Some(node) = weight_parent {
                grads.register::<Flex>(node.id, weight_gradient(&sparse, &xt, &dyt));
            }
        }
    }
}

/// `x · W` for `x` of `[batch, inputs]` and a weight `W` of `[inputs, outputs]` that is
/// zero outside `sparse`'s pattern: sparse on flex, the dense product elsewhere.
///
/// # Panics
/// When the shapes do not match the pattern (a model built wrongly, not user input).
pub fn sparse_matmul(x: Tensor<2>, weight: Tensor<2>, sparse: Arc<SparseWeight>) -> Tensor<2> {
    let pattern = sparse.pattern();
    let [_, inputs] = x.dims();
    assert!(
        weight.dims() == [pattern.rows(), pattern.cols()] && inputs == pattern.rows(),
        "a sparse product of {:?} by {:?} needs a {}×{} pattern",
        x.dims(),
        weight.dims(),
        pattern.rows(),
        pattern.cols()
    );
    Tensor::from_dispatch(<Dispatch as SparseLinearOps>::sparse_matmul(
        x.into_dispatch(),
        weight.into_dispatch(),
        sparse,
    ))
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor, TensorData, Tolerance};

    use super::*;
    use crate::compiled_backends;

    /// Deterministic values in [-1, 1] without a random number generator.
    fn wavy(shape: [usize; 2], phase: f32, device: &Device) -> Tensor<2> {
        let values: Vec<f32> = (0..shape[0] * shape[1])
            .map(|i| (i as f32 * 0.737 + phase).sin())
            .collect();
        Tensor::from_data(TensorData::new(values, shape), device)
    }

    /// Every third entry kept, the weight zero elsewhere, as a pruned weight is.
    fn pruned(device: &Device) -> (Tensor<2>, Arc<SparseWeight>) {
        let (rows, cols) = (7, 5);
        let kept: Vec<usize> = (0..rows * cols).filter(|i| i % 3 == 0).collect();
        let mask: Vec<f32> = (0..rows * cols)
            .map(|i| if i % 3 == 0 { 1.0 } else { 0.0 })
            .collect();
        let mask = Tensor::from_data(TensorData::new(mask, [rows, cols]), device);
        let pattern = SparsePattern::from_kept(rows, cols, kept).expect("a valid pattern");
        let weight = SparseWeight::new(pattern);
        (wavy([rows, cols], 0.3, device) * mask, Arc::new(weight))
    }

    /// Output and the gradients of x and W for a weighted sum of the output (weighted by
    /// a wave of `phase`), sparse through `sparse` when given.
    fn output_and_gradients(
        w: &Tensor<2>,
        sparse: Option<&Arc<SparseWeight>>,
        phase: f32,
    ) -> [Tensor<2>; 3] {
        let device = w.device();
        let x = wavy([4, 7], 0.1, &device).require_grad();
        let w = w.clone().require_grad();
        let y = match sparse {
            Some(sparse) => sparse_matmul(x.clone(), w.clone(), Arc::clone(sparse)),
            None => x.clone().matmul(w.clone()),
        };
        let grads = (y.clone() * wavy([4, 5], phase, &device)).sum().backward();
        let dx = x.grad(&grads).expect("x is tracked");
        [y, dx, w.grad(&grads).expect("W is tracked")]
    }

    /// The same with the weight gradient masked as the optimiser masks it, as data.
    fn masked_data(w: &Tensor<2>, sparse: Option<&Arc<SparseWeight>>) -> Vec<TensorData> {
        let mask = w.clone().not_equal_elem(0.0).float();
        let [y, dx, dw] = output_and_gradients(w, sparse, 0.6);
        vec![y.into_data(), dx.into_data(), (dw * mask).into_data()]
    }

    /// W's gradient, masked, as data.
    fn masked_weight_grad(w: &Tensor<2>, dw: &Tensor<2>) -> TensorData {
        (dw.clone() * w.clone().not_equal_elem(0.0).float()).into_data()
    }

    #[test]
    fn the_sparse_product_equals_the_dense_one_with_gradients_on_every_backend() {
        for backend in compiled_backends() {
            let device = backend.train_device().expect("a compiled backend");
            let (w, weight) = pruned(&device);
            let sparse = masked_data(&w, Some(&weight));
            let dense = masked_data(&w, None);
            for (index, (sparse, dense)) in sparse.iter().zip(&dense).enumerate() {
                sparse.assert_approx_eq::<f32>(dense, Tolerance::rel_abs(1e-5, 1e-6));
                assert!(
                    dense.iter::<f32>().any(|v| v != 0.0),
                    "{backend}: tensor {index} is all zero: the test compares nothing"
                );
            }
        }
    }

    /// A weight's gradient buffer is written again only once nothing holds the gradient
    /// last written into it: a gradient still held keeps its values, each gradient equals
    /// the dense product's, and (where the product is sparse) is zero outside the pattern.
    #[test]
    fn a_held_weight_gradient_is_never_overwritten() {
        let tolerance = Tolerance::rel_abs(1e-5, 1e-6);
        for &backend in compiled_backends() {
            let device = backend.train_device().expect("a compiled backend");
            let (w, weight) = pruned(&device);
            let dense = |phase| masked_weight_grad(&w, &output_and_gradients(&w, None, phase)[2]);
            let [_, _, held] = output_and_gradients(&w, Some(&weight), 0.6);
            let before = held.clone().into_data();
            let [_, _, second] = output_and_gradients(&w, Some(&weight), 1.7);
            held.clone().into_data().assert_eq(&before, true);
            masked_weight_grad(&w, &second).assert_approx_eq::<f32>(&dense(1.7), tolerance);
            drop((held, second));
            let [_, _, third] = output_and_gradients(&w, Some(&weight), 2.9);
            let masked = masked_weight_grad(&w, &third);
            masked.assert_approx_eq::<f32>(&dense(2.9), tolerance);
            if backend == crate::Backend::Flex {
                third.into_data().assert_eq(&masked, true);
            }
        }
    }

    #[test]
    fn the_sparse_product_runs_without_autodiff() {
        for backend in compiled_backends() {
            let device = backend.device().expect("a compiled backend");
            let (w, pattern) = pruned(&device);
            let x = wavy([3, 7], 0.2, &device);
            sparse_matmul(x.clone(), w.clone(), pattern)
                .into_data()
                .assert_approx_eq::<f32>(&x.matmul(w).into_data(), Tolerance::rel_abs(1e-5, 1e-6));
        }
    }
}
