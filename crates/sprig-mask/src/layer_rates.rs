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
    fn rejects_bad_multipliers() {
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            let err = LayerRates::uniform().with("conv", bad).unwrap_err();
            assert!(err.to_string().contains("`conv`"), "{err}");
        }
        assert!(LayerRates::try_from(BTreeMap::from([("x".to_owned(), -1.0)])).is_err());
    }
}
