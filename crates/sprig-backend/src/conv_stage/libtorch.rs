//! The stage on LibTorch: without autodiff, composed of burn-tch's operations (the
//! trait's default body); under autodiff, one node of Burn's graph whose forward records
//! LibTorch's own autograd graph and whose backward runs it.
//!
//! The forward detaches the inputs into fresh LibTorch leaves (sharing their storage),
//! marks the ones Burn tracks as requiring a gradient, and runs the stage with LibTorch's
//! operators; the output goes back to Burn detached. The backward seeds LibTorch's graph
//! with Burn's incoming gradient (LibTorch's `run_backward` seeds with ones, so it runs on
//! `output * gradient`, a pass over the pooled output only) and hands each tracked input
//! its gradient. LibTorch then differentiates with its native kernels
//! (`convolution_backward`, `threshold_backward`, `max_pool2d_with_indices_backward`).

use std::sync::{Arc, Mutex, PoisonError};

use burn::backend::Autodiff;
use burn::backend::LibTorch;
use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::libtorch::TchTensor;
use burn::backend::tensor::FloatTensor;

use super::ConvStageOps;

/// Inputs of the stage in the order of [`ConvStageOps::conv_stage`]: x, w1, b1, w2, b2.
const INPUTS: usize = 5;

impl ConvStageOps for LibTorch {}

impl<C: CheckpointStrategy> ConvStageOps for Autodiff<LibTorch, C> {
    fn conv_stage(
        x: FloatTensor<Self>,
        w1: FloatTensor<Self>,
        b1: FloatTensor<Self>,
        w2: FloatTensor<Self>,
        b2: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let nodes = [x.node(), w1.node(), b1.node(), w2.node(), b2.node()];
        let inputs = [x, w1, b1, w2, b2];
        match NativeStage.prepare::<C>(nodes).compute_bound().stateful() {
            OpsKind::Tracked(prep) => {
                let tracked = inputs.each_ref().map(|input| input.is_tracked());
                let inputs = inputs.map(|input| input.into_primitive());
                let graph = NativeGraph::record(inputs, tracked);
                let output = TchTensor::new(graph.output.detach());
                prep.finish(NativeGraphCell(Arc::new(Mutex::new(Some(graph)))), output)
            }
            OpsKind::UnTracked(prep) => {
                let [x, w1, b1, w2, b2] = inputs.map(|input| input.into_primitive());
                prep.finish(LibTorch::conv_stage(x, w1, b1, w2, b2))
            }
        }
    }
}

/// The stage's forward in LibTorch's operators, on tensors that may require a gradient.
fn forward(leaves: &[tch::Tensor; INPUTS]) -> tch::Tensor {
    let [x, w1, b1, w2, b2] = leaves;
    let same = |input: &tch::Tensor, weight, bias| {
        input
            .conv2d(weight, Some(bias), [1, 1], [1, 1], [1, 1], 1)
            .relu()
    };
    same(&same(x, w1, b1), w2, b2).max_pool2d([2, 2], [2, 2], [0, 0], [1, 1], false)
}

/// LibTorch's autograd graph of one stage, from its leaves to its output.
struct NativeGraph {
    /// The inputs as LibTorch leaves; those Burn tracks require a gradient.
    leaves: [tch::Tensor; INPUTS],
    /// Burn's inputs, held so that burn-tch sees their storage shared and never updates
    /// it in place while LibTorch's graph still reads it.
    _pinned: [TchTensor; INPUTS],
    /// The output with its graph (`grad_fn`) attached.
    output: tch::Tensor,
}

impl NativeGraph {
    fn record(inputs: [TchTensor; INPUTS], tracked: [bool; INPUTS]) -> Self {
        let leaves =
            std::array::from_fn(|i| inputs[i].tensor.detach().set_requires_grad(tracked[i]));
        let output = forward(&leaves);
        Self {
            leaves,
            _pinned: inputs,
            output,
        }
    }
}

/// [`NativeGraph`] in the form Burn's autodiff keeps a backward state (`Clone + Send +
/// Debug`); the backward takes the graph out, so it runs once and is freed after.
#[derive(Clone)]
struct NativeGraphCell(Arc<Mutex<Option<NativeGraph>>>);

impl std::fmt::Debug for NativeGraphCell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NativeGraphCell(LibTorch autograd graph of a conv stage)")
    }
}

/// The backward step of the stage in Burn's graph.
#[derive(Debug)]
struct NativeStage;

impl Backward<LibTorch, INPUTS> for NativeStage {
    type State = NativeGraphCell;

    fn backward(
        self,
        ops: Ops<Self::State, INPUTS>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let gradient = grads.consume::<LibTorch>(&ops.node);
        let graph = ops
            .state
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("Burn runs a node's backward step once");
        let wanted: Vec<_> = ops
            .parents
            .iter()
            .zip(&graph.leaves)
            .filter_map(|(parent, leaf)| parent.as_ref().map(|node| (node.id, leaf)))
            .collect();
        if wanted.is_empty() {
            return;
        }
        let seeded = &graph.output * &gradient.tensor;
        let leaves: Vec<&tch::Tensor> = wanted.iter().map(|(_, leaf)| *leaf).collect();
        let gradients = tch::Tensor::run_backward(&[seeded], &leaves, false, false);
        for ((id, _), gradient) in wanted.into_iter().zip(gradients) {
            grads.register::<LibTorch>(id, TchTensor::new(gradient));
        }
    }
}
