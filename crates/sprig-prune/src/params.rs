//! Reading a module's float parameters into a [`Snapshot`] and writing one back.
//!
//! Writing back happens *in place*: each parameter keeps its [`ParamId`](burn::module::ParamId),
//! so a rewind (θ0 loaded into the trained model) keeps the ids the masks and the optimizer
//! are keyed by. Building a new model instead would give new ids.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};
use sprig_mask::Snapshot;

use crate::PruneError;
use crate::param_path::ParamPath;

/// Every float parameter of `module` with its path and shape, in visiting order.
pub fn tensor_shapes<M: Module>(module: &M) -> Vec<(String, Vec<usize>)> {
    #[derive(Default)]
    struct Shapes {
        path: ParamPath,
        found: Vec<(String, Vec<usize>)>,
    }
    impl ModuleVisitor for Shapes {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.enter(name);
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.exit();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            self.found
                .push((self.path.current(), param.val().dims().to_vec()));
        }
    }
    let mut shapes = Shapes::default();
    module.visit(&mut shapes);
    shapes.found
}

/// A copy of every float parameter of `module` (weights, biases, norms), by path.
pub fn snapshot<M: Module>(module: &M) -> Result<Snapshot, PruneError> {
    struct Reader {
        path: ParamPath,
        snapshot: Snapshot,
        error: Option<PruneError>,
    }
    impl ModuleVisitor for Reader {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.enter(name);
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.exit();
        }
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            if self.error.is_some() {
                return;
            }
            let path = self.path.current();
            let tensor = param.val();
            let shape = tensor.dims().to_vec();
            let values = tensor
                .into_data()
                .convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| PruneError::Read {
                    path: path.clone(),
                    message: format!("{e:?}"),
                });
            match values.and_then(|v| Ok(self.snapshot.insert(path, shape, v)?)) {
                Ok(()) => {}
                Err(e) => self.error = Some(e),
            }
        }
    }
    let mut reader = Reader {
        path: ParamPath::default(),
        snapshot: Snapshot::new(),
        error: None,
    };
    module.visit(&mut reader);
    match reader.error {
        Some(e) => Err(e),
        None => Ok(reader.snapshot),
    }
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
    struct Writer<'a> {
        path: ParamPath,
        snapshot: &'a Snapshot,
    }
    impl ModuleMapper for Writer<'_> {
        fn enter_module(&mut self, name: &str, _: &str) {
            self.path.enter(name);
        }
        fn exit_module(&mut self, _: &str, _: &str) {
            self.path.exit();
        }
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            let Some(saved) = self.snapshot.get(&self.path.current()) else {
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
    Ok(module.map(&mut Writer {
        path: ParamPath::default(),
        snapshot,
    }))
}
