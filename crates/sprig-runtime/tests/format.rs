//! The file format round-trips every encoding and number type, and a damaged file is an
//! error that says what is wrong, never a panic.

mod common;

use common::{conv_net, ds_cnn, every_encoding_agrees, input, options, spectrogram};
use proptest::prelude::*;
use sprig_runtime::{
    ConvGeometry, EncodeOptions, Encoding, EncodingChoice, Execution, FORMAT_VERSION, Graph, Layer,
    Model, Preprocess, Quantization, RuntimeError, TensorSpec, write_model,
};

#[test]
fn every_encoding_gives_the_same_logits_in_both_executions() {
    let (graph, tensors) = conv_net(0.4);
    every_encoding_agrees(&graph, &tensors, &input());
}

#[test]
fn a_keyword_spotting_net_round_trips_and_runs_alike_in_both_executions() {
    let (graph, tensors) = ds_cnn(0.5);
    let reference = every_encoding_agrees(&graph, &tensors, &spectrogram());
    assert_eq!(reference.len(), 3);
    assert!(reference.iter().any(|v| v.abs() > 1e-3), "{reference:?}");
    // Geometries that cannot run are errors when loading, never panics: shapes that do
    // not fit, and a stride or group count of 0, which no file may hold.
    let shape_error = |e: &RuntimeError| matches!(e, RuntimeError::Shape(_));
    let invalid = |e: &RuntimeError| matches!(e, RuntimeError::Invalid(_));
    let depthwise = |groups, padding| ConvGeometry {
        groups,
        ..ConvGeometry::padded(padding)
    };
    type Expected = fn(&RuntimeError) -> bool;
    let cases: [(usize, ConvGeometry, Expected); 5] = [
        (3, depthwise(3, 1), shape_error),
        (3, depthwise(2, 1), shape_error),
        (3, depthwise(4, 0), shape_error),
        (3, depthwise(0, 1), invalid),
        (
            0,
            ConvGeometry {
                stride: [0, 1],
                ..ConvGeometry::padded(0)
            },
            invalid,
        ),
    ];
    for (layer, geometry, expected) in cases {
        let mut graph = graph.clone();
        let Layer::Conv2d { weight, bias, .. } = graph.layers[layer] else {
            unreachable!("layer {layer} is a convolution");
        };
        graph.layers[layer] = Layer::Conv2d {
            weight,
            bias,
            geometry,
        };
        let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
        let err = Model::load(&file.bytes, Execution::Sparse).unwrap_err();
        assert!(expected(&err), "{geometry:?}: {err}");
    }
}

#[test]
fn int8_stays_close_and_per_row_scales_are_at_least_as_close() {
    let (graph, tensors) = conv_net(0.5);
    let load = |q| {
        Model::load(
            &write_model(&graph, &tensors, &options(EncodingChoice::Smallest, q))
                .unwrap()
                .bytes,
            Execution::Sparse,
        )
        .unwrap()
        .forward(&input())
        .unwrap()
    };
    let exact = load(Quantization::F32);
    let err = |q| {
        load(q)
            .iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0_f32, f32::max)
    };
    let (tensor, row) = (
        err(Quantization::Int8PerTensor),
        err(Quantization::Int8PerRow),
    );
    assert!(tensor < 0.05 && row < 0.05, "int8 errors {tensor}, {row}");
    assert!(row <= tensor + 1e-6);
}

#[test]
fn the_smallest_encoding_is_chosen_per_tensor() {
    let (graph, mut tensors) = conv_net(0.03);
    // A wide, very sparse row: gaps over 255 need fillers in the delta encoding.
    tensors[2] = TensorSpec::new(
        "fc1.weight",
        vec![4, 12],
        (0..48).map(|i| if i == 47 { 1.0 } else { 0.0 }).collect(),
    );
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    for size in &file.tensors {
        let forced: Vec<usize> = Encoding::ALL
            .iter()
            .map(|&e| {
                write_model(
                    &graph,
                    &tensors,
                    &options(EncodingChoice::Force(e), Quantization::F32),
                )
                .unwrap()
                .tensors
                .into_iter()
                .find(|t| t.name == size.name)
                .unwrap()
                .bytes
            })
            .collect();
        assert_eq!(size.bytes, *forced.iter().min().unwrap(), "{}", size.name);
    }
    // Biases are always dense f32.
    assert_eq!(file.tensors[1].encoding, Encoding::Dense);
}

