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

#![allow(deprecated)] // burn-ndarray and burn-tch are deprecated upstream; Sprig keeps them.

use std::sync::Arc;

use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, Dispatch, backend_extension};
use burn::tensor::Tensor;

use crate::sparse::SparsePattern;

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
    /// outside `pattern`: here the dense product, which the pattern only makes cheaper.
    fn sparse_matmul(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        pattern: Arc<SparsePattern>,
    ) -> FloatTensor<Self> {
        drop(pattern);
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

    use super::SparseLinearOps;
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
        let mut y = vec![0.0; xt.batch() * pattern.cols()];
        pattern.forward(&xt, &kept, &mut y);
        (tensor(y, [xt.batch(), pattern.cols()]), xt, kept)
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
            pattern: Arc<SparsePattern>,
        ) -> FloatTensor<Self> {
            if !is_f32([&x, &weight]) {
                return Self::float_matmul(x, weight);
            }
            forward(&x, &weight, &pattern).0
        }
    }

    impl<C: CheckpointStrategy> SparseLinearOps for Autodiff<Flex, C> {
        fn sparse_matmul(
            x: FloatTensor<Self>,
            weight: FloatTensor<Self>,
            pattern: Arc<SparsePattern>,
        ) -> FloatTensor<Self> {
            let nodes = [x.node(), weight.node()];
            match SparseMatmul.prepare::<C>(nodes).compute_bound().stateful() {
                OpsKind::Tracked(prep) => {
                    let (x, weight) = (x.into_primitive(), weight.into_primitive());
                    if !is_f32([&x, &weight]) {
                        panic!("the sparse product trains f32 weights only");
                    }
                    let (output, xt, kept) = forward(&x, &weight, &pattern);
                    let state = SparseState {
                        xt: Arc::new(xt),
                        kept: Arc::new(kept),
                        pattern,
                    };
                    prep.finish(state, output)
                }
                OpsKind::UnTracked(prep) => prep.finish(Flex::sparse_matmul(
                    x.into_primitive(),
                    weight.into_primitive(),
                    pattern,
                )),
            }
        }
    }

    /// What the backward needs: the input (batch-major, as the forward made it), the kept
    /// weight values and the pattern.
    #[derive(Debug, Clone)]
    struct SparseState {
        xt: Arc<BatchMajor>,
        kept: Arc<Vec<f32>>,
        pattern: Arc<SparsePattern>,
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
            let SparseState { xt, kept, pattern } = ops.state;
            // Transposed once, for both gradients.
            let dyt = BatchMajor::of(slice(&dy), pattern.cols());
            let [x_parent, weight_parent] = ops.parents;
            if let Some(node) = x_parent {
                let mut dx = vec![0.0; xt.batch() * pattern.rows()];
                pattern.input_grad(&dyt, &kept, &mut dx);
                grads.register::<Flex>(node.id, tensor(dx, [xt.batch(), pattern.rows()]));
            }
            if let Some(node) = weight_parent {
                let dw = pattern.weight_grad(&xt, &dyt);
                grads.register::<Flex>(node.id, tensor(dw, [pattern.rows(), pattern.cols()]));
            }
        }
    }
}

/// `x · W` for `x` of `[batch, inputs]` and a weight `W` of `[inputs, outputs]` that is
/// zero outside `pattern`: sparse on flex, the dense product elsewhere.
///
/// # Panics
/// When the shapes do not match the pattern (a model built wrongly, not user input).
pub fn sparse_matmul(x: Tensor<2>, weight: Tensor<2>, pattern: Arc<SparsePattern>) -> Tensor<2> {
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
        pattern,
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
    fn pruned(device: &Device) -> (Tensor<2>, Arc<SparsePattern>) {
        let (rows, cols) = (7, 5);
        let kept: Vec<usize> = (0..rows * cols).filter(|i| i % 3 == 0).collect();
        let mask: Vec<f32> = (0..rows * cols)
            .map(|i| if i % 3 == 0 { 1.0 } else { 0.0 })
            .collect();
        let mask = Tensor::from_data(TensorData::new(mask, [rows, cols]), device);
        let pattern = SparsePattern::from_kept(rows, cols, kept).expect("a valid pattern");
        (wavy([rows, cols], 0.3, device) * mask, Arc::new(pattern))
    }

    /// Output and the gradients of x and W for a weighted sum of the output, with the
    /// weight gradient masked as the optimiser masks it.
    fn output_and_gradients(sparse: bool, device: &Device) -> Vec<TensorData> {
        let (w, pattern) = pruned(device);
        let mask = w.clone().not_equal_elem(0.0).float();
        let x = wavy([4, 7], 0.1, device).require_grad();
        let w = w.require_grad();
        let y = if sparse {
            sparse_matmul(x.clone(), w.clone(), pattern)
        } else {
            x.clone().matmul(w.clone())
        };
        let grads = (y.clone() * wavy([4, 5], 0.6, device)).sum().backward();
        let dw = w.grad(&grads).expect("W is tracked") * mask;
        vec![
            y.into_data(),
            x.grad(&grads).expect("x is tracked").into_data(),
            dw.into_data(),
        ]
    }

    #[test]
    fn the_sparse_product_equals_the_dense_one_with_gradients_on_every_backend() {
        for backend in compiled_backends() {
            let device = backend.train_device().expect("a compiled backend");
            let sparse = output_and_gradients(true, &device);
            let dense = output_and_gradients(false, &device);
            for (index, (sparse, dense)) in sparse.iter().zip(&dense).enumerate() {
                sparse.assert_approx_eq::<f32>(dense, Tolerance::rel_abs(1e-5, 1e-6));
                assert!(
                    dense.iter::<f32>().any(|v| v != 0.0),
                    "{backend}: tensor {index} is all zero: the test compares nothing"
                );
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
