//! Table tests of the IMP rate arithmetic.

use sprig_mask::{
    LayerRates, MaskError, base_rate_for_target, per_round_rate, rounds_for, sparsity_after,
    weighted_sparsity_after,
};

const EPS: f64 = 1e-4;

#[test]
fn per_round_rate_table() {
    // (target sparsity, rounds, expected per-round rate)
    let table = [
        (0.9, 10, 0.2057),
        (0.8, 1, 0.8),
        (0.0, 5, 0.0),
        (0.5, 2, 0.2929),
        (0.99, 20, 0.2057),
        (0.9648, 15, 0.2000),
        (0.2, 1, 0.2),
    ];
    for (target, rounds, expected) in table {
        let rate = per_round_rate(target, rounds).unwrap();
        assert!(
            (rate - expected).abs() < EPS,
            "per_round_rate({target}, {rounds}) = {rate}, want {expected}"
        );
        // Round trips.
        let back = sparsity_after(rate, rounds).unwrap();
        assert!(
            (back - target).abs() < 1e-12,
            "sparsity_after({rate}, {rounds}) = {back}, want {target}"
        );
        let expected_rounds = if target == 0.0 { 0 } else { rounds };
        assert_eq!(
            rounds_for(target, rate).unwrap(),
            expected_rounds,
            "rounds_for({target}, {rate})"
        );
    }
}

#[test]
fn sparsity_after_and_rounds_for_table() {
    // (rate, rounds, sparsity)
    let table = [
        (0.2, 0, 0.0),
        (0.2, 1, 0.2),
        (0.2, 2, 0.36),
        (0.2, 10, 0.8926),
        (1.0, 3, 1.0),
        (0.0, 7, 0.0),
    ];
    for (rate, rounds, expected) in table {
        let s = sparsity_after(rate, rounds).unwrap();
        assert!(
            (s - expected).abs() < EPS,
            "sparsity_after({rate}, {rounds}) = {s}, want {expected}"
        );
    }
    // (target, rate, smallest rounds reaching it)
    let table = [
        (0.9, 0.2, 11),
        (0.8, 0.2, 8),
        (0.36, 0.2, 2),
        (0.5, 0.5, 1),
        (0.51, 0.5, 2),
        (0.99, 1.0, 1),
        (0.0, 0.0, 0),
    ];
    for (target, rate, expected) in table {
        assert_eq!(
            rounds_for(target, rate).unwrap(),
            expected,
            "rounds_for({target}, {rate})"
        );
    }
}

#[test]
fn base_rate_for_target_matches_uniform_and_hits_lth_target() {
    let uniform = [(1000, 1.0), (300, 1.0)];
    let p = base_rate_for_target(&uniform, 0.9, 10).unwrap();
    assert!((p - per_round_rate(0.9, 10).unwrap()).abs() < 1e-9);

    let rates = LayerRates::lth();
    let groups = [
        (5000, rates.multiplier("conv")),
        (20000, rates.multiplier("linear")),
        (100, rates.multiplier("output")),
    ];
    for (target, rounds) in [(0.9, 10), (0.5, 3), (0.99, 1), (0.3, 20)] {
        let p = base_rate_for_target(&groups, target, rounds).unwrap();
        let s = weighted_sparsity_after(&groups, p, rounds).unwrap();
        assert!(
            (s - target).abs() < 1e-9,
            "target {target}, rounds {rounds}: got {s} at p = {p}"
        );
    }
    // Only conv layers: the base rate exceeds 1, effective rate 0.99.
    let p = base_rate_for_target(&[(10, 0.5)], 0.99, 1).unwrap();
    assert!((p - 1.98).abs() < 1e-9);
}

#[test]
fn bad_rate_inputs_are_errors() {
    for target in [1.0, -0.1, f64::NAN, 1.5] {
        let err = per_round_rate(target, 3).unwrap_err();
        assert!(err.to_string().contains("target_sparsity"), "{err}");
        assert!(rounds_for(target, 0.2).is_err());
        assert!(base_rate_for_target(&[(1, 1.0)], target, 3).is_err());
    }
    assert_eq!(
        per_round_rate(0.5, 0).unwrap_err(),
        MaskError::InvalidRounds { rounds: 0 }
    );
    assert!(base_rate_for_target(&[(1, 1.0)], 0.5, 0).is_err());
    for rate in [-0.01, 1.01, f64::INFINITY, f64::NAN] {
        let err = sparsity_after(rate, 2).unwrap_err();
        assert!(err.to_string().contains("rate"), "{err}");
        assert!(rounds_for(0.5, rate).is_err());
    }
    assert!(matches!(
        rounds_for(0.5, 0.0),
        Err(MaskError::Unreachable { .. })
    ));
    assert!(matches!(
        rounds_for(0.5, 1e-300),
        Err(MaskError::Unreachable { .. })
    ));
    // Half the weights exempt (multiplier 0): 0.6 cannot be reached.
    assert!(matches!(
        base_rate_for_target(&[(10, 0.0), (10, 1.0)], 0.6, 5),
        Err(MaskError::Unreachable { .. })
    ));
    assert!(matches!(
        base_rate_for_target(&[(10, -1.0)], 0.5, 5),
        Err(MaskError::InvalidMultiplier { .. })
    ));
    assert!(weighted_sparsity_after(&[(10, 1.0)], -0.5, 1).is_err());
}
