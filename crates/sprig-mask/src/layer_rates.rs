//! Pruning scope and per-layer-kind rate multipliers.
//!
//! Different layer kinds tolerate different pruning rates (the Lottery
//! Ticket Hypothesis paper prunes convolutions and the output layer more
//! gently than fully-connected layers). That policy is *data*: a map from
//! the kind string of a [`MaskSet`](crate::MaskSet) entry to a multiplier of
//! the base rate, so new kinds need no new code.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{MaskError, Result};

/// How surviving weights are grouped before the lowest-scored are pruned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scope {
    /// Tensors with equal rate multiplier are pooled and ranked together,
    /// so with uniform multipliers the whole network is one pool (global
    /// magnitude pruning, which lets layers end at different sparsities).
    Global,
    /// Each tensor is its own group and loses the same fraction of its
    /// survivors (scaled by its kind's multiplier).
    Layerwise,
}

impl Scope {
    /// The name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Scope::Global => "global",
            Scope::Layerwise => "layerwise",
        }
    }
}

impl std::fmt::Display for Scope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Scope {
    type Err = MaskError;

    fn from_str(text: &str) -> Result<Self> {
        [Scope::Global, Scope::Layerwise]
            .into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(text.trim()))
            .ok_or_else(|| MaskError::UnknownScope {
                name: text.to_string(),
            })
    }
}

/// Multiplier of the base pruning rate per layer kind; kinds not listed use
/// `1.0`. A multiplier of `0.0` exempts a kind from pruning. The effective
/// rate of a group is `min(1, base_rate × multiplier)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(try_from = "BTreeMap<String, f64>", into = "BTreeMap<String, f64>")]
pub struct LayerRates {
    multipliers: BTreeMap<String, f64>,
}

impl LayerRates {
    /// Layer kind of fully-connected (hidden) layers in [`LayerRates::lth`].
    pub const LINEAR: &'static str = "linear";
    /// Layer kind of convolutions in [`LayerRates::lth`].
    pub const CONV: &'static str = "conv";
    /// Layer kind of the final classifier layer in [`LayerRates::lth`].
    pub const OUTPUT: &'static str = "output";
    /// Layer kind of embedding tables (rate multiplier 1 in [`LayerRates::lth`]).
    pub const EMBEDDING: &'static str = "embedding";
    /// Layer kind of a prunable tensor of fewer than two dimensions (a bias named by an
    /// include pattern).
    pub const VECTOR: &'static str = "vector";
    /// Every layer kind a discovered tensor can have.
    pub const KINDS: [&'static str; 5] = [
        Self::VECTOR,
        Self::CONV,
        Self::LINEAR,
        Self::OUTPUT,
        Self::EMBEDDING,
    ];

    /// Sets the multiplier of the tensors of every kind that `pattern` matches
    /// ([`PatternKind`]s): a rate a user gives by path pattern.
    ///
    /// # Errors
    /// As [`LayerRates::set`].
    pub fn set_for_pattern(&mut self, pattern: &str, multiplier: f64) -> Result<()> {
        Self::KINDS
            .iter()
            .try_for_each(|&kind| self.set(PatternKind { kind, pattern }.to_string(), multiplier))
    }

    /// Every kind at multiplier `1.0`.
    #[must_use]
    pub fn uniform() -> Self {
        Self::default()
    }

    /// The convention of Frankle & Carbin, "The Lottery Ticket Hypothesis"
    /// (ICLR 2019), relative to the fully-connected rate:
    ///
    /// | kind       | multiplier | paper (at base rate 20 %)                      |
    /// |------------|------------|------------------------------------------------|
    /// | `"linear"` | 1.0        | fully-connected layers pruned 20 % per round    |
    /// | `"conv"`   | 0.5        | conv layers 10 % (Conv-2/4; Conv-6 used 15 %)   |
    /// | `"output"` | 0.5        | output layer at half the fully-connected rate   |
    ///
    /// Any other kind (e.g. `"embedding"`) uses `1.0`.
    #[must_use]
    pub fn lth() -> Self {
        let multipliers = [(Self::LINEAR, 1.0), (Self::CONV, 0.5), (Self::OUTPUT, 0.5)]
            .into_iter()
            .map(|(k, m)| (k.to_owned(), m))
            .collect();
        Self { multipliers }
    }

