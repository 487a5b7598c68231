//! Bad input is reported as a `MaskError` that names the tensor.

use sprig_mask::{
    LayerRates, Mask, MaskError, MaskSet, Scope, Scores, Snapshot, prune, prune_to_sparsity,
};

fn net() -> MaskSet {
    MaskSet::dense([
        ("fc1.weight", "linear", &[4, 3][..]),
        ("out.weight", "output", &[2, 4][..]),
    ])
    .unwrap()
}

#[test]
fn validate_names_tensor_and_shapes() {
    let masks = net();
    let ok: [(&str, &[usize]); 3] = [
        ("fc1.weight", &[4, 3]),
        ("fc1.bias", &[4]),
        ("out.weight", &[2, 4]),
    ];
    masks.validate(&ok).unwrap();

    let wrong: [(&str, &[usize]); 2] = [("fc1.weight", &[3, 4]), ("out.weight", &[2, 4])];
    let err = masks.validate(&wrong).unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `fc1.weight`: expected shape [3, 4], found [4, 3]"
    );

    let missing_param: [(&str, &[usize]); 1] = [("fc1.weight", &[4, 3])];
    let err = masks.validate(&missing_param).unwrap_err();
    assert_eq!(
        err,
        MaskError::UnknownTensor {
            tensor: "out.weight".into()
        }
    );

    let extra: [(&str, &[usize]); 3] = [
        ("fc1.weight", &[4, 3]),
        ("out.weight", &[2, 4]),
        ("fc2.weight", &[5, 5]),
    ];
    let err = masks.validate(&extra).unwrap_err();
    assert!(
        err.to_string().contains("`fc2.weight`") && err.to_string().contains("[5, 5]"),
        "{err}"
    );
    // A custom policy can declare it dense.
    masks
        .validate_with(&extra, |name, _| name != "fc2.weight")
        .unwrap();

    let dup: [(&str, &[usize]); 3] = [
        ("fc1.weight", &[4, 3]),
        ("fc1.weight", &[4, 3]),
        ("out.weight", &[2, 4]),
    ];
    assert!(matches!(
        masks.validate(&dup),
        Err(MaskError::DuplicateTensor { .. })
    ));
}

#[test]
fn construction_errors() {
    let err = Mask::from_bools(&[2, 2], &[true; 3]).unwrap_err();
    assert!(
        err.to_string().contains("expected 4 values, found 3"),
        "{err}"
    );
    assert!(matches!(
        Mask::all_kept(&[usize::MAX, 2]),
        Err(MaskError::ShapeOverflow { .. })
    ));

    let mut masks = net();
    let err = masks
        .insert("fc1.weight", "linear", Mask::all_kept(&[1]).unwrap())
        .unwrap_err();
    assert_eq!(
        err,
        MaskError::DuplicateTensor {
            tensor: "fc1.weight".into()
        }
    );

    let mut snap = Snapshot::new();
    let err = snap
        .insert("conv.weight", vec![2, 2], vec![0.0; 5])
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `conv.weight`: expected 4 values, found 5"
    );
}

#[test]
fn rewind_errors_leave_snapshot_unchanged() {
    let masks = net();
    let mut snap = Snapshot::new();
    snap.insert("fc1.weight", vec![4, 3], vec![1.0; 12])
        .unwrap();
    let err = snap.masked(&masks).unwrap_err();
    assert_eq!(
        err,
        MaskError::UnknownTensor {
            tensor: "out.weight".into()
        }
    );
    snap.insert("out.weight", vec![4, 2], vec![1.0; 8]).unwrap();
    let before = snap.clone();
    let err = masks.apply_to(&mut snap).unwrap_err();
    assert!(
        err.to_string()
            .contains("`out.weight`: expected shape [4, 2], found [2, 4]"),
        "{err}"
    );
    assert_eq!(snap, before);
}

#[test]
fn prune_reports_missing_scores() {
    let mut masks = net();
    let err = prune(
        &mut masks,
        &Scores::new(),
        Scope::Global,
        &LayerRates::uniform(),
        0.2,
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "tensor `fc1.weight`: no scores supplied (expected 12 scores)"
    );
}

