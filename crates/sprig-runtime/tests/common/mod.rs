//! Models the runtime's tests write and load.

// Each test binary includes this module and uses a part of it.
#![allow(dead_code)]

use sprig_runtime::{
    ConvGeometry, EncodeOptions, Encoding, EncodingChoice, Execution, Graph, Layer, Model,
    Preprocess, Quantization, TensorSpec, read_model, write_model,
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
                geometry: ConvGeometry::padded(1),
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

/// Weights of `n` values, a share `density` of them kept, varied by `salt`.
fn kept(n: usize, salt: f32, density: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            if ((i as f64 * 0.618_034 + f64::from(salt)).fract()) < density {
                ((i as f32 + salt) * 0.731).sin()
            } else {
                0.0
            }
        })
        .collect()
}

/// A small keyword-spotting net shaped like the DS-CNN, on 1×13×8 spectrograms: a 10×4
/// stem at stride 2 with Burn's asymmetric padding (1→4 channels) → ReLU → pool 2 →
/// depthwise 3×3 → ReLU → pointwise 1×1 → ReLU → global average pool → linear (4 → 3).
pub fn ds_cnn(density: f64) -> (Graph, Vec<TensorSpec>) {
    let graph = Graph {
        architecture: "test-ds-cnn".into(),
        input: [1, 13, 8],
        classes: 3,
        preprocess: Preprocess::None,
        metadata: vec![],
        layers: vec![
            Layer::Conv2d {
                weight: 0,
                bias: Some(1),
                geometry: ConvGeometry {
                    stride: [2, 2],
                    padding: [4, 1, 5, 2],
                    groups: 1,
                },
            },
            Layer::Relu,
            Layer::MaxPool2d { size: 2 },
            Layer::Conv2d {
                weight: 2,
                bias: Some(3),
                geometry: ConvGeometry {
                    groups: 4,
                    ..ConvGeometry::padded(1)
                },
            },
            Layer::Relu,
            Layer::Conv2d {
                weight: 4,
                bias: None,
                geometry: ConvGeometry::padded(0),
            },
            Layer::Relu,
            Layer::GlobalAvgPool,
            Layer::Linear {
                weight: 5,
                bias: Some(6),
            },
        ],
    };
    let tensors = vec![
        TensorSpec::new("stem.weight", vec![4, 1, 10, 4], kept(160, 0.1, density)),
        TensorSpec::new("stem.bias", vec![4], vec![0.1, -0.1, 0.05, 0.0]),
        TensorSpec::new("depthwise.weight", vec![4, 1, 3, 3], kept(36, 0.2, density)),
        TensorSpec::new("depthwise.bias", vec![4], vec![0.0, 0.2, -0.2, 0.1]),
        TensorSpec::new("pointwise.weight", vec![4, 4, 1, 1], kept(16, 0.3, density)),
        TensorSpec::new("output.weight", vec![3, 4], kept(12, 0.4, density)),
        TensorSpec::new("output.bias", vec![3], vec![0.3, -0.3, 0.0]),
    ];
    (graph, tensors)
}

/// A spectrogram for [`ds_cnn`].
pub fn spectrogram() -> Vec<f32> {
    (0..13 * 8).map(|i| (i as f32 * 0.23).sin() * 2.0).collect()
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

/// Writes `graph` in every encoding and checks that each reads back as written and gives
/// the dense file's logits on `input` in both executions; returns those logits.
pub fn every_encoding_agrees(graph: &Graph, tensors: &[TensorSpec], input: &[f32]) -> Vec<f32> {
    let write = |encoding| {
        write_model(
            graph,
            tensors,
            &options(EncodingChoice::Force(encoding), Quantization::F32),
        )
        .unwrap()
    };
    let reference = Model::load(&write(Encoding::Dense).bytes, Execution::Dense)
        .unwrap()
        .forward(input)
        .unwrap();
    for encoding in Encoding::ALL {
        let file = write(encoding);
        let (read_graph, sizes) = read_model(&file.bytes).unwrap();
        assert_eq!(read_graph, *graph, "{encoding:?}");
        assert_eq!(sizes, file.tensors, "{encoding:?}");
        for execution in [Execution::Dense, Execution::Sparse] {
            let logits = Model::load(&file.bytes, execution)
                .unwrap()
                .forward(input)
                .unwrap();
            for (a, b) in logits.iter().zip(&reference) {
                assert!(
                    (a - b).abs() < 1e-5,
                    "{encoding:?}/{execution:?}: {a} vs {b}"
                );
            }
        }
    }
    reference
}

// A text CNN (tests/text.rs checks it against its definition).

pub const VOCAB: usize = 9;
pub const DIM: usize = 3;
pub const LENGTH: usize = 6;
pub const FILTERS: usize = 2;
pub const WIDTHS: [usize; 2] = [2, 3];
pub const CLASSES: usize = 3;

/// Deterministic values with some exact zeros (pruned weights).
pub fn text_values(n: usize, salt: f32) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let v = ((i as f32 + 1.0) * salt).sin();
            if i % 3 == 1 { 0.0 } else { v }
        })
        .collect()
}

/// A text CNN: embedding, then per width a 1-D convolution, ReLU and max over time, the
/// branches side by side, then the output layer.
pub fn text_cnn() -> (Graph, Vec<TensorSpec>) {
    let mut tensors = vec![TensorSpec::new(
        "embedding.weight",
        vec![VOCAB, DIM],
        text_values(VOCAB * DIM, 0.7),
    )];
    let mut layers = vec![Layer::Embedding { table: 0 }, Layer::Save { slot: 0 }];
    for (i, &w) in WIDTHS.iter().enumerate() {
        tensors.push(TensorSpec::new(
            format!("convs.{i}.weight"),
            vec![FILTERS, DIM, w],
            text_values(FILTERS * DIM * w, 1.3 + i as f32),
        ));
        tensors.push(TensorSpec::new(
            format!("convs.{i}.bias"),
            vec![FILTERS],
            text_values(FILTERS, 0.4),
        ));
        if i > 0 {
            layers.push(Layer::Load { slot: 0 });
        }
        layers.extend([
            Layer::Conv2d {
                weight: tensors.len() - 2,
                bias: Some(tensors.len() - 1),
                geometry: sprig_runtime::ConvGeometry::padded(0),
            },
            Layer::Relu,
            Layer::GlobalMaxPool,
        ]);
        layers.push(if i == 0 {
            Layer::Save { slot: 1 }
        } else {
            Layer::ConcatAfter { slot: 1 }
        });
    }
    let features = FILTERS * WIDTHS.len();
    tensors.push(TensorSpec::new(
        "output.weight",
        vec![CLASSES, features],
        text_values(CLASSES * features, 0.9),
    ));
    tensors.push(TensorSpec::new(
        "output.bias",
        vec![CLASSES],
        text_values(CLASSES, 2.1),
    ));
    layers.push(Layer::Linear {
        weight: tensors.len() - 2,
        bias: Some(tensors.len() - 1),
    });
    (text_graph(layers, "text-cnn"), tensors)
}

pub fn text_graph(layers: Vec<Layer>, architecture: &str) -> Graph {
    Graph {
        architecture: architecture.into(),
        input: [1, 1, LENGTH],
        classes: CLASSES,
        preprocess: Preprocess::None,
        metadata: vec![("vocabulary".into(), "test".into())],
        layers,
    }
}

/// flatten → keep x → `W x + b` → add x → ReLU → the output layer, on 4 values.
pub fn residual(width: usize) -> (Graph, Vec<TensorSpec>) {
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
