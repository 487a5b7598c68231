//! Text models: token ids through an embedding table, a text CNN's parallel filter widths
//! (branches kept in slots, max over time, side by side) and a bag of embeddings, checked
//! against a direct computation of what Burn's `TextCnn` and `BagOfEmbeddings` compute.

mod common;

use common::{
    CLASSES, DIM, FILTERS, LENGTH, VOCAB, WIDTHS, every_encoding_agrees, text_cnn, text_graph,
    text_values,
};
use sprig_runtime::{
    EncodeOptions, Execution, Graph, Layer, Model, RuntimeError, TensorSpec, write_model,
};

/// A bag of embeddings: the mean embedding of the tokens that are not padding, a hidden
/// layer with ReLU, the output layer.
fn bag() -> (Graph, Vec<TensorSpec>) {
    let hidden = 4;
    let tensors = vec![
        TensorSpec::new(
            "embedding.weight",
            vec![VOCAB, DIM],
            text_values(VOCAB * DIM, 0.7),
        ),
        TensorSpec::new(
            "hidden.weight",
            vec![hidden, DIM],
            text_values(hidden * DIM, 1.1),
        ),
        TensorSpec::new("hidden.bias", vec![hidden], text_values(hidden, 0.3)),
        TensorSpec::new(
            "output.weight",
            vec![CLASSES, hidden],
            text_values(CLASSES * hidden, 0.5),
        ),
        TensorSpec::new("output.bias", vec![CLASSES], text_values(CLASSES, 2.1)),
    ];
    let layers = vec![
        Layer::EmbeddingMean { table: 0 },
        Layer::Linear {
            weight: 1,
            bias: Some(2),
        },
        Layer::Relu,
        Layer::Linear {
            weight: 3,
            bias: Some(4),
        },
    ];
    (text_graph(layers, "bag-of-embeddings"), tensors)
}

fn tensor<'a>(tensors: &'a [TensorSpec], name: &str) -> &'a [f32] {
    &tensors.iter().find(|t| t.name == name).unwrap().values
}

/// `W x + b` for a row-major `[out, in]` weight.
fn linear(w: &[f32], b: &[f32], x: &[f32]) -> Vec<f32> {
    b.iter()
        .enumerate()
        .map(|(o, b)| b + (0..x.len()).map(|i| w[o * x.len() + i] * x[i]).sum::<f32>())
        .collect()
}

/// What Burn's `TextCnn::forward` computes, written out.
fn text_cnn_reference(tensors: &[TensorSpec], ids: &[usize]) -> Vec<f32> {
    let table = tensor(tensors, "embedding.weight");
    let mut features = Vec::new();
    for (i, &w) in WIDTHS.iter().enumerate() {
        let weight = tensor(tensors, &format!("convs.{i}.weight"));
        let bias = tensor(tensors, &format!("convs.{i}.bias"));
        for f in 0..FILTERS {
            let best = (0..=LENGTH - w)
                .map(|t| {
                    let mut s = bias[f];
                    for d in 0..DIM {
                        for k in 0..w {
                            s += weight[(f * DIM + d) * w + k] * table[ids[t + k] * DIM + d];
                        }
                    }
                    s.max(0.0)
                })
                .fold(f32::NEG_INFINITY, f32::max);
            features.push(best);
        }
    }
    linear(
        tensor(tensors, "output.weight"),
        tensor(tensors, "output.bias"),
        &features,
    )
}

/// What Burn's `BagOfEmbeddings::forward` computes, written out.
fn bag_reference(tensors: &[TensorSpec], ids: &[usize]) -> Vec<f32> {
    let table = tensor(tensors, "embedding.weight");
    let tokens: Vec<usize> = ids.iter().copied().filter(|&id| id != 0).collect();
    let mut mean = vec![0.0; DIM];
    for id in &tokens {
        for d in 0..DIM {
            mean[d] += table[id * DIM + d];
        }
    }
    mean.iter_mut()
        .for_each(|m| *m /= tokens.len().max(1) as f32);
    let hidden = linear(
        tensor(tensors, "hidden.weight"),
        tensor(tensors, "hidden.bias"),
        &mean,
    );
    let hidden: Vec<f32> = hidden.iter().map(|h| h.max(0.0)).collect();
    linear(
        tensor(tensors, "output.weight"),
        tensor(tensors, "output.bias"),
        &hidden,
    )
}