    /// Builder form of [`LayerRates::set`].
    ///
    /// # Errors
    /// As [`LayerRates::set`].
    pub fn with(mut self, kind: impl Into<String>, multiplier: f64) -> Result<Self> {
        self.set(kind, multiplier)?;
        Ok(self)
    }

    /// Sets the multiplier of `kind`.
    ///
    /// # Errors
    /// [`MaskError::InvalidMultiplier`] unless `multiplier` is finite and `>= 0`.
    pub fn set(&mut self, kind: impl Into<String>, multiplier: f64) -> Result<()> {
        let kind = kind.into();
        if !(multiplier.is_finite() && multiplier >= 0.0) {
            return Err(MaskError::InvalidMultiplier {
                kind,
                value: multiplier,
            });
        }
        // `+ 0.0` turns a -0.0 into +0.0 so equal multipliers pool together.
        self.multipliers.insert(kind, multiplier + 0.0);
        Ok(())
    }

    /// Multiplier of `kind` (`1.0` if not listed).
    #[must_use]
    pub fn multiplier(&self, kind: &str) -> f64 {
        self.multipliers.get(kind).copied().unwrap_or(1.0)
    }

    /// Explicitly listed kinds and their multipliers, in kind order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, f64)> {
        self.multipliers.iter().map(|(k, &m)| (k.as_str(), m))
    }
}

/// The kind of a tensor whose rate a path pattern sets: its layer kind with the pattern,
/// `linear [fc1.*]`, so that the pattern's multiplier applies to the tensors it matches
/// alone. Written into masks as the tensor's kind, so this form is part of the mask format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternKind<'a> {
    /// The tensor's layer kind, one of [`LayerRates::KINDS`].
    pub kind: &'a str,
    /// The path pattern, as the user wrote it.
    pub pattern: &'a str,
}

impl std::fmt::Display for PatternKind<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} [{}]", self.kind, self.pattern)
    }
}

impl TryFrom<BTreeMap<String, f64>> for LayerRates {
    type Error = MaskError;

    fn try_from(map: BTreeMap<String, f64>) -> Result<Self> {
        map.into_iter()
            .try_fold(Self::uniform(), |rates, (k, m)| rates.with(k, m))
    }
}

impl From<LayerRates> for BTreeMap<String, f64> {
    fn from(rates: LayerRates) -> Self {
        rates.multipliers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lth_mapping_and_default() {
        let r = LayerRates::lth();
        assert_eq!(r.multiplier("linear"), 1.0);
        assert_eq!(r.multiplier("conv"), 0.5);
        assert_eq!(r.multiplier("output"), 0.5);
        assert_eq!(r.multiplier("embedding"), 1.0);
        assert_eq!(LayerRates::uniform().multiplier("conv"), 1.0);
    }

    #[test]
    fn a_pattern_sets_the_rate_of_every_kind_it_may_match() {
        let mut r = LayerRates::lth();
        r.set_for_pattern("fc1.*", 0.25).unwrap();
        let kind = PatternKind {
            kind: LayerRates::LINEAR,
            pattern: "fc1.*",
        };
        assert_eq!(kind.to_string(), "linear [fc1.*]");
        for k in LayerRates::KINDS {
            assert_eq!(r.multiplier(&format!("{k} [fc1.*]")), 0.25, "{k}");
        }
        assert_eq!(r.multiplier("linear"), 1.0);
        assert!(r.set_for_pattern("fc2.*", -1.0).is_err());
    }

    #[test]
    fn rejects_bad_multipliers() {
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            let err = LayerRates::uniform().with("conv", bad).unwrap_err();
            assert!(err.to_string().contains("`conv`"), "{err}");
        }
        assert!(LayerRates::try_from(BTreeMap::from([("x".to_owned(), -1.0)])).is_err());
    }
}
