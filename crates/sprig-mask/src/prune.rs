//! Pruning: remove the lowest-scored surviving weights of each group.
//!
//! Both entry points reduce to one primitive, "prune the `k` lowest-scored
//! survivors of a group"; they differ only in how `k` is computed:
//!
//! * [`prune`] removes `round(min(1, fraction × m_g) × survivors_g)` — one
//!   IMP step relative to the current mask.
//! * [`prune_to_round`] prunes up to the cumulative count
//!   `round(n_g × (1 − (1 − min(1, m_g × p))^r))` of the IMP schedule, so
//!   per-round rounding errors never accumulate.
//!
//! **Ordering.** Candidates are ranked by score ascending, then tensor (name
//! order), then element index, so results are fully deterministic. **NaN
//! scores rank below every number** (including −∞): a weight that has become
//! NaN is pruned first rather than making the ranking panic or depend on
//! the sort algorithm. Already-pruned weights are never candidates, so
//! pruning never revives a weight.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{MaskError, Result, check_range};
use crate::layer_rates::{LayerRates, Scope};
use crate::mask_set::{MaskEntry, MaskSet};
use crate::rate::{check_base_rate, sparsity_after_unchecked};
use crate::score::Scores;

/// What one pruning call did to one tensor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorPruneStats {
    /// Parameter path.
    pub name: String,
    /// Layer kind.
    pub kind: String,
    /// Weights pruned by this call.
    pub removed: usize,
    /// Weights still kept afterwards.
    pub remaining: usize,
    /// Total weights of the tensor.
    pub total: usize,
}

/// Result of [`prune`] / [`prune_to_round`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PruneReport {
    /// Per tensor, in name order.
    pub tensors: Vec<TensorPruneStats>,
    /// Weights pruned by this call, over all tensors.
    pub removed: usize,
    /// Weights kept afterwards, over all tensors.
    pub remaining: usize,
    /// Prunable weights, over all tensors.
    pub total: usize,
    /// Global sparsity over prunable weights afterwards.
    pub sparsity: f64,
}

/// One IMP step: in each group (see [`Scope`]) prune exactly
/// `round(min(1, fraction × m_g) × survivors_g)` of the lowest-scored
/// survivors, `m_g` being the group's multiplier from `rates`.
///
/// `scores` must hold one score per element for every masked tensor.
/// On error `masks` is unchanged.
///
/// # Errors
/// [`MaskError::InvalidValue`] if `fraction` is negative or not finite;
/// [`MaskError::MissingScores`] / [`MaskError::LengthMismatch`] if a
/// masked tensor has no or wrongly sized scores.
pub fn prune(
    masks: &mut MaskSet,
    scores: &Scores,
    scope: Scope,
    rates: &LayerRates,
    fraction: f64,
) -> Result<PruneReport> {
    check_range(
        "fraction",
        fraction,
        0.0,
        f64::MAX,
        "a finite fraction >= 0 (per-group fractions are clamped to 1)",
    )?;
    run(
        masks,
        scores,
        scope,
        rates,
        fraction,
        |_, survivors, rate| round_count(rate * survivors as f64),
    )
}

/// Brings each group to round `round` of the IMP schedule at `base_rate`:
/// its cumulative pruned count becomes
/// `round(n_g × (1 − (1 − min(1, m_g × base_rate))^round))`, pruning just
/// enough lowest-scored survivors (never un-pruning if the group is already
/// past it). Calling it for rounds `1..=R` from a dense set prunes to
/// sparsity [`sparsity_after`](crate::sparsity_after)`(rate, R)` within half
/// a weight per group, at any rate.
///
/// # Errors
/// As [`prune`], with `base_rate` in place of `fraction`.
pub fn prune_to_round(
    masks: &mut MaskSet,
    scores: &Scores,
    scope: Scope,
    rates: &LayerRates,
    base_rate: f64,
    round: u32,
) -> Result<PruneReport> {
    check_base_rate(base_rate)?;
    run(
        masks,
        scores,
        scope,
        rates,
        base_rate,
        |total, survivors, rate| {
            let target = round_count(total as f64 * sparsity_after_unchecked(rate, round));
            target.saturating_sub(total - survivors)
        },
    )
}

