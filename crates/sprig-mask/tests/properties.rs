//! Property tests of the guarantees the IMP loop relies on.

use proptest::prelude::*;
use sprig_mask::{
    LayerRates, Mask, MaskError, MaskSet, Scope, Scores, Snapshot, base_rate_for_target,
    per_round_rate, prune, prune_to_round, prune_to_sparsity,
};

const KINDS: [&str; 4] = ["linear", "conv", "output", "embedding"];

/// `(kind index, shape)` per tensor; 1–4 tensors of 1–300 elements.
fn layout() -> impl Strategy<Value = Vec<(usize, Vec<usize>)>> {
    prop::collection::vec(
        (0..KINDS.len(), prop::collection::vec(1usize..8, 1..4)),
        1..5,
    )
}

fn dense(layout: &[(usize, Vec<usize>)]) -> MaskSet {
    let mut masks = MaskSet::new();
    for (i, (kind, shape)) in layout.iter().enumerate() {
        masks
            .insert_dense(format!("layer{i}.weight"), KINDS[*kind], shape)
            .unwrap();
    }
    masks
}

fn scope(global: bool) -> Scope {
    if global {
        Scope::Global
    } else {
        Scope::Layerwise
    }
}

/// Scores drawn from few values, so ties are common.
fn tied_scores(masks: &MaskSet, seed: u64) -> Scores {
    let mut scores = Scores::new();
    for (name, e) in masks.iter() {
        let coarse = sprig_mask::random_scores(name, e.mask().len(), seed)
            .iter()
            .map(|s| (s * 5.0).floor())
            .collect();
        scores.insert(name, coarse);
    }
    scores
}

