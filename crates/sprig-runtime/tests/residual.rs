//! Residual connections: a block's input kept in a slot and added back after the block
//! (`Layer::AddFrom`), checked against the definition, and refused when shapes differ.

mod common;

use common::{every_encoding_agrees, residual};
use sprig_runtime::{EncodeOptions, Execution, Model, RuntimeError, write_model};

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
