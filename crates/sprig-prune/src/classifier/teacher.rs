//! Knowledge distillation for the classifier trainee: a teacher's softened outputs for
//! the training examples, and the loss that blends them with the labels'.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Tensor, TensorData};
use sprig_models::Classifier;

use crate::PruneError;
use crate::classifier::LabelledData;
use crate::engine::Distillation;

/// A teacher and its softened outputs, computed the first time each training example is
/// drawn: one forward pass per example in all, spread over the first epoch, paid for step
/// by step under the deadline instead of in one pass the budget cannot stop.
pub(crate) struct Teacher<M> {
    /// Without autodiff, computing densely (no masks).
    model: M,
    distillation: Distillation,
    /// `softmax(logits / T)` per example, row after row; empty until the first batch
    /// tells the number of classes.
    targets: Vec<f32>,
    classes: usize,
    known: Vec<bool>,
}

impl<M: Classifier> Teacher<M> {
    /// A teacher for a training split of `examples`; `model` must be without autodiff.
    pub(crate) fn new(model: M, distillation: Distillation, examples: usize) -> Self {
        Self {
            model,
            distillation,
            targets: Vec::new(),
            classes: 0,
            known: vec![false; examples],
        }
    }

    /// The softened outputs for `indices`, `[batch, classes]` on `device`; examples seen
    /// for the first time go through the teacher on `eval_device`.
    pub(crate) fn targets<D: LabelledData<Input = M::Input>>(
        &mut self,
        data: &mut D,
        indices: &[usize],
        eval_device: &Device,
        device: &Device,
    ) -> Result<Tensor<2>, PruneError> {
        let missing: Vec<usize> = indices
            .iter()
            .copied()
            .filter(|&i| !self.known[i])
            .collect();
        if !missing.is_empty() {
            self.compute(data, &missing, eval_device)?;
        }
        let c = self.classes;
        let mut rows = Vec::with_capacity(indices.len() * c);
        for &i in indices {
            rows.extend_from_slice(&self.targets[i * c..(i + 1) * c]);
        }
        Ok(Tensor::from_data(
            TensorData::new(rows, [indices.len(), c]),
            device,
        ))
    }

    fn compute<D: LabelledData<Input = M::Input>>(
        &mut self,
        data: &mut D,
        indices: &[usize],
        eval_device: &Device,
    ) -> Result<(), PruneError> {
        let (inputs, _) = data.batch(indices, eval_device)?;
        let logits = self.model.forward(inputs);
        let [batch, classes] = logits.dims();
        let soft = softmax(logits.div_scalar(self.distillation.temperature), 1);
        let values: Vec<f32> = soft.into_data().try_to_vec().map_err(|e| {
            PruneError::Config(format!("the teacher's outputs could not be read: {e:?}"))
        })?;
        if self.targets.is_empty() {
            self.classes = classes;
            self.targets = vec![0.0; self.known.len() * classes];
        }
        debug_assert_eq!(batch, indices.len());
        for (row, &i) in values.chunks_exact(classes).zip(indices) {
            self.targets[i * classes..(i + 1) * classes].copy_from_slice(row);
            self.known[i] = true;
        }
        Ok(())
    }

    pub(crate) fn distillation(&self) -> Distillation {
        self.distillation
    }
}

/// `(1 - weight) * hard + weight * T² * CE(targets, softmax(logits / T))`, the batch's
/// mean; `hard` is the labels' cross-entropy of the same logits.
pub(crate) fn blend(
    distillation: Distillation,
    hard: Tensor<1>,
    logits: Tensor<2>,
    targets: Tensor<2>,
) -> Tensor<1> {
    let Distillation {
        temperature: t,
        weight,
    } = distillation;
    let log_student = log_softmax(logits.div_scalar(t), 1);
    let soft = (targets * log_student).sum_dim(1).mean().mul_scalar(-t * t);
    hard.mul_scalar(1.0 - weight) + soft.mul_scalar(weight)
}
