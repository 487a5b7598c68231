//! Models the runtime's tests write and load.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

use sprig_runtime::{
    EncodeOptions, EncodingChoice, Graph, Layer, Preprocess, Quantization, TensorSpec,
};

/// A small conv net: conv 3×3 (2→3 channels, padding 1) → ReLU → pool 2 → flatten →
/// linear (3·2·2 → 4) → ReLU → linear (4 → 3), on 2×4×4 inputs.
pub fn conv_net(density: f64) -> (Graph, Vec<TensorSpec>) {
    let values = |n: usize, salt: f32| -> Vec<f32> {
        (0..n)
            .map(|i| {
                let keep = ((i as f64 * 0.618_034 + f64::from(salt)).fract()) < density;
                if keep {
                    ((i as f32 + salt) * 0.731).sin()
                } else {
                    0.0
                }
            })
            .collect()
    };
    let graph = Graph {
        architecture: "test-net".into(),
        input: [2, 4, 4],
        classes: 3,
        preprocess: Preprocess::PixelAffine {
            scale: vec![1.0 / 255.0, 2.0 / 255.0],
            offset: vec![-0.5, -1.0],
        },
        metadata: vec![("note".into(), "made by a test".into())],
        layers: vec![
            Layer::Conv2d {
                weight: 0,
                bias: Some(1),
                padding: 1,
            },
            Layer::Relu,
            Layer::MaxPool2d { size: 2 },
            Layer::Flatten,
            Layer::Linear {
                weight: 2,
                bias: Some(3),
            },
            Layer::Relu,
            Layer::Linear {
                weight: 4,
                bias: None,
            },
        ],
    };
    let tensors = vec![
        TensorSpec::new("conv.weight", vec![3, 2, 3, 3], values(54, 0.1)),
        TensorSpec::new("conv.bias", vec![3], vec![0.1, -0.1, 0.05]),
        TensorSpec::new("fc1.weight", vec![4, 12], values(48, 0.2)),
        TensorSpec::new("fc1.bias", vec![4], vec![0.0, 0.2, -0.2, 0.1]),
        TensorSpec::new("fc2.weight", vec![3, 4], values(12, 0.3)),
    ];
    (graph, tensors)
}

pub fn input() -> Vec<f32> {
    (0..32).map(|i| (i as f32 * 0.3).cos()).collect()
}

pub fn options(encoding: EncodingChoice, quantization: Quantization) -> EncodeOptions {
    EncodeOptions {
        encoding,
        quantization,
    }
}
