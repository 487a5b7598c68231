//! Sparsity arithmetic of iterative pruning.
//!
//! Each round prunes a fraction p of the weights that are still alive, so
//! after R rounds from sparsity s the kept fraction is (1 − s)(1 − p)^R.
//! Reaching s* in R rounds therefore needs
//! p = 1 − ((1 − s*)/(1 − s))^(1/R).
//!
//! These helpers do not validate: NaN in gives NaN out. The planner
//! validates its inputs before calling them.

/// Per-round rate p that takes sparsity `current` to `target` in `rounds`
/// rounds; 0 when `rounds == 0` or the target is already reached.
pub fn per_round_rate(current: f64, target: f64, rounds: u32) -> f64 {
    if rounds == 0 || current >= target {
        return 0.0;
    }
    1.0 - keep_ratio(current, target).powf(1.0 / f64::from(rounds))
}

/// Cumulative sparsity after each of `rounds` rounds at the rate of
/// [`per_round_rate`]. The last entry is exactly `target` (not a power
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
        let p = per_round_rate(0.0, 0.9, 10);
        assert!((p - 0.205_671_765).abs() < 1e-8, "{p}");
        assert_eq!(per_round_rate(0.5, 0.5, 3), 0.0);
        assert_eq!(per_round_rate(0.0, 0.9, 0), 0.0);
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