/// `(score, kept, tensor, index)` for every weight, in tensor then index order.
fn flat(masks: &MaskSet, scores: &Scores) -> Vec<(f32, bool, usize, usize)> {
    masks
        .iter()
        .enumerate()
        .flat_map(|(t, (name, e))| {
            let s = scores.get(name).unwrap().to_vec();
            e.mask()
                .iter()
                .enumerate()
                .map(move |(i, k)| (s[i], k, t, i))
                .collect::<Vec<_>>()
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// (a) No sequence of prunes ever revives a weight.
    #[test]
    fn pruning_never_revives(
        layout in layout(),
        steps in prop::collection::vec((any::<bool>(), any::<bool>(), any::<bool>(), 0.0f64..1.0, any::<u64>(), 1u32..6), 1..6),
    ) {
        let mut masks = dense(&layout);
        for (global, lth, to_round, rate, seed, round) in steps {
            let rates = if lth { LayerRates::lth() } else { LayerRates::uniform() };
            let scores = Scores::random(&masks, seed);
            let before = masks.clone();
            let report = if to_round {
                prune_to_round(&mut masks, &scores, scope(global), &rates, rate, round).unwrap()
            } else {
                prune(&mut masks, &scores, scope(global), &rates, rate).unwrap()
            };
            prop_assert!(masks.is_subset_of(&before));
            prop_assert_eq!(report.removed, before.kept() - masks.kept());
            prop_assert_eq!(report.remaining, masks.kept());
        }
    }

    /// (b) `prune_to_round` at `per_round_rate(s*, R)` for rounds 1..=R ends
    /// within one weight per tensor of s*·N, uniform or LTH multipliers.
    #[test]
    fn schedule_hits_target(
        layout in layout(),
        target in 0.0f64..0.99,
        rounds in 1u32..12,
        global in any::<bool>(),
        lth in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut masks = dense(&layout);
        let (rates, rate) = if lth {
            let rates = LayerRates::lth();
            let rate = base_rate_for_target(&masks.rate_groups(&rates), target, rounds).unwrap();
            (rates, rate)
        } else {
            (LayerRates::uniform(), per_round_rate(target, rounds).unwrap())
        };
        for round in 1..=rounds {
            let scores = Scores::random(&masks, seed ^ u64::from(round));
            prune_to_round(&mut masks, &scores, scope(global), &rates, rate, round).unwrap();
        }
        let error = (masks.pruned() as f64 - target * masks.total() as f64).abs();
        prop_assert!(error <= masks.len() as f64, "pruned {} of {}, target {}", masks.pruned(), masks.total(), target);
    }

    /// (b') A re-planned run prunes to a new cumulative target each round, at whatever
    /// rate the plan says: every round lands within one weight per tensor of its target,
    /// with uniform or LTH multipliers, and no weight comes back.
    #[test]
    fn replanned_targets_are_hit(
        layout in layout(),
        targets in prop::collection::vec(0.0f64..0.99, 1..8),
        global in any::<bool>(),
        lth in any::<bool>(),
        seed in any::<u64>(),
    ) {
        let mut masks = dense(&layout);
        let rates = if lth { LayerRates::lth() } else { LayerRates::uniform() };
        let mut reached = 0.0f64;
        for (round, target) in targets.into_iter().enumerate() {
            let before = masks.clone();
            let scores = Scores::random(&masks, seed ^ round as u64);
            prune_to_sparsity(&mut masks, &scores, scope(global), &rates, target).unwrap();
            prop_assert!(masks.is_subset_of(&before));
            let goal = target.max(reached) * masks.total() as f64;
            let error = (masks.pruned() as f64 - goal).abs();
            prop_assert!(error <= masks.len() as f64, "pruned {} of {}, goal {goal}", masks.pruned(), masks.total());
            reached = masks.sparsity();
        }
    }

    /// (c) Global `prune` removes exactly round(f × survivors) weights, all
    /// scoring no higher than any survivor.
    #[test]
    fn global_prune_takes_the_lowest(
        layout in layout(),
        prior in 0.0f64..0.9,
        fraction in 0.0f64..=1.0,
        seed in any::<u64>(),
    ) {
        let mut masks = dense(&layout);
        let prior_scores = Scores::random(&masks, !seed);
        prune(&mut masks, &prior_scores, Scope::Global, &LayerRates::uniform(), prior).unwrap();
        let before = masks.clone();
        let scores = tied_scores(&masks, seed);
        let report = prune(&mut masks, &scores, Scope::Global, &LayerRates::uniform(), fraction).unwrap();
        prop_assert_eq!(report.removed, (fraction * before.kept() as f64).round() as usize);
        let old = flat(&before, &scores);
        let new = flat(&masks, &scores);
        let removed: Vec<f32> = old.iter().zip(&new).filter(|(o, n)| o.1 && !n.1).map(|(o, _)| o.0).collect();
        let kept: Vec<f32> = new.iter().filter(|n| n.1).map(|n| n.0).collect();
        let max_removed = removed.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let min_kept = kept.iter().copied().fold(f32::INFINITY, f32::min);
        prop_assert!(max_removed <= min_kept);
    }

    /// (d) Seeded random pruning is reproducible and seed-dependent.
    #[test]
    fn random_masks_are_reproducible(layout in layout(), seed in any::<u64>(), global in any::<bool>()) {
        let run = |seed: u64| {
            let mut masks = dense(&layout);
            let scores = Scores::random(&masks, seed);
            prune(&mut masks, &scores, scope(global), &LayerRates::uniform(), 0.5).unwrap();
            masks
        };
        prop_assert_eq!(run(seed), run(seed));
        let mut big = dense(&[(0, vec![16, 16])]);
        let mut other = big.clone();
        let (a, b) = (Scores::random(&big, seed), Scores::random(&other, seed.wrapping_add(1)));
        prune(&mut big, &a, Scope::Global, &LayerRates::uniform(), 0.5).unwrap();
        prune(&mut other, &b, Scope::Global, &LayerRates::uniform(), 0.5).unwrap();
        prop_assert_ne!(big, other);
    }

    /// (d') The overlap of two masks is symmetric, 1 for a mask with itself, and the
    /// share of survivors kept by both.
    #[test]
    fn kept_in_common_counts_shared_survivors(layout in layout(), seed in any::<u64>(), global in any::<bool>()) {
        let pruned = |seed: u64, rate: f64| {
            let mut masks = dense(&layout);
            let scores = Scores::random(&masks, seed);
            prune(&mut masks, &scores, scope(global), &LayerRates::uniform(), rate).unwrap();
            masks
        };
        let (a, b) = (pruned(seed, 0.5), pruned(seed.wrapping_add(1), 0.3));
        prop_assert_eq!(a.kept_in_common(&a).unwrap(), 1.0);
        let ab = a.kept_in_common(&b).unwrap();
        prop_assert_eq!(ab, b.kept_in_common(&a).unwrap());
        let shared = flat(&a, &Scores::random(&a, seed))
            .iter()
            .zip(flat(&b, &Scores::random(&b, seed)))
            .filter(|(x, y)| x.1 && y.1)
            .count();
        let larger = a.kept().max(b.kept());
        let expected = if larger == 0 { 1.0 } else { shared as f64 / larger as f64 };
        prop_assert_eq!(ab, expected);
        let elsewhere = MaskSet::dense([("elsewhere.weight", "linear", &[2][..])]).unwrap();
        prop_assert!(elsewhere.kept_in_common(&a).is_err());
        prop_assert!(a.kept_in_common(&elsewhere).is_err());
    }

    /// (d'') Two prunes of the same mask: the share of their removals in common is
    /// symmetric, 1 for a prune with itself, and counts the weights the first mask kept
    /// and both removed; masks that are not prunes of it are an error.
    #[test]
    fn removed_in_common_counts_shared_removals(layout in layout(), seed in any::<u64>(), global in any::<bool>()) {
        let pruned = |masks: &MaskSet, seed: u64, rate: f64| {
            let mut masks = masks.clone();
            let scores = Scores::random(&masks, seed);
            prune(&mut masks, &scores, scope(global), &LayerRates::uniform(), rate).unwrap();
            masks
        };
        let before = pruned(&dense(&layout), seed, 0.3);
        let (a, b) = (pruned(&before, seed.wrapping_add(1), 0.1), pruned(&before, seed.wrapping_add(2), 0.2));
        prop_assert_eq!(a.removed_in_common(&a, &before).unwrap(), 1.0);
        let ab = a.removed_in_common(&b, &before).unwrap();
        prop_assert_eq!(ab, b.removed_in_common(&a, &before).unwrap());
        let kept = |m: &MaskSet| -> Vec<bool> { m.iter().flat_map(|(_, e)| e.mask().iter().collect::<Vec<_>>()).collect() };
        let (k0, ka, kb) = (kept(&before), kept(&a), kept(&b));
        let both = (0..k0.len()).filter(|&i| k0[i] && !ka[i] && !kb[i]).count();
        let removed = |k: &[bool]| (0..k0.len()).filter(|&i| k0[i] && !k[i]).count();
        let larger = removed(&ka).max(removed(&kb));
        let expected = if larger == 0 { 1.0 } else { both as f64 / larger as f64 };
        prop_assert_eq!(ab, expected);
        if a.kept() > 0 && a != before {
            prop_assert_eq!(before.removed_in_common(&a, &a), Err(MaskError::NotAPrune));
        }
        let elsewhere = MaskSet::dense([("elsewhere.weight", "linear", &[2][..])]).unwrap();
        prop_assert!(a.removed_in_common(&b, &elsewhere).is_err());
        prop_assert!(elsewhere.removed_in_common(&a, &before).is_err());
    }

    /// (e) JSON round trip is the identity, for sets and single masks.
    #[test]
    fn serde_round_trip(
        masks in prop::collection::vec((0..KINDS.len(), prop::collection::vec(0usize..7, 0..4), any::<u64>()), 0..5),
    ) {
        let mut set = MaskSet::new();
        for (i, (kind, shape, seed)) in masks.iter().enumerate() {
            let n: usize = shape.iter().product();
            let bools: Vec<bool> = sprig_mask::random_scores("x", n, *seed).iter().map(|s| *s < 0.5).collect();
            let mask = Mask::from_bools(shape, &bools).unwrap();
            let json = serde_json::to_string(&mask).unwrap();
            prop_assert_eq!(&serde_json::from_str::<Mask>(&json).unwrap(), &mask);
            set.insert(format!("t{i}"), KINDS[*kind], mask).unwrap();
        }
        let json = serde_json::to_string(&set).unwrap();
        prop_assert_eq!(serde_json::from_str::<MaskSet>(&json).unwrap(), set);
    }

    /// (f) Rewind zeroes pruned entries to +0.0 and keeps survivors (and
    /// unmasked tensors) bit for bit, whatever the values (NaN, -0.0, inf).
    #[test]
    fn rewind_is_exact(
        entries in prop::collection::vec(prop::collection::vec((any::<f32>(), any::<bool>()), 1..64), 1..4),
        bias in prop::collection::vec(any::<f32>(), 1..8),
    ) {
        let mut theta = Snapshot::new();
        let mut masks = MaskSet::new();
        for (i, entry) in entries.iter().enumerate() {
            let (values, keep): (Vec<f32>, Vec<bool>) = entry.iter().copied().unzip();
            theta.insert(format!("w{i}"), vec![values.len()], values).unwrap();
            masks.insert(format!("w{i}"), "linear", Mask::from_bools(&[keep.len()], &keep).unwrap()).unwrap();
        }
        theta.insert("bias", vec![bias.len()], bias.clone()).unwrap();
        let rewound = theta.masked(&masks).unwrap();
        for (i, entry) in entries.iter().enumerate() {
            let got = rewound.get(&format!("w{i}")).unwrap().values();
            for ((v, keep), g) in entry.iter().zip(got) {
                let expected = if *keep { v.to_bits() } else { 0 };
                prop_assert_eq!(g.to_bits(), expected);
            }
        }
        let got_bias: Vec<u32> = rewound.get("bias").unwrap().values().iter().map(|v| v.to_bits()).collect();
        let want_bias: Vec<u32> = bias.iter().map(|v| v.to_bits()).collect();
        prop_assert_eq!(got_bias, want_bias);
        let mut in_place = theta.clone();
        masks.apply_to(&mut in_place).unwrap();
        let same = in_place.iter().zip(rewound.iter()).all(|((_, a), (_, b))| {
            a.values().iter().zip(b.values()).all(|(x, y)| x.to_bits() == y.to_bits())
        });
        prop_assert!(same);
    }
}