#[test]
fn serialised_format_is_compact_and_stable() {
    let mut masks = MaskSet::new();
    masks
        .insert(
            "w",
            "conv",
            Mask::from_bools(&[2, 3], &[true, false, true, true, false, true]).unwrap(),
        )
        .unwrap();
    let json = serde_json::to_string(&masks).unwrap();
    assert_eq!(json, r#"{"w":{"kind":"conv","shape":[2,3],"bits":"LQ=="}}"#);
}

#[test]
fn corrupt_serialised_masks_are_errors() {
    let cases = [
        // Byte count does not match the shape.
        (
            r#"{"w":{"kind":"conv","shape":[2,3],"bits":"LS0="}}"#,
            "expected 1 packed bytes",
        ),
        // Bit 6 set for a 6-element mask.
        (
            r#"{"w":{"kind":"conv","shape":[2,3],"bits":"bQ=="}}"#,
            "bits set beyond",
        ),
        // Not base64.
        (
            r#"{"w":{"kind":"conv","shape":[2,3],"bits":"!!"}}"#,
            "not valid base64",
        ),
        // Shape product overflows.
        (
            r#"{"w":{"kind":"conv","shape":[18446744073709551615,2],"bits":""}}"#,
            "more elements than fit",
        ),
        // Missing and unknown fields, wrong types.
        (r#"{"w":{"kind":"conv","bits":"LQ=="}}"#, "shape"),
        (
            r#"{"w":{"kind":"conv","shape":[2,3],"bits":"LQ==","extra":1}}"#,
            "extra",
        ),
        (
            r#"{"w":{"kind":"conv","shape":[2,3],"bits":7}}"#,
            "invalid type",
        ),
        (r#"{"w":[]}"#, "invalid"),
    ];
    for (json, needle) in cases {
        let err = serde_json::from_str::<MaskSet>(json)
            .unwrap_err()
            .to_string();
        assert!(err.contains(needle), "{json}: {err}");
    }
    let err = serde_json::from_str::<MaskSet>(cases[0].0)
        .unwrap_err()
        .to_string();
    assert!(err.contains("tensor `w`"), "{err}");
    assert!(serde_json::from_str::<Mask>(r#"{"shape":[9],"bits":"/w=="}"#).is_err());
}

#[test]
fn layer_rates_and_scope_deserialise_with_validation() {
    let rates: LayerRates = serde_json::from_str(r#"{"conv":0.5,"output":0.25}"#).unwrap();
    assert_eq!(
        (
            rates.multiplier("conv"),
            rates.multiplier("output"),
            rates.multiplier("x")
        ),
        (0.5, 0.25, 1.0)
    );
    let err = serde_json::from_str::<LayerRates>(r#"{"conv":-1.0}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("`conv`"), "{err}");
    assert_eq!(
        serde_json::from_str::<Scope>(r#""layerwise""#).unwrap(),
        Scope::Layerwise
    );
    assert_eq!(
        serde_json::to_string(&Scope::Global).unwrap(),
        r#""global""#
    );
}

#[test]
fn prune_to_sparsity_rejects_bad_and_unreachable_targets() {
    let mut masks = net();
    let before = masks.clone();
    let scores = Scores::random(&masks, 3);
    for bad in [-0.1, 1.0, f64::NAN] {
        let err = prune_to_sparsity(
            &mut masks,
            &scores,
            Scope::Global,
            &LayerRates::uniform(),
            bad,
        )
        .unwrap_err();
        assert!(
            matches!(err, MaskError::InvalidValue { .. }),
            "{bad}: {err}"
        );
    }
    let mut frozen = LayerRates::uniform();
    for (_, entry) in before.iter() {
        frozen.set(entry.kind(), 0.0).unwrap();
    }
    let err = prune_to_sparsity(&mut masks, &scores, Scope::Layerwise, &frozen, 0.5).unwrap_err();
    assert!(matches!(err, MaskError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains("needed"), "{err}");
    assert_eq!(masks, before);
}
