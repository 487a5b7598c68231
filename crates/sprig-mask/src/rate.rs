//! Rate arithmetic of iterative magnitude pruning (IMP).
//!
//! Pruning a fraction `p` of the survivors in each of `R` rounds leaves
//! `(1 − p)^R` of the weights, i.e. sparsity `s = 1 − (1 − p)^R`. These
//! functions convert between `s`, `p` and `R`, and find the base rate that
//! reaches a target when layer kinds prune at different multiples of it.
//! Formulas use `ln_1p`/`exp_m1` so small rates keep full precision.
//!
//! The planner's forms start from a sparsity already reached: after R rounds from
//! sparsity s the kept fraction is (1 − s)(1 − p)^R, so reaching s* in R rounds needs
//! p = 1 − ((1 − s*)/(1 − s))^(1/R). They do not validate (NaN in gives NaN out): the
//! planner validates its inputs before calling them.

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

/// Per-round rate p that takes sparsity `current` to `target` in `rounds`
/// rounds; 0 when `rounds == 0` or the target is already reached.
pub fn per_round_rate_from(current: f64, target: f64, rounds: u32) -> f64 {
    if rounds == 0 || current >= target {
        return 0.0;
    }
    1.0 - keep_ratio(current, target).powf(1.0 / f64::from(rounds))
}

/// Cumulative sparsity after each of `rounds` rounds at the rate of
/// [`per_round_rate_from`]. The last entry is exactly `target` (not a power
/// computed with rounding error), so a plan that runs to completion reaches
/// s* exactly. Empty when `rounds == 0`.
pub fn sparsity_schedule(current: f64, target: f64, rounds: u32) -> Vec<f64> {
    if rounds == 0 {
        return Vec::new();
    }
    let keep = keep_ratio(current, target);
    let r = f64::from(rounds);
    (1..=rounds)
        .map(|i| {
            if i == rounds {
                target
            } else {
                1.0 - (1.0 - current) * keep.powf(f64::from(i) / r)
            }
        })
        .collect()
}

/// The round count whose per-round rate is closest to `rate` (in the
/// geometric sense: the exponent ln(keep)/ln(1 − rate) rounded to the
/// nearest integer), at least 1 and at most `max`; 0 when the target is
/// already reached.
///
/// Rounding rather than taking the ceiling keeps re-planning stable: a run
/// that is exactly on schedule after k of R rounds gets R − k again, where a
/// ceiling would flip to R − k + 1 on the last bit of floating-point error.
/// For s* = 0.9 from dense and rate 0.2 it gives 10 rounds (p ≈ 0.2057).
pub fn rounds_for_rate(current: f64, target: f64, rate: f64, max: u32) -> u32 {
    if current >= target {
        return 0;
    }
    let exact = keep_ratio(current, target).ln() / (1.0 - rate).ln();
    if exact.is_nan() {
        return 1;
    }
    // Saturating float-to-int cast; the clamp keeps it in 1..=max.
    (exact.round() as u32).clamp(1, max.max(1))
}

/// (1 − target)/(1 − current): the fraction of the currently alive weights
/// that must survive to the end.
fn keep_ratio(current: f64, target: f64) -> f64 {
    (1.0 - target) / (1.0 - current)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_schedules() {
        let p = per_round_rate_from(0.0, 0.9, 10);
        assert!((p - 0.205_671_765).abs() < 1e-8, "{p}");
        assert_eq!(per_round_rate_from(0.5, 0.5, 3), 0.0);
        assert_eq!(per_round_rate_from(0.0, 0.9, 0), 0.0);
        let s = sparsity_schedule(0.0, 0.9, 10);
        assert_eq!(s.len(), 10);
        assert!((s[0] - p).abs() < 1e-12);
        assert_eq!(s[9], 0.9);
        assert!(s.windows(2).all(|w| w[0] < w[1]));
        assert!(sparsity_schedule(0.1, 0.9, 0).is_empty());
    }

    #[test]
    fn nearest_round_count() {
        assert_eq!(rounds_for_rate(0.0, 0.9, 0.2, 1000), 10);
        assert_eq!(rounds_for_rate(0.0, 0.5, 0.2, 1000), 3);
        assert_eq!(rounds_for_rate(0.0, 0.05, 0.2, 1000), 1);
        assert_eq!(rounds_for_rate(0.9, 0.9, 0.2, 1000), 0);
        assert_eq!(rounds_for_rate(0.0, 0.999_999, 0.001, 50), 50);
        // On schedule after 3 of 10 rounds: 7 left.
        let s3 = sparsity_schedule(0.0, 0.9, 10)[2];
        assert_eq!(rounds_for_rate(s3, 0.9, 0.2, 1000), 7);
    }
}