/// Prunes the lowest-scored survivors until the global sparsity over every masked weight
/// is `target` (within one weight per group), sharing the work between groups in
/// proportion to their multipliers: each group loses `round(min(1, m_g × f) × survivors_g)`
/// for the one base fraction `f` that reaches the target. This is how a re-planned run
/// prunes: the rate changes from round to round, the target sparsity of each round is
/// what the plan fixes. A set already at or past `target` is left as it is.
///
/// # Errors
/// [`MaskError::InvalidValue`] if `target` is not in `[0, 1)`;
/// [`MaskError::Unreachable`] if the multipliers forbid pruning enough (e.g. all 0);
/// score errors as [`prune`].
pub fn prune_to_sparsity(
    masks: &mut MaskSet,
    scores: &Scores,
    scope: Scope,
    rates: &LayerRates,
    target: f64,
) -> Result<PruneReport> {
    check_range("target sparsity", target, 0.0, 1.0, "a sparsity in [0, 1)")?;
    if target >= 1.0 {
        return Err(MaskError::InvalidValue {
            name: "target sparsity",
            value: target,
            expected: "a sparsity in [0, 1)",
        });
    }
    let need = round_count(target * masks.total() as f64).saturating_sub(masks.pruned());
    let pools: Vec<(usize, f64)> = {
        let entries: Vec<&mut MaskEntry> = masks.entries.values_mut().collect();
        groups(&entries, scope, rates)
            .iter()
            .map(|g| {
                let survivors = g
                    .members
                    .iter()
                    .map(|&t| entries[t].mask.kept_count())
                    .sum();
                (survivors, g.multiplier)
            })
            .collect()
    };
    let removed_at = |f: f64| -> usize {
        pools
            .iter()
            .map(|&(survivors, m)| round_count((f * m).min(1.0) * survivors as f64))
            .sum()
    };
    let smallest_multiplier = pools
        .iter()
        .filter(|&&(survivors, m)| survivors > 0 && m > 0.0)
        .map(|&(_, m)| m)
        .fold(f64::INFINITY, f64::min);
    if need == 0 {
        return run(masks, scores, scope, rates, 0.0, |_, _, _| 0);
    }
    let mut hi = 1.0 / smallest_multiplier;
    if !hi.is_finite() || removed_at(hi) < need {
        return Err(MaskError::Unreachable {
            target,
            reason: format!(
                "the layer rates let at most {} more weights be pruned, {need} are needed",
                if hi.is_finite() { removed_at(hi) } else { 0 }
            ),
        });
    }
    // removed_at is non-decreasing in f: find the smallest f that removes enough.
    let mut lo = 0.0;
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if removed_at(mid) >= need {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    run(masks, scores, scope, rates, hi, |_, survivors, rate| {
        round_count(rate * survivors as f64)
    })
}

/// Tensors pruned together: indices into the name-ordered entries.
#[derive(Debug)]
struct Group {
    multiplier: f64,
    members: Vec<usize>,
}

/// A surviving weight that may be pruned.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f32,
    tensor: usize,
    index: usize,
}

/// Shared driver: `count(group_total, group_survivors, effective_rate)`
/// says how many survivors each group loses.
fn run<F>(
    masks: &mut MaskSet,
    scores: &Scores,
    scope: Scope,
    rates: &LayerRates,
    base: f64,
    count: F,
) -> Result<PruneReport>
where
    F: Fn(usize, usize, f64) -> usize,
{
    let score_slices = lookup_scores(masks, scores)?;
    let before: Vec<usize> = masks
        .entries
        .values()
        .map(|e| e.mask.kept_count())
        .collect();
    let mut entries: Vec<&mut MaskEntry> = masks.entries.values_mut().collect();
    for group in groups(&entries, scope, rates) {
        let total: usize = group.members.iter().map(|&t| entries[t].mask.len()).sum();
        let survivors: usize = group.members.iter().map(|&t| before[t]).sum();
        let rate = (base * group.multiplier).min(1.0);
        let k = count(total, survivors, rate).min(survivors);
        prune_lowest(&mut entries, &group.members, &score_slices, k);
    }
    Ok(report(masks, &before))
}

