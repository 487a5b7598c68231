//! Shared fixtures for Sprig's criterion benchmarks (`cargo bench -p sprig-benches`).

use sprig_mask::{MaskSet, Snapshot};

/// The prunable weight shapes of LeNet-300-100 (266,200 weights), with their layer kinds.
pub const LENET_300_100: &[(&str, &str, [usize; 2])] = &[
    ("fc1.weight", "linear", [784, 300]),
    ("fc2.weight", "linear", [300, 100]),
    ("fc3.weight", "output", [100, 10]),
];

/// A snapshot of LeNet-300-100-shaped weights with deterministic, varied values, and the
/// dense masks of its prunable tensors.
pub fn lenet_weights() -> (Snapshot, MaskSet) {
    let mut snapshot = Snapshot::new();
    let mut masks = MaskSet::new();
    let mut state = 0x2545_F491_u32;
    for (name, kind, shape) in LENET_300_100 {
        let values = (0..shape[0] * shape[1])
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                state as f32 / u32::MAX as f32 - 0.5
            })
            .collect();
        snapshot
            .insert(*name, shape.to_vec(), values)
            .expect("distinct names, matching lengths");
        masks
            .insert_dense(*name, *kind, shape)
            .expect("distinct names");
    }
    (snapshot, masks)
}
