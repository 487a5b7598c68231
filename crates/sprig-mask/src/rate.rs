//! Rate arithmetic of iterative magnitude pruning (IMP).
//!
//! Pruning a fraction `p` of the survivors in each of `R` rounds leaves
//! `(1 − p)^R` of the weights, i.e. sparsity `s = 1 − (1 − p)^R`. These
//! functions convert between `s`, `p` and `R`, and find the base rate that
//! reaches a target when layer kinds prune at different multiples of it.
//! Formulas use `ln_1p`/`exp_m1` so small rates keep full precision.

use crate::error::{MaskError, Result, check_range};

/// Slack for float rounding when comparing a reached sparsity to a target.
const TOLERANCE: f64 = 1e-12;

/// Per-round pruning rate that reaches `target_sparsity` after `rounds`
/// rounds: `1 − (1 − s*)^(1/R)`. E.g. `s* = 0.9, R = 10` gives ≈ 0.2057.
///
/// # Errors
/// [`MaskError::InvalidValue`] unless `target_sparsity ∈ [0, 1)`;
/// [`MaskError::InvalidRounds`] if `rounds == 0`.
pub fn per_round_rate(target_sparsity: f64, rounds: u32) -> Result<f64> {
    check_target(target_sparsity)?;
    check_rounds(rounds)?;
    Ok(-((-target_sparsity).ln_1p() / f64::from(rounds)).exp_m1())
}

/// Sparsity after `rounds` rounds at `rate`: `1 − (1 − rate)^R` (`0` for
/// zero rounds).
///
/// # Errors
/// [`MaskError::InvalidValue`] unless `rate ∈ [0, 1]`.
pub fn sparsity_after(rate: f64, rounds: u32) -> Result<f64> {
    check_range("rate", rate, 0.0, 1.0, "a rate in [0, 1]")?;
    Ok(sparsity_after_unchecked(rate, rounds))
}

/// Smallest number of rounds at `rate` whose sparsity reaches `target`
/// (within 1e-12, to absorb float rounding, so that
/// `rounds_for(s, per_round_rate(s, R)) == R`). `0` for a target of `0`.
///
/// # Errors
/// [`MaskError::InvalidValue`] for a target outside `[0, 1)` or a rate
/// outside `[0, 1]`; [`MaskError::Unreachable`] if `rate == 0` and
/// `target > 0`, or more than `u32::MAX` rounds would be needed.
pub fn rounds_for(target: f64, rate: f64) -> Result<u32> {
    check_target(target)?;
    check_range("rate", rate, 0.0, 1.0, "a rate in [0, 1]")?;
    let reached = |r: u32| sparsity_after_unchecked(rate, r) >= target - TOLERANCE;
    if reached(0) {
        return Ok(0);
    }
    if rate == 0.0 {
        return Err(MaskError::Unreachable {
            target,
            reason: "the rate is 0".to_owned(),
        });
    }
    let estimate = ((-target).ln_1p() / (-rate).ln_1p()).ceil();
    if estimate.is_nan() || estimate >= f64::from(u32::MAX) {
        return Err(MaskError::Unreachable {
            target,
            reason: format!("needs more than {} rounds at rate {rate}", u32::MAX),
        });
    }
    // The closed form can be off by one either way through rounding.
    let mut r = (estimate as u32).max(1);
    while r > 1 && reached(r - 1) {
        r -= 1;
    }
    while !reached(r) {
        r = r.checked_add(1).ok_or_else(|| MaskError::Unreachable {
            target,
            reason: format!("needs more than {} rounds at rate {rate}", u32::MAX),
        })?;
    }
    Ok(r)
}

/// Global sparsity after `rounds` rounds at `base_rate` when the tensors
/// in `groups` — `(weight count, rate multiplier)` pairs — each prune at
/// `min(1, base_rate × multiplier)` per round, weighted by count.
///
/// # Errors
/// [`MaskError::InvalidValue`] for a negative or non-finite base rate;
/// [`MaskError::InvalidMultiplier`] for a negative or non-finite multiplier.
pub fn weighted_sparsity_after(
    groups: &[(usize, f64)],
    base_rate: f64,
    rounds: u32,
) -> Result<f64> {
    check_base_rate(base_rate)?;
    check_multipliers(groups)?;
    Ok(weighted_unchecked(groups, base_rate, rounds))
}