/// One score slice per masked tensor, in name order, checked for length.
fn lookup_scores<'s>(masks: &MaskSet, scores: &'s Scores) -> Result<Vec<&'s [f32]>> {
    masks
        .entries
        .iter()
        .map(|(name, e)| {
            let expected = e.mask.len();
            let s = scores.get(name).ok_or_else(|| MaskError::MissingScores {
                tensor: name.clone(),
                expected,
            })?;
            if s.len() == expected {
                Ok(s)
            } else {
                Err(MaskError::LengthMismatch {
                    tensor: name.clone(),
                    expected,
                    found: s.len(),
                })
            }
        })
        .collect()
}

/// Layerwise: one group per tensor. Global: one group per distinct
/// multiplier (ascending), members in name order.
fn groups(entries: &[&mut MaskEntry], scope: Scope, rates: &LayerRates) -> Vec<Group> {
    let multiplier = |t: usize| rates.multiplier(&entries[t].kind);
    match scope {
        Scope::Layerwise => (0..entries.len())
            .map(|t| Group {
                multiplier: multiplier(t),
                members: vec![t],
            })
            .collect(),
        Scope::Global => {
            // Multipliers are finite and >= +0.0, so bit order is numeric order.
            let mut pools: BTreeMap<u64, Vec<usize>> = BTreeMap::new();
            for t in 0..entries.len() {
                pools.entry(multiplier(t).to_bits()).or_default().push(t);
            }
            pools
                .into_iter()
                .map(|(bits, members)| Group {
                    multiplier: f64::from_bits(bits),
                    members,
                })
                .collect()
        }
    }
}

/// The primitive: prune the `k` lowest-ranked survivors of `members`.
fn prune_lowest(entries: &mut [&mut MaskEntry], members: &[usize], scores: &[&[f32]], k: usize) {
    if k == 0 {
        return;
    }
    let mut candidates: Vec<Candidate> = members
        .iter()
        .flat_map(|&t| {
            let s = scores[t];
            entries[t].mask.kept_indices().map(move |i| Candidate {
                score: s[i],
                tensor: t,
                index: i,
            })
        })
        .collect();
    if k < candidates.len() {
        // The ranking is a strict total order, so the selected set does not
        // depend on the selection algorithm.
        candidates.select_nth_unstable_by(k - 1, rank);
        candidates.truncate(k);
    }
    for c in candidates {
        entries[c.tensor].mask.clear(c.index);
    }
}

/// Score ascending (NaN lowest), then tensor, then element index.
fn rank(a: &Candidate, b: &Candidate) -> Ordering {
    score_order(a.score, b.score)
        .then(a.tensor.cmp(&b.tensor))
        .then(a.index.cmp(&b.index))
}

fn score_order(a: f32, b: f32) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.partial_cmp(&b).unwrap_or(Ordering::Equal),
    }
}

/// Rounds a non-negative finite count (half away from zero).
fn round_count(x: f64) -> usize {
    x.round() as usize
}

