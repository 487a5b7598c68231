//! Runs an exported ONNX model with tract (feature `tract`): the ONNX runtime a Rust user
//! would pick instead of Sprig's, which the agreement tests check the ONNX export against
//! and the edge table times beside the sparse runtime.

// The prelude brings the traits whose methods load and plan a model.
use tract_onnx::prelude::*;

use crate::ExportError;

type Run = Box<dyn Fn(Tensor) -> TractResult<TVec<TValue>> + Send + Sync>;

/// An ONNX model loaded and optimised by tract, for inputs of one fixed shape.
pub struct TractModel {
    run: Run,
    input: Vec<usize>,
}

impl std::fmt::Debug for TractModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractModel")
            .field("input", &self.input)
            .finish_non_exhaustive()
    }
}

impl TractModel {
    /// Loads the ONNX model in `bytes`, which takes one input of `input`'s shape
    /// (`[1, channels, height, width]` for a Sprig export).
    ///
    /// # Errors
    /// [`ExportError::Onnx`] with tract's reason when it cannot read or plan the model.
    pub fn load(bytes: &[u8], input: &[usize]) -> Result<Self, ExportError> {
        let plan = tract_onnx::onnx()
            .model_for_read(&mut &*bytes)
            .and_then(|m| m.into_optimized())
            .and_then(|m| m.into_runnable())
            .map_err(onnx_error)?;
        Ok(Self {
            run: Box::new(move |x: Tensor| plan.run(tvec!(x.into_tvalue()))),
            input: input.to_vec(),
        })
    }

    /// The model's first output, flattened, for one input of the loaded shape.
    ///
    /// # Errors
    /// [`ExportError::Onnx`] for an input of another length or a failed run.
    pub fn forward(&self, input: &[f32]) -> Result<Vec<f32>, ExportError> {
        let x = Tensor::from_shape(&self.input, input).map_err(onnx_error)?;
        let out = (self.run)(x).map_err(onnx_error)?;
        let first = out
            .first()
            .ok_or_else(|| ExportError::Onnx("the model has no output".into()))?;
        let view = first.to_plain_array_view::<f32>().map_err(onnx_error)?;
        Ok(view.iter().copied().collect())
    }
}

fn onnx_error(e: impl std::fmt::Display) -> ExportError {
    ExportError::Onnx(format!("tract: {e:#}"))
}
