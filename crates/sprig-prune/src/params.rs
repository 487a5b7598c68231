//! Reading a module's float parameters into a [`Snapshot`] and writing one back.
//!
//! Writing back happens *in place*: each parameter keeps its [`ParamId`](burn::module::ParamId),
//! so a rewind (θ0 loaded into the trained model) keeps the ids the masks and the optimizer
//! are keyed by. Building a new model instead would give new ids.

use burn::module::{Module, Param};
use burn::tensor::{Tensor, TensorData};
use sprig_mask::Snapshot;

use crate::PruneError;
use crate::param_path::{FloatMapper, FloatVisitor, map_floats, visit_floats};

/// Every float parameter of `module` with its path and shape, in visiting order.
pub fn tensor_shapes<M: Module>(module: &M) -> Vec<(String, Vec<usize>)> {
    struct Shapes(Vec<(String, Vec<usize>)>);
    impl FloatVisitor for Shapes {
        fn visit<const D: usize>(&mut self, path: &str, param: &Param<Tensor<D>>) {
            self.0.push((path.to_string(), param.val().dims().to_vec()));
        }
    }
    visit_floats(module, Shapes(Vec::new())).0
}

/// A copy of every float parameter of `module` (weights, biases, norms), by path.
pub fn snapshot<M: Module>(module: &M) -> Result<Snapshot, PruneError> {
    struct Reader(Result<Snapshot, PruneError>);
    impl FloatVisitor for Reader {
        fn visit<const D: usize>(&mut self, path: &str, param: &Param<Tensor<D>>) {
            let Ok(snapshot) = &mut self.0 else {
                return;
            };
            let tensor = param.val();
            let shape = tensor.dims().to_vec();
            let read = tensor
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| PruneError::Read {
                    path: path.to_string(),
                    message: format!("{e:?}"),
                })
                .and_then(|mut values| {
                    // Masking multiplies, so a pruned negative weight reads as -0.0: every
                    // saved weight that is zero is +0.0 (`x + 0.0` maps only -0.0 to +0.0).
                    values.iter_mut().for_each(|v| *v += 0.0);
                    Ok(snapshot.insert(path, shape, values)?)
                });
            if let Err(e) = read {
                self.0 = Err(e);
            }
        }
    }
    visit_floats(module, Reader(Ok(Snapshot::new()))).0
}

/// Writes the tensors of `snapshot` into the parameters of `module` with the same path,
/// keeping each parameter's id and gradient setting. Parameters the snapshot does not name
/// are left as they are; a snapshot tensor with no parameter, or of another shape, is an error.
pub fn load_snapshot<M: Module>(module: M, snapshot: &Snapshot) -> Result<M, PruneError> {
    let shapes = tensor_shapes(&module);
    for (name, tensor) in snapshot.iter() {
        match shapes.iter().find(|(path, _)| path == name) {
            None => {
                return Err(PruneError::Parameter {
                    path: name.to_string(),
                    problem: "the snapshot has it but the module has no such parameter".into(),
                });
            }
            Some((_, shape)) if shape.as_slice() != tensor.shape() => {
                return Err(PruneError::Parameter {
                    path: name.to_string(),
                    problem: format!(
                        "the module's shape is {shape:?} but the snapshot's is {:?}",
                        tensor.shape()
                    ),
                });
            }
            Some(_) => {}
        }
    }
    struct Writer<'a>(&'a Snapshot);
    impl FloatMapper for Writer<'_> {
        fn map<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let Some(saved) = self.0.get(path) else {
                return param;
            };
            param.map(|tensor| {
                let require_grad = tensor.is_require_grad();
                let data = TensorData::new(saved.values().to_vec(), saved.shape().to_vec());
                Tensor::<D>::from_data(data, &tensor.device())
                    .detach()
                    .set_require_grad(require_grad)
            })
        }
    }
    Ok(map_floats(module, Writer(snapshot)))
}