#[test]
fn delta_encoding_bridges_long_gaps_with_fillers() {
    let row: Vec<f32> = (0..2000)
        .map(|i| {
            if [0, 700, 1999].contains(&i) {
                i as f32 + 1.0
            } else {
                0.0
            }
        })
        .collect();
    let graph = Graph {
        architecture: "wide".into(),
        input: [1, 1, 2000],
        classes: 1,
        preprocess: Preprocess::None,
        metadata: vec![],
        layers: vec![
            Layer::Flatten,
            Layer::Linear {
                weight: 0,
                bias: None,
            },
        ],
    };
    let tensors = vec![TensorSpec::new("w", vec![1, 2000], row.clone())];
    let file = write_model(
        &graph,
        &tensors,
        &options(EncodingChoice::Force(Encoding::CsrDelta), Quantization::F32),
    )
    .unwrap();
    let x: Vec<f32> = (0..2000).map(|i| (i % 7) as f32).collect();
    let exact: f32 = row.iter().zip(&x).map(|(w, x)| w * x).sum();
    let got = Model::load(&file.bytes, Execution::Sparse)
        .unwrap()
        .forward(&x)
        .unwrap();
    assert_eq!(got, vec![exact]);
    assert_eq!(file.tensors[0].nonzeros, 3);
}

#[test]
fn damaged_files_are_errors_not_panics() {
    let (graph, tensors) = conv_net(0.3);
    let good = write_model(&graph, &tensors, &EncodeOptions::default())
        .unwrap()
        .bytes;
    assert!(Model::load(&good, Execution::Sparse).is_ok());

    assert_eq!(
        Model::load(b"hello", Execution::Sparse).unwrap_err(),
        RuntimeError::NotAModel
    );
    let mut newer = good.clone();
    newer[8..10].copy_from_slice(&(FORMAT_VERSION + 1).to_le_bytes());
    assert!(matches!(
        Model::load(&newer, Execution::Sparse),
        Err(RuntimeError::Version { found, .. }) if found == FORMAT_VERSION + 1
    ));
    // Every truncation is an error.
    for len in 0..good.len() {
        assert!(
            Model::load(&good[..len], Execution::Sparse).is_err(),
            "cut at {len}"
        );
    }
    let cut = Model::load(&good[..good.len() - 1], Execution::Sparse).unwrap_err();
    assert!(matches!(cut, RuntimeError::Truncated { .. }), "{cut}");
    // Every flipped body byte is caught by the checksum.
    for at in 24..good.len() {
        let mut bad = good.clone();
        bad[at] ^= 0x40;
        assert!(matches!(
            Model::load(&bad, Execution::Sparse),
            Err(RuntimeError::Checksum { .. })
        ));
    }
    let mut longer = good.clone();
    longer.push(0);
    assert!(Model::load(&longer, Execution::Sparse).is_err());
}

#[test]
fn shapes_that_do_not_chain_are_shape_errors() {
    let (mut graph, tensors) = conv_net(0.3);
    graph.layers.remove(3); // no flatten before the linear layer
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    let err = Model::load(&file.bytes, Execution::Sparse).unwrap_err();
    assert!(matches!(err, RuntimeError::Shape(_)), "{err}");
    let (mut graph, tensors) = conv_net(0.3);
    graph.classes = 4;
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    assert!(matches!(
        Model::load(&file.bytes, Execution::Sparse),
        Err(RuntimeError::Shape(_))
    ));
    let (graph, tensors) = conv_net(0.3);
    let model = Model::load(
        &write_model(&graph, &tensors, &EncodeOptions::default())
            .unwrap()
            .bytes,
        Execution::Sparse,
    )
    .unwrap();
    assert!(matches!(
        model.forward(&[0.0; 3]),
        Err(RuntimeError::Shape(_))
    ));
    // A layer naming a missing tensor cannot even be written.
    let (mut graph, tensors) = conv_net(0.3);
    graph.layers.push(Layer::Linear {
        weight: 9,
        bias: None,
    });
    assert!(matches!(
        write_model(&graph, &tensors, &EncodeOptions::default()),
        Err(RuntimeError::Invalid(_))
    ));
}

