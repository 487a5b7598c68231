//! Visiting and mapping a module's float parameters by their dotted path (`fc1.weight`).
//!
//! Burn's visitors see `enter_module` / `exit_module` calls and bare parameters; every
//! Sprig traversal wants the parameter *with its path*, so the path bookkeeping lives here
//! once and the traversals implement [`FloatVisitor`] or [`FloatMapper`].

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Sees every float parameter of a module with its path.
pub(crate) trait FloatVisitor {
    fn visit<const D: usize>(&mut self, path: &str, param: &Param<Tensor<D>>);
}

/// Rewrites every float parameter of a module, knowing its path.
pub(crate) trait FloatMapper {
    fn map<const D: usize>(&mut self, path: &str, param: Param<Tensor<D>>) -> Param<Tensor<D>>;
}

/// Runs `visitor` over the float parameters of `module` and hands it back.
pub(crate) fn visit_floats<M: Module, V: FloatVisitor>(module: &M, visitor: V) -> V {
    let mut walker = Walker {
        parts: Vec::new(),
        inner: visitor,
    };
    module.visit(&mut walker);
    walker.inner
}

/// Runs `mapper` over the float parameters of `module`.
pub(crate) fn map_floats<M: Module, F: FloatMapper>(module: M, mapper: F) -> M {
    module.map(&mut Walker {
        parts: Vec::new(),
        inner: mapper,
    })
}

/// Follows `enter_module` / `exit_module` and names the current parameter.
struct Walker<T> {
    parts: Vec<String>,
    inner: T,
}

impl<T> Walker<T> {
    fn enter(&mut self, name: &str) {
        self.parts.push(name.to_string());
    }

    fn exit(&mut self) {
        self.parts.pop();
    }

    fn path(&self) -> String {
        self.parts.join(".")
    }
}

impl<V: FloatVisitor> ModuleVisitor for Walker<V> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.exit();
    }
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let path = self.path();
        self.inner.visit(&path, param);
    }
}

impl<F: FloatMapper> ModuleMapper for Walker<F> {
    fn enter_module(&mut self, name: &str, _: &str) {
        self.enter(name);
    }
    fn exit_module(&mut self, _: &str, _: &str) {
        self.exit();
    }
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
        let path = self.path();
        self.inner.map(&path, param)
    }
}