/// Base rate `p` such that, with each group pruning `min(1, p × m_g)` of its
/// survivors per round, the count-weighted global sparsity after `rounds`
/// rounds equals `target` — found by bisection, as the sum has no closed
/// inverse. With all multipliers 1 it equals [`per_round_rate`].
///
/// The result may exceed 1 when every multiplier is below 1 (e.g. a network
/// of only conv layers under [`LayerRates::lth`](crate::LayerRates::lth));
/// effective per-group rates are still clamped to 1.
///
/// # Errors
/// [`MaskError::InvalidValue`] for a target outside `[0, 1)`;
/// [`MaskError::InvalidRounds`]; [`MaskError::InvalidMultiplier`];
/// [`MaskError::Unreachable`] if groups with multiplier 0 (never pruned)
/// hold more than `1 − target` of the weights.
pub fn base_rate_for_target(groups: &[(usize, f64)], target: f64, rounds: u32) -> Result<f64> {
    check_target(target)?;
    check_rounds(rounds)?;
    check_multipliers(groups)?;
    let total: f64 = groups.iter().map(|&(n, _)| n as f64).sum();
    if target == 0.0 || total == 0.0 {
        return Ok(0.0);
    }
    let prunable: f64 = groups
        .iter()
        .filter(|&&(_, m)| m > 0.0)
        .map(|&(n, _)| n as f64)
        .sum();
    if prunable / total < target {
        return Err(MaskError::Unreachable {
            target,
            reason: format!("only {prunable} of {total} weights have a non-zero rate multiplier"),
        });
    }
    let min_multiplier = groups
        .iter()
        .map(|&(_, m)| m)
        .filter(|&m| m > 0.0)
        .fold(f64::INFINITY, f64::min);
    // At `hi` every group with m > 0 is fully pruned in one round.
    let (mut lo, mut hi) = (0.0, 1.0 / min_multiplier);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if weighted_unchecked(groups, mid, rounds) < target {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Ok(hi)
}

/// `1 − (1 − rate)^rounds` for a rate already known to lie in `[0, 1]`.
pub(crate) fn sparsity_after_unchecked(rate: f64, rounds: u32) -> f64 {
    if rounds == 0 {
        0.0
    } else if rate >= 1.0 {
        1.0
    } else {
        -(f64::from(rounds) * (-rate).ln_1p()).exp_m1()
    }
}

fn weighted_unchecked(groups: &[(usize, f64)], base_rate: f64, rounds: u32) -> f64 {
    let total: f64 = groups.iter().map(|&(n, _)| n as f64).sum();
    if total == 0.0 {
        return 0.0;
    }
    let pruned: f64 = groups
        .iter()
        .map(|&(n, m)| n as f64 * sparsity_after_unchecked((base_rate * m).min(1.0), rounds))
        .sum();
    pruned / total
}

fn check_target(target: f64) -> Result<()> {
    if target.is_finite() && (0.0..1.0).contains(&target) {
        Ok(())
    } else {
        Err(MaskError::InvalidValue {
            name: "target_sparsity",
            value: target,
            expected: "a sparsity in [0, 1)",
        })
    }
}

fn check_rounds(rounds: u32) -> Result<()> {
    if rounds == 0 {
        Err(MaskError::InvalidRounds { rounds })
    } else {
        Ok(())
    }
}

pub(crate) fn check_base_rate(rate: f64) -> Result<()> {
    check_range(
        "base_rate",
        rate,
        0.0,
        f64::MAX,
        "a finite rate >= 0 (per-group rates are clamped to 1)",
    )
}

fn check_multipliers(groups: &[(usize, f64)]) -> Result<()> {
    match groups.iter().find(|&&(_, m)| !(m.is_finite() && m >= 0.0)) {
        Some(&(n, m)) => Err(MaskError::InvalidMultiplier {
            kind: format!("<group of {n} weights>"),
            value: m,
        }),
        None => Ok(()),
    }
}