type Reference = fn(&[TensorSpec], &[usize]) -> Vec<f32>;
type Make = fn() -> (Graph, Vec<TensorSpec>);

#[test]
fn text_models_compute_what_their_definitions_say_in_every_encoding() {
    let sentences: [&[usize]; 4] = [
        &[2, 5, 8, 1, 3, 7],
        &[4, 4, 6, 0, 0, 0],
        &[8, 0, 0, 0, 0, 0],
        &[0, 0, 0, 0, 0, 0],
    ];
    let models: [(Make, Reference); 2] = [(text_cnn, text_cnn_reference), (bag, bag_reference)];
    for (make, reference) in models {
        let (graph, tensors) = make();
        for ids in sentences {
            let input: Vec<f32> = ids.iter().map(|&i| i as f32).collect();
            let logits = every_encoding_agrees(&graph, &tensors, &input);
            let expected = reference(&tensors, ids);
            for (a, b) in logits.iter().zip(&expected) {
                assert!(
                    (a - b).abs() < 1e-5,
                    "{}, {ids:?}: {logits:?} vs {expected:?}",
                    graph.architecture
                );
            }
        }
    }
}

#[test]
fn token_ids_are_padded_or_cut_to_the_length_training_used() {
    let (graph, tensors) = text_cnn();
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    let model = Model::load(&file.bytes, Execution::Sparse).unwrap();
    assert_eq!(model.vocabulary(), Some(VOCAB));
    let padded = model.forward(&[4.0, 4.0, 6.0, 0.0, 0.0, 0.0]).unwrap();
    assert_eq!(model.forward_tokens(&[4, 4, 6]).unwrap(), padded);
    let full = model.forward(&[2.0, 5.0, 8.0, 1.0, 3.0, 7.0]).unwrap();
    assert_eq!(
        model.forward_tokens(&[2, 5, 8, 1, 3, 7, 7, 7]).unwrap(),
        full
    );
}

#[test]
fn bad_text_inputs_and_graphs_are_errors_that_say_why() {
    let (graph, tensors) = text_cnn();
    let load = |graph: &Graph| {
        let file = write_model(graph, &tensors, &EncodeOptions::default()).unwrap();
        Model::load(&file.bytes, Execution::Sparse)
    };
    let model = load(&graph).unwrap();
    let shape_error = |result: Result<Vec<f32>, RuntimeError>, says: &str| match result {
        Err(RuntimeError::Shape(why)) => assert!(why.contains(says), "{why}"),
        other => panic!("expected a shape error saying {says:?}, got {other:?}"),
    };
    // Inputs: every value must be a token id of the vocabulary.
    let cases: [(&[f32], &str); 4] = [
        (&[1.0, 2.0, 9.0, 0.0, 0.0, 0.0], "input 2 is 9"),
        (&[1.0, 2.5, 3.0, 0.0, 0.0, 0.0], "input 1 is 2.5"),
        (&[-1.0, 2.0, 3.0, 0.0, 0.0, 0.0], "input 0 is -1"),
        (&[f32::NAN, 2.0, 3.0, 0.0, 0.0, 0.0], "input 0 is NaN"),
    ];
    for (input, says) in cases {
        shape_error(model.forward(input), says);
    }
    shape_error(model.forward_tokens(&[1, 99]), "input 1 is 99");
    let (image_graph, image_tensors) = common::conv_net(0.5);
    let file = write_model(&image_graph, &image_tensors, &EncodeOptions::default()).unwrap();
    let image_model = Model::load(&file.bytes, Execution::Sparse).unwrap();
    shape_error(image_model.forward_tokens(&[1, 2]), "not token ids");
    // Graphs: an embedding after the first layer, a branch from a slot never saved.
    let mut late = graph.clone();
    late.layers.insert(1, Layer::Embedding { table: 0 });
    let mut unsaved = graph.clone();
    unsaved
        .layers
        .retain(|l| !matches!(l, Layer::Save { slot: 1 }));
    for (graph, says) in [(late, "comes first"), (unsaved, "slot 1 was never saved")] {
        match load(&graph) {
            Err(RuntimeError::Shape(why)) => assert!(why.contains(says), "{why}"),
            other => panic!("expected a shape error saying {says:?}, got {other:?}"),
        }
    }
}
