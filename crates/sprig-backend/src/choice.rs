//! What a run asks for: a backend by name, or `auto`, the fastest of those compiled in,
//! measured on the run's own model and data when it starts.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Backend, BackendError, compiled_backends};

/// The backend a run asks for. Serialised as the backend's name or `auto`, so an
/// experiment naming a backend keeps the canonical form (and run folder) it had before
/// `auto` existed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum BackendChoice {
    /// Profile a few steps on every compiled CPU backend ([`BackendChoice::candidates`])
    /// and train on the fastest.
    #[default]
    Auto,
    /// This backend, whatever the others would cost.
    Named(Backend),
}

impl BackendChoice {
    /// The backend it names, if it names one.
    pub fn named(self) -> Option<Backend> {
        match self {
            BackendChoice::Auto => None,
            BackendChoice::Named(b) => Some(b),
        }
    }

    /// The named backend, or for `auto` the default one: for work too short to be worth
    /// a race (evaluating or exporting a ticket), whose results do not depend on the
    /// backend beyond floating-point tolerance.
    pub fn or_default(self) -> Backend {
        self.named().unwrap_or_else(Backend::default_compiled)
    }

    /// The backends `auto` races, preferred first: every compiled CPU backend, the
    /// default first (CUDA is never raced: whether to use a GPU is the user's call).
    pub fn candidates() -> &'static [Backend] {
        compiled_backends()
    }
}

impl From<Backend> for BackendChoice {
    fn from(backend: Backend) -> Self {
        BackendChoice::Named(backend)
    }
}

impl fmt::Display for BackendChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BackendChoice::Auto => f.write_str("auto"),
            BackendChoice::Named(b) => b.fmt(f),
        }
    }
}

impl FromStr for BackendChoice {
    type Err = BackendError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        if name.trim().eq_ignore_ascii_case("auto") {
            Ok(BackendChoice::Auto)
        } else {
            name.parse().map(BackendChoice::Named)
        }
    }
}

impl TryFrom<String> for BackendChoice {
    type Error = BackendError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<BackendChoice> for String {
    fn from(value: BackendChoice) -> Self {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_a_named_backend_serialises_as_before() {
        for (name, expect) in [
            ("auto", "auto"),
            ("AUTO", "auto"),
            ("flex", "flex"),
            ("tch", "tch-cpu"),
            ("tch-cuda:1", "tch-cuda:1"),
        ] {
            let choice: BackendChoice = name.parse().expect(name);
            assert_eq!(choice.to_string(), expect, "{name}");
            let json = serde_json::to_string(&choice).expect("serialises");
            assert_eq!(json, format!("\"{expect}\""), "{name}");
        }
        let named = serde_json::to_string(&BackendChoice::Named(Backend::Flex)).expect("json");
        assert_eq!(named, serde_json::to_string(&Backend::Flex).expect("json"));
        assert!("fast".parse::<BackendChoice>().is_err());
    }
}
