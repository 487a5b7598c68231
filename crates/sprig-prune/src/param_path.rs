//! The dotted path of the parameter a Burn visitor or mapper is at (`fc1.weight`).

/// Follows `enter_module` / `exit_module` calls and names the current parameter.
#[derive(Debug, Default)]
pub(crate) struct ParamPath {
    parts: Vec<String>,
}

impl ParamPath {
    pub(crate) fn enter(&mut self, name: &str) {
        self.parts.push(name.to_string());
    }

    pub(crate) fn exit(&mut self) {
        self.parts.pop();
    }

    /// The path of the parameter being visited, parts joined with `.`.
    pub(crate) fn current(&self) -> String {
        self.parts.join(".")
    }
}