#[test]
fn preprocessing_reproduces_the_affine_pixel_map() {
    let (graph, tensors) = conv_net(0.3);
    let model = Model::load(
        &write_model(&graph, &tensors, &EncodeOptions::default())
            .unwrap()
            .bytes,
        Execution::Sparse,
    )
    .unwrap();
    let pixels: Vec<u8> = (0..32).map(|i| (i * 8) as u8).collect();
    let x = model.preprocess(&pixels).unwrap();
    assert_eq!(x[0], 0.0 * (1.0 / 255.0) - 0.5);
    assert_eq!(x[16], f32::from(pixels[16]) * (2.0 / 255.0) - 1.0);
    assert!(model.preprocess(&pixels[..5]).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any sparse matrix survives a round trip in every encoding, bit for bit in f32.
    #[test]
    fn f32_round_trips_are_exact(
        rows in 1usize..6,
        cols in 1usize..700,
        seed in any::<u64>(),
        density in 0.0f64..1.0,
    ) {
        let mut state = seed | 1;
        let mut next = || { state ^= state << 13; state ^= state >> 7; state ^= state << 17; state };
        let values: Vec<f32> = (0..rows * cols)
            .map(|_| {
                let r = next();
                if (r % 1000) as f64 / 1000.0 < density { (r >> 20) as f32 / 1e6 - 2000.0 } else { 0.0 }
            })
            .collect();
        let graph = Graph {
            architecture: "prop".into(),
            input: [1, 1, cols],
            classes: rows,
            preprocess: Preprocess::None,
            metadata: vec![],
            layers: vec![Layer::Flatten, Layer::Linear { weight: 0, bias: None }],
        };
        let tensors = vec![TensorSpec::new("w", vec![rows, cols], values.clone())];
        let x: Vec<f32> = (0..cols).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }).collect();
        let mut expected = Vec::new();
        for e in Encoding::ALL {
            let file = write_model(&graph, &tensors, &options(EncodingChoice::Force(e), Quantization::F32)).unwrap();
            let model = Model::load(&file.bytes, Execution::Dense).unwrap();
            let out = model.forward(&x).unwrap();
            if expected.is_empty() { expected = out.clone(); }
            prop_assert_eq!(&out, &expected);
            prop_assert_eq!(file.tensors[0].nonzeros, values.iter().filter(|v| **v != 0.0).count());
        }
    }
}

#[test]
fn raw_pixels_give_the_logits_of_their_preprocessed_input() {
    // Flatten → linear on 2×3×3 pixels, most of them zero (as in MNIST's background).
    let weights: Vec<f32> = (0..4 * 18)
        .map(|i| {
            if i % 3 == 0 {
                0.0
            } else {
                ((i as f32) * 0.41).sin()
            }
        })
        .collect();
    let graph = Graph {
        architecture: "pixels".into(),
        input: [2, 3, 3],
        classes: 4,
        preprocess: Preprocess::PixelAffine {
            scale: vec![1.0 / 255.0, 1.0 / 127.0],
            offset: vec![-0.4, 0.3],
        },
        metadata: vec![],
        layers: vec![
            Layer::Flatten,
            Layer::Linear {
                weight: 0,
                bias: Some(1),
            },
        ],
    };
    let tensors = vec![
        TensorSpec::new("w", vec![4, 18], weights),
        TensorSpec::new("b", vec![4], vec![0.1, 0.2, -0.3, 0.0]),
    ];
    let bytes = write_model(&graph, &tensors, &EncodeOptions::default())
        .unwrap()
        .bytes;
    let pixels: Vec<u8> = (0..18)
        .map(|i| if i % 4 == 0 { (i * 13) as u8 } else { 0 })
        .collect();
    let dense = Model::load(&bytes, Execution::Dense).unwrap();
    let expected = dense.forward(&dense.preprocess(&pixels).unwrap()).unwrap();
    for execution in [Execution::Sparse, Execution::Dense] {
        let model = Model::load(&bytes, execution).unwrap();
        let got = model.forward_pixels(&pixels).unwrap();
        for (a, b) in got.iter().zip(&expected) {
            assert!((a - b).abs() < 1e-5, "{execution:?}: {a} vs {b}");
        }
        assert_eq!(
            model.predict_pixels(&pixels).unwrap(),
            model.predict(&model.preprocess(&pixels).unwrap()).unwrap()
        );
    }
    assert!(
        Model::load(&bytes, Execution::Sparse)
            .unwrap()
            .forward_pixels(&pixels[..3])
            .is_err()
    );
}
