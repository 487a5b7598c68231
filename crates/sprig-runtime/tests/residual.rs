//! Residual connections: a block's input kept in a slot and added back after the block
//! (`Layer::AddFrom`), checked against the definition, and refused when shapes differ.

mod common;

use common::every_encoding_agrees;
use sprig_runtime::{
    EncodeOptions, Execution, Graph, Layer, Model, Preprocess, RuntimeError, TensorSpec,
    write_model,
};

/// flatten → keep x → `W x + b` → add x → ReLU → the output layer, on 4 values.
fn residual(width: usize) -> (Graph, Vec<TensorSpec>) {
    let w: Vec<f32> = (0..width * 4)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                (i as f32 * 0.7).sin()
            }
        })
        .collect();
    let tensors = vec![
        TensorSpec::new("block.weight", vec![width, 4], w),
        TensorSpec::new("block.bias", vec![width], vec![0.1; width]),
        TensorSpec::new(
            "out.weight",
            vec![2, 4],
            vec![1.0, -1.0, 0.5, 0.0, 0.0, 2.0, 0.0, -0.5],
        ),
    ];
    let layers = vec![
        Layer::Flatten,
        Layer::Save { slot: 3 },
        Layer::Linear {
            weight: 0,
            bias: Some(1),
        },
        Layer::AddFrom { slot: 3 },
        Layer::Relu,
        Layer::Linear {
            weight: 2,
            bias: None,
        },
    ];
    let graph = Graph {
        architecture: "residual".into(),
        input: [1, 1, 4],
        classes: 2,
        preprocess: Preprocess::None,
        metadata: Vec::new(),
        layers,
    };
    (graph, tensors)
}

#[test]
fn a_kept_input_is_added_back_after_the_block() {
    let (graph, tensors) = residual(4);
    let x = [0.5, -1.0, 2.0, -0.25];
    let logits = every_encoding_agrees(&graph, &tensors, &x);
    let w = &tensors[0].values;
    let h: Vec<f32> = (0..4)
        .map(|o| {
            let block = 0.1 + (0..4).map(|i| w[o * 4 + i] * x[i]).sum::<f32>();
            (block + x[o]).max(0.0)
        })
        .collect();
    let out = &tensors[2].values;
    let expected: Vec<f32> = (0..2)
        .map(|c| (0..4).map(|i| out[c * 4 + i] * h[i]).sum())
        .collect();
    for (a, b) in logits.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{logits:?} vs {expected:?}");
    }
}

#[test]
fn adding_a_slot_of_another_shape_is_a_shape_error() {
    let (graph, tensors) = residual(3);
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    match Model::load(&file.bytes, Execution::Sparse) {
        Err(RuntimeError::Shape(why)) => assert!(why.contains("the shapes differ"), "{why}"),
        other => panic!("expected a shape error, got {other:?}"),
    }
}
