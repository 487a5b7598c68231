//! A linear layer that, once pruned hard enough, computes with the surviving weights only.

use std::sync::Arc;

use burn::module::{Module, Param};
use burn::nn::LinearConfig;
use burn::tensor::{Device, Tensor};
use sprig_backend::SparseWeight;
use sprig_backend::sparse::SparsePattern;
use sprig_mask::Mask;

/// The share of kept weights at or below which a layer uses the sparse product: there the
/// sparse kernels do a fifth of the dense product's arithmetic or less, which pays for
/// their less regular memory access (the crossover is machine-dependent; the step
/// benchmark measures it).
pub const SPARSE_AT_MOST: f64 = 0.2;

/// Burn's `Linear` (`y = x · W + b`, `W` of `[inputs, outputs]`, the same parameter names
/// and θ0), plus the pattern of the weights its mask keeps: with one, the product runs
/// through `sprig_backend::sparse_matmul`, whose cost scales with the kept weights.
#[derive(Module, Debug)]
pub struct PrunableLinear {
    /// `[inputs, outputs]`.
    pub weight: Param<Tensor<2>>,
    /// `[outputs]`.
    pub bias: Option<Param<Tensor<1>>>,
    /// The kept entries of `weight` (and its gradient's buffer), when few enough to
    /// compute sparsely.
    #[module(skip)]
    sparse: Option<Arc<SparseWeight>>,
}

impl PrunableLinear {
    /// A layer of `inputs` × `outputs` with a bias; weights are placeholders until θ0 is
    /// loaded.
    pub fn new(inputs: usize, outputs: usize, device: &Device) -> Self {
        let linear = LinearConfig::new(inputs, outputs).init(device);
        Self {
            weight: linear.weight,
            bias: linear.bias,
            sparse: None,
        }
    }

    /// `x · W + b` for `x` of `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let weight = self.weight.val();
        let y = match &self.sparse {
            Some(sparse) => sprig_backend::sparse_matmul(x, weight, Arc::clone(sparse)),
            None => x.matmul(weight),
        };
        match &self.bias {
            Some(bias) => y + bias.val().unsqueeze::<2>(),
            None => y,
        }
    }

    /// Computes sparsely from now on if `mask` (of this layer's weight) keeps at most
    /// [`SPARSE_AT_MOST`] of it, densely otherwise (or without a mask).
    pub fn use_mask(&mut self, mask: Option<&Mask>) {
        let [rows, cols] = self.weight.dims();
        self.sparse = mask
            .filter(|m| m.len() == rows * cols)
            .filter(|m| m.kept_count() as f64 <= SPARSE_AT_MOST * (rows * cols) as f64)
            .and_then(|m| SparsePattern::from_kept(rows, cols, m.kept_indices()).ok())
            .map(|pattern| Arc::new(SparseWeight::new(pattern)));
    }

    /// Whether the layer computes sparsely.
    pub fn is_sparse(&self) -> bool {
        self.sparse.is_some()
    }
}
