//! Shared fixtures for Sprig's criterion benchmarks (`cargo bench -p sprig-benches`).

use sprig_mask::{MaskSet, Snapshot};

mod train;

pub use train::{
    Masking, SPARSE_STEP_SPARSITIES, STEP_MODELS, StepFixture, fixture_sparsity,
    sparse_step_fixture, step_fixture, step_fixture_on,
};

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

/// LeNet-300-100 in the runtime's file format with its smallest `1 − sparsity` share of
/// weights by magnitude removed (global threshold), deterministic values, non-zero biases.
/// Inference latency depends on the sparsity pattern's size, not on trained values.
pub fn lenet_runtime_file(sparsity: f64, format: sprig_export::ExportFormat) -> Vec<u8> {
    use sprig_runtime::{Graph, Layer, Preprocess, TensorSpec, write_model};
    let (snapshot, _) = lenet_weights();
    let mut magnitudes: Vec<f32> = snapshot
        .iter()
        .flat_map(|(_, t)| t.values().iter().map(|v| v.abs()))
        .collect();
    magnitudes.sort_by(f32::total_cmp);
    let cut = ((magnitudes.len() as f64 * sparsity) as usize).min(magnitudes.len() - 1);
    let threshold = if sparsity > 0.0 {
        magnitudes[cut]
    } else {
        -1.0
    };
    let mut tensors = Vec::new();
    let mut layers = vec![Layer::Flatten];
    for (i, (name, _, [inputs, outputs])) in LENET_300_100.iter().enumerate() {
        let values = snapshot.get(name).expect("fixture tensor").values();
        // Burn's [in, out] to the runtime's [out, in], pruned below the threshold.
        let mut w = vec![0.0; values.len()];
        for r in 0..*inputs {
            for c in 0..*outputs {
                let v = values[r * outputs + c];
                w[c * inputs + r] = if v.abs() < threshold { 0.0 } else { v };
            }
        }
        tensors.push(TensorSpec::new(*name, vec![*outputs, *inputs], w));
        let bias = (0..*outputs)
            .map(|j| (j as f32 * 0.1).sin() * 0.1)
            .collect();
        tensors.push(TensorSpec::new(
            name.replace("weight", "bias"),
            vec![*outputs],
            bias,
        ));
        layers.push(Layer::Linear {
            weight: 2 * i,
            bias: Some(2 * i + 1),
        });
        if i < 2 {
            layers.push(Layer::Relu);
        }
    }
    let graph = Graph {
        architecture: "lenet-300-100".into(),
        input: [1, 28, 28],
        classes: 10,
        // MNIST's normalisation (mean 0.1307, std 0.3081 of p / 255).
        preprocess: Preprocess::PixelAffine {
            scale: vec![1.0 / (255.0 * 0.3081)],
            offset: vec![-0.1307 / 0.3081],
        },
        metadata: Vec::new(),
        layers,
    };
    write_model(&graph, &tensors, &format.options())
        .expect("a valid model")
        .bytes
}