fn report(masks: &MaskSet, before: &[usize]) -> PruneReport {
    let tensors: Vec<TensorPruneStats> = masks
        .entries
        .iter()
        .zip(before)
        .map(|((name, e), &kept_before)| {
            let remaining = e.mask.kept_count();
            TensorPruneStats {
                name: name.clone(),
                kind: e.kind.clone(),
                removed: kept_before - remaining,
                remaining,
                total: e.mask.len(),
            }
        })
        .collect();
    let removed = tensors.iter().map(|t| t.removed).sum();
    let remaining = tensors.iter().map(|t| t.remaining).sum();
    let total = tensors.iter().map(|t| t.total).sum();
    let sparsity = if total == 0 {
        0.0
    } else {
        (total - remaining) as f64 / total as f64
    };
    PruneReport {
        tensors,
        removed,
        remaining,
        total,
        sparsity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(shapes: &[(&str, &str, usize)]) -> MaskSet {
        let mut m = MaskSet::new();
        for &(n, k, len) in shapes {
            m.insert_dense(n, k, &[len]).unwrap();
        }
        m
    }

    #[test]
    fn nan_is_pruned_first_and_ties_break_by_tensor_then_index() {
        let mut masks = set(&[("a", "linear", 3), ("b", "linear", 3)]);
        let mut scores = Scores::new();
        scores.insert("a", vec![1.0, 0.5, 0.5]);
        scores.insert("b", vec![f32::NAN, 0.5, f32::NEG_INFINITY]);
        let r = prune(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            0.5,
        )
        .unwrap();
        assert_eq!(r.removed, 3);
        // NaN, -inf, then the first 0.5 in name/index order (a[1]).
        assert_eq!(masks.get("a").unwrap().to_bools(), [true, false, true]);
        assert_eq!(masks.get("b").unwrap().to_bools(), [false, true, false]);
    }

    #[test]
    fn layerwise_uses_kind_multiplier_and_zero_exempts() {
        let mut masks = set(&[("c", "conv", 10), ("f", "linear", 10), ("o", "frozen", 10)]);
        let rates = LayerRates::lth().with("frozen", 0.0).unwrap();
        let scores = Scores::random(&masks, 1);
        let r = prune(&mut masks, &scores, Scope::Layerwise, &rates, 0.4).unwrap();
        let removed: Vec<usize> = r.tensors.iter().map(|t| t.removed).collect();
        assert_eq!(removed, vec![2, 4, 0]);
    }

    #[test]
    fn missing_or_short_scores_error_and_leave_masks_unchanged() {
        let mut masks = set(&[("a", "linear", 3), ("b", "linear", 3)]);
        let before = masks.clone();
        let mut scores = Scores::new();
        scores.insert("a", vec![1.0, 2.0, 3.0]);
        let err = prune(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            0.5,
        )
        .unwrap_err();
        assert!(err.to_string().contains("`b`"), "{err}");
        scores.insert("b", vec![1.0]);
        let err = prune(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            0.5,
        )
        .unwrap_err();
        assert!(
            matches!(err, MaskError::LengthMismatch { ref tensor, expected: 3, found: 1 } if tensor == "b")
        );
        assert_eq!(masks, before);
        for bad in [-0.1, f64::NAN, f64::INFINITY] {
            assert!(
                prune(
                    &mut masks,
                    &scores,
                    Scope::Global,
                    &LayerRates::uniform(),
                    bad
                )
                .is_err()
            );
            assert!(
                prune_to_round(
                    &mut masks,
                    &scores,
                    Scope::Global,
                    &LayerRates::uniform(),
                    bad,
                    1
                )
                .is_err()
            );
        }
    }

    #[test]
    fn prune_to_round_never_unprunes_and_round_zero_is_noop() {
        let mut masks = set(&[("a", "linear", 100)]);
        let scores = Scores::random(&masks, 7);
        let u = LayerRates::uniform();
        prune_to_round(&mut masks, &scores, Scope::Global, &u, 0.2, 0).unwrap();
        assert_eq!(masks.pruned(), 0);
        prune_to_round(&mut masks, &scores, Scope::Global, &u, 0.2, 3).unwrap();
        assert_eq!(masks.pruned(), 49); // round(100 * (1 - 0.8^3)) = round(48.8)
        let r = prune_to_round(&mut masks, &scores, Scope::Global, &u, 0.2, 1).unwrap();
        assert_eq!((r.removed, masks.pruned()), (0, 49));
    }
}
