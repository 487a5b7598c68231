//! An exported ticket computes what the Burn model computes, and a LeNet-300-100 ticket
//! at the LTH paper's smallest matching size (3.6% of weights) fits the size targets.

use burn::tensor::{Int, Tensor, TensorData};
use sprig_backend::Backend;
use sprig_export::{ExportFormat, ModelSpec, SizeReport, export};
use sprig_mask::{LayerRates, MaskSet, Scope, Scores, prune_to_sparsity};
use sprig_models::{
    AudioCnn, BagOfEmbeddings, Classifier, ConvNet, DsCnn, Initialization, Lenet300100, ResNet,
    TextCnn, TextCnnSize, initial_weights,
};
use sprig_prune::{load_snapshot, snapshot, tensor_shapes};
use sprig_runtime::{Execution, Model, Preprocess};

/// θ0 of `model`, magnitude-pruned to `sparsity`, with biases made non-zero so they
/// are exercised too.
fn pruned<M: Classifier>(model: &M, sparsity: f64, init: Initialization) -> sprig_mask::Snapshot {
    let shapes = tensor_shapes(model);
    let weights = initial_weights(&shapes, init, 7).unwrap();
    let mut masks = MaskSet::new();
    for t in model.prunable() {
        let shape = &shapes.iter().find(|(p, _)| *p == t.path).unwrap().1;
        masks.insert_dense(&t.path, t.kind, shape).unwrap();
    }
    let scores = Scores::magnitude(&weights);
    prune_to_sparsity(
        &mut masks,
        &scores,
        Scope::Global,
        &LayerRates::uniform(),
        sparsity,
    )
    .unwrap();
    let mut weights = weights.masked(&masks).unwrap();
    for (name, _) in shapes.iter().filter(|(p, _)| p.ends_with("bias")) {
        let t = weights.get_mut(name).unwrap();
        for (i, v) in t.values_mut().iter_mut().enumerate() {
            *v = ((i as f32) * 0.37).sin() * 0.1;
        }
    }
    weights
}

/// Inputs in roughly the range of normalised images.
fn inputs(n: usize, len: usize) -> Vec<f32> {
    (0..n * len)
        .map(|i| ((i as f32) * 0.0137).sin() * 1.5)
        .collect()
}

/// Burn's logits and the runtime's for the same inputs; returns (agreeing argmax
/// fraction, largest logit difference).
fn compare<M: Classifier<Input = Tensor<4>>>(
    model: M,
    weights: &sprig_mask::Snapshot,
    input: [usize; 3],
    runtime: &Model,
) -> (f64, f32) {
    compare_with(model, weights, input, |x| runtime.forward(x).unwrap())
}

/// Burn's logits and `forward`'s for the same inputs, as [`compare`].
fn compare_with<M: Classifier<Input = Tensor<4>>>(
    model: M,
    weights: &sprig_mask::Snapshot,
    input: [usize; 3],
    forward: impl Fn(&[f32]) -> Vec<f32>,
) -> (f64, f32) {
    let device = Backend::Flex.device().unwrap();
    let n = 64;
    let len: usize = input.iter().product();
    let x = inputs(n, len);
    let batch = Tensor::<4>::from_data(
        TensorData::new(x.clone(), [n, input[0], input[1], input[2]]),
        &device,
    );
    let burn = burn_logits(model, weights, batch);
    agreement(&burn, n, |i| forward(&x[i * len..(i + 1) * len]))
}

/// The logits of `model` holding `weights` for `batch`, flat.
fn burn_logits<M: Classifier>(
    model: M,
    weights: &sprig_mask::Snapshot,
    batch: M::Input,
) -> Vec<f32> {
    load_snapshot(model, weights)
        .unwrap()
        .forward(batch)
        .into_data()
        .convert::<f32>()
        .try_to_vec::<f32>()
        .unwrap()
}

/// Burn's logits of `n` examples against `ours(i)` for each: (agreeing argmax fraction,
/// largest logit difference).
fn agreement(burn: &[f32], n: usize, ours: impl Fn(usize) -> Vec<f32>) -> (f64, f32) {
    let classes = burn.len() / n;
    let (mut agree, mut worst) = (0, 0.0_f32);
    for i in 0..n {
        let ours = ours(i);
        let theirs = &burn[i * classes..(i + 1) * classes];
        for (a, b) in ours.iter().zip(theirs) {
            worst = worst.max((a - b).abs());
        }
        let argmax = |v: &[f32]| (0..v.len()).fold(0, |b, j| if v[j] > v[b] { j } else { b });
        agree += usize::from(argmax(&ours) == argmax(theirs));
    }
    (agree as f64 / n as f64, worst)
}

#[test]
fn lenet_ticket_at_3_6_percent_is_small_and_computes_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    let model = Lenet300100::new(784, 10, &device);
    let weights = pruned(&model, 0.964, Initialization::GlorotNormal);
    let graph = model.inference_graph();
    let spec = ModelSpec::new("lenet-300-100", [1, 28, 28], 10, Preprocess::None);
    let dense = export(&graph, &weights, &spec, ExportFormat::DenseF32).unwrap();
    let f32_file = export(&graph, &weights, &spec, ExportFormat::SparseF32).unwrap();
    let int8 = export(&graph, &weights, &spec, ExportFormat::SparseInt8).unwrap();
    let (d, s, q) = (
        SizeReport::of(&dense),
        SizeReport::of(&f32_file),
        SizeReport::of(&int8),
    );
    assert!(d.total_bytes > 1_060_000, "dense {}", d.total_bytes);
    assert!(s.total_bytes <= 60_000, "sparse f32 {}\n{s}", s.total_bytes);
    assert!(
        q.total_bytes <= 35_000,
        "sparse int8 {}\n{q}",
        q.total_bytes
    );
    for execution in [Execution::Sparse, Execution::Dense] {
        let runtime = Model::load(&f32_file.bytes, execution).unwrap();
        let (agree, worst) = compare(
            Lenet300100::new(784, 10, &device),
            &weights,
            [1, 28, 28],
            &runtime,
        );
        assert_eq!(agree, 1.0, "{execution:?}");
        assert!(worst < 1e-4, "{execution:?}: logits differ by {worst}");
    }
}

#[test]
fn conv_tickets_compute_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    let input = [3, 8, 8];
    // Conv-2, Conv-4 and Conv-6: one, two and three pairs of convolutions.
    for pairs in 1..=3 {
        let model = ConvNet::new(pairs, input, 10, &device);
        let weights = pruned(&model, 0.8, Initialization::GlorotNormal);
        let spec = ModelSpec::new("conv", input, 10, Preprocess::None);
        let file = export(
            &model.inference_graph(),
            &weights,
            &spec,
            ExportFormat::SparseF32,
        )
        .unwrap();
        let runtime = Model::load(&file.bytes, Execution::Sparse).unwrap();
        let fresh = ConvNet::new(pairs, input, 10, &device);
        let (agree, worst) = compare(fresh, &weights, input, &runtime);
        assert_eq!(agree, 1.0, "{pairs} pair(s)");
        assert!(worst < 1e-4, "{pairs} pair(s): logits differ by {worst}");
        // Pruned weights are neither stored nor multiplied (Conv-2's 80 % is mostly its
        // fully connected weights, used once; deeper nets keep more of their convolutions,
        // whose weights are used at every pixel).
        let dense = Model::load(&file.bytes, Execution::Dense).unwrap();
        let saving = if pairs == 1 { 4 } else { 1 };
        assert!(
            runtime.multiply_adds() * saving < dense.multiply_adds(),
            "{pairs} pair(s): {} of {} multiply-adds",
            runtime.multiply_adds(),
            dense.multiply_adds()
        );
    }
}

#[test]
fn audio_cnn_ticket_computes_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    // FSDD's spectrograms: 61 frames × 40 mel bands (odd sides: pooling floors them).
    let input = [1, 61, 40];
    let model = AudioCnn::new(input, 10, &device);
    let weights = pruned(&model, 0.9, Initialization::KaimingNormal);
    runtime_agrees(
        &model,
        || AudioCnn::new(input, 10, &device),
        &weights,
        input,
    );
}

/// Batch norms (the tensors whose path contains `marker`) far from the identity, so their
/// fold is exercised: scales of both signs, shifted means, variances away from 1.
fn norms_away_from_identity(weights: &mut sprig_mask::Snapshot, marker: &str) {
    let names: Vec<String> = weights
        .iter()
        .map(|(n, _)| n.to_string())
        .filter(|n| n.contains(marker))
        .collect();
    for name in names {
        let t = weights.get_mut(&name).unwrap();
        for (i, v) in t.values_mut().iter_mut().enumerate() {
            let x = (i as f32 * 0.61).sin();
            *v = if name.ends_with("running_var") {
                0.2 + x * x
            } else if name.ends_with("gamma") {
                1.5 * x
            } else {
                0.3 * x
            };
        }
    }
}

#[test]
fn resnet_ticket_with_its_shortcuts_and_folded_norms_computes_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    // Small images: the two stride-2 stages still leave a 2×2 plane.
    let input = [3, 8, 8];
    let model = ResNet::resnet20(3, 10, &device);
    let mut weights = pruned(&model, 0.8, Initialization::KaimingNormal);
    norms_away_from_identity(&mut weights, ".bn.");
    runtime_agrees(&model, || ResNet::resnet20(3, 10, &device), &weights, input);
}

#[test]
fn ds_cnn_ticket_with_its_batch_norms_folded_computes_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    // FSDD's spectrograms: 61 frames × 40 mel bands.
    let input = [1, 61, 40];
    let model = DsCnn::new(10, &device);
    let mut weights = pruned(&model, 0.8, Initialization::KaimingNormal);
    norms_away_from_identity(&mut weights, "_norm");
    runtime_agrees(&model, || DsCnn::new(10, &device), &weights, input);
}

/// `model`'s ticket `weights`, exported in sparse f32 and run by the runtime in both
/// executions, predicts Burn's class on every input (a `fresh` model holds Burn's copy),
/// its logits within 1e-3.
fn runtime_agrees<M: Classifier<Input = Tensor<4>>>(
    model: &M,
    fresh: impl Fn() -> M,
    weights: &sprig_mask::Snapshot,
    input: [usize; 3],
) {
    let spec = ModelSpec::new("ticket", input, 10, Preprocess::None);
    let graph = model.inference_graph().expect("a graph the runtime runs");
    let file = export(&graph, weights, &spec, ExportFormat::SparseF32).unwrap();
    for execution in [Execution::Sparse, Execution::Dense] {
        let runtime = Model::load(&file.bytes, execution).unwrap();
        let (agree, worst) = compare(fresh(), weights, input, &runtime);
        assert_eq!(agree, 1.0, "{execution:?}");
        assert!(worst < 1e-3, "{execution:?}: logits differ by {worst}");
    }
}

/// Token ids of `n` sentences of `length`, most padded at the end (id 0) after a few
/// to all of their tokens.
fn sentences(n: usize, length: usize, vocab: usize) -> Vec<Vec<u32>> {
    (0..n)
        .map(|i| {
            let words = 1 + (i * 7) % length;
            (0..length)
                .map(|t| {
                    if t < words {
                        (1 + (i * 31 + t * 17) % (vocab - 1)) as u32
                    } else {
                        0
                    }
                })
                .collect()
        })
        .collect()
}

/// Burn's logits for `sentences` and the runtime's: (agreeing argmax fraction, largest
/// logit difference).
fn compare_text<M: Classifier<Input = Tensor<2, Int>>>(
    model: M,
    weights: &sprig_mask::Snapshot,
    sentences: &[Vec<u32>],
    runtime: &Model,
) -> (f64, f32) {
    let device = Backend::Flex.device().unwrap();
    let (n, length) = (sentences.len(), sentences[0].len());
    let ids: Vec<i64> = sentences.iter().flatten().map(|&i| i64::from(i)).collect();
    let batch = Tensor::<2, Int>::from_data(TensorData::new(ids, [n, length]), &device);
    let burn = burn_logits(model, weights, batch);
    agreement(&burn, n, |i| {
        // Unpadded, as a device would pass them: the runtime pads to the length.
        let words: Vec<u32> = sentences[i].iter().copied().filter(|&id| id != 0).collect();
        runtime.forward_tokens(&words).unwrap()
    })
}

#[test]
fn text_tickets_compute_what_burn_computes() {
    let device = Backend::Flex.device().unwrap();
    let (vocab, length, classes) = (300, 12, 6);
    let size = TextCnnSize {
        embedding: 16,
        filters: 8,
    };
    let input = sentences(64, length, vocab);
    let spec = ModelSpec::new("text", [1, 1, length], classes, Preprocess::None);
    let cnn = TextCnn::new(vocab, classes, size, &device);
    let cnn_weights = pruned(&cnn, 0.8, Initialization::KaimingNormal);
    let bag = BagOfEmbeddings::new(vocab, classes, &device);
    let bag_weights = pruned(&bag, 0.8, Initialization::KaimingNormal);
    let files = [
        export(
            &cnn.inference_graph(),
            &cnn_weights,
            &spec,
            ExportFormat::SparseF32,
        )
        .unwrap(),
        export(
            &bag.inference_graph(),
            &bag_weights,
            &spec,
            ExportFormat::SparseF32,
        )
        .unwrap(),
    ];
    for execution in [Execution::Sparse, Execution::Dense] {
        let runtime = Model::load(&files[0].bytes, execution).unwrap();
        let fresh = TextCnn::new(vocab, classes, size, &device);
        let (agree, worst) = compare_text(fresh, &cnn_weights, &input, &runtime);
        assert_eq!(agree, 1.0, "TextCNN {execution:?}");
        assert!(
            worst < 1e-4,
            "TextCNN {execution:?}: logits differ by {worst}"
        );
        let runtime = Model::load(&files[1].bytes, execution).unwrap();
        let fresh = BagOfEmbeddings::new(vocab, classes, &device);
        let (agree, worst) = compare_text(fresh, &bag_weights, &input, &runtime);
        assert_eq!(agree, 1.0, "bag {execution:?}");
        assert!(worst < 1e-4, "bag {execution:?}: logits differ by {worst}");
    }
}

#[test]
fn missing_weights_are_named() {
    let device = Backend::Flex.device().unwrap();
    let model = Lenet300100::new(784, 10, &device);
    let mut weights = snapshot(&model).unwrap();
    weights = {
        let mut w = sprig_mask::Snapshot::new();
        for (name, t) in weights.iter().filter(|(n, _)| *n != "fc2.bias") {
            w.insert(name, t.shape().to_vec(), t.values().to_vec())
                .unwrap();
        }
        w
    };
    let spec = ModelSpec::new("lenet-300-100", [1, 28, 28], 10, Preprocess::None);
    let err = export(
        &model.inference_graph(),
        &weights,
        &spec,
        ExportFormat::SparseF32,
    )
    .unwrap_err();
    assert!(err.to_string().contains("fc2.bias"), "{err}");
}

/// The ONNX export of `model`'s ticket, run by tract, against Burn: every prediction the
/// same, logits within `tolerance`.
#[cfg(feature = "tract")]
fn onnx_agrees<M: Classifier<Input = Tensor<4>>>(
    model: M,
    fresh: M,
    weights: &sprig_mask::Snapshot,
    input: [usize; 3],
    tolerance: f32,
) {
    let spec = ModelSpec::new("ticket", input, 10, Preprocess::None);
    let graph = model.inference_graph().expect("a sequential model");
    let bytes = sprig_export::export_onnx(&graph, weights, &spec).unwrap();
    let [c, h, w] = input;
    let tract = sprig_export::TractModel::load(&bytes, &[1, c, h, w]).unwrap();
    let (agree, worst) = compare_with(fresh, weights, input, |x| tract.forward(x).unwrap());
    assert_eq!(agree, 1.0);
    assert!(worst < tolerance, "logits differ by {worst}");
}

#[cfg(feature = "tract")]
#[test]
fn onnx_exports_run_in_tract_as_in_burn() {
    let device = Backend::Flex.device().unwrap();
    let lenet = Lenet300100::new(784, 10, &device);
    let weights = pruned(&lenet, 0.964, Initialization::GlorotNormal);
    onnx_agrees(
        lenet,
        Lenet300100::new(784, 10, &device),
        &weights,
        [1, 28, 28],
        1e-4,
    );
    let input = [3, 8, 8];
    let conv = ConvNet::new(1, input, 10, &device);
    let weights = pruned(&conv, 0.8, Initialization::GlorotNormal);
    onnx_agrees(
        conv,
        ConvNet::new(1, input, 10, &device),
        &weights,
        input,
        1e-4,
    );
    let input = [1, 61, 40];
    let ds_cnn = DsCnn::new(10, &device);
    let weights = pruned(&ds_cnn, 0.8, Initialization::KaimingNormal);
    onnx_agrees(ds_cnn, DsCnn::new(10, &device), &weights, input, 1e-3);
    let audio_cnn = AudioCnn::new(input, 10, &device);
    let weights = pruned(&audio_cnn, 0.9, Initialization::KaimingNormal);
    let fresh = AudioCnn::new(input, 10, &device);
    onnx_agrees(audio_cnn, fresh, &weights, input, 1e-3);
    // ResNet-20: its shortcuts become Add nodes on the kept values.
    let input = [3, 8, 8];
    let resnet = ResNet::resnet20(3, 10, &device);
    let mut weights = pruned(&resnet, 0.8, Initialization::KaimingNormal);
    norms_away_from_identity(&mut weights, ".bn.");
    onnx_agrees(
        resnet,
        ResNet::resnet20(3, 10, &device),
        &weights,
        input,
        1e-3,
    );
}

#[cfg(feature = "tract")]
#[test]
fn onnx_pixel_preprocessing_matches_the_runtime() {
    // A model with pixel normalisation takes raw pixel values in ONNX as the .sprig file's
    // forward_pixels does.
    let device = Backend::Flex.device().unwrap();
    let input = [3, 8, 8];
    let conv = ConvNet::new(1, input, 10, &device);
    let weights = pruned(&conv, 0.8, Initialization::GlorotNormal);
    let preprocess = Preprocess::PixelAffine {
        scale: vec![0.02, 0.018, 0.021],
        offset: vec![-2.0, -1.9, -1.7],
    };
    let spec = ModelSpec::new("conv-2", input, 10, preprocess);
    let graph = conv.inference_graph();
    let file = export(&graph, &weights, &spec, ExportFormat::SparseF32).unwrap();
    let runtime = Model::load(&file.bytes, Execution::Sparse).unwrap();
    let bytes = sprig_export::export_onnx(&graph, &weights, &spec).unwrap();
    let tract = sprig_export::TractModel::load(&bytes, &[1, 3, 8, 8]).unwrap();
    let pixels: Vec<u8> = (0..3 * 64).map(|i| (i * 37 % 256) as u8).collect();
    let ours = runtime.forward_pixels(&pixels).unwrap();
    let as_floats: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
    let theirs = tract.forward(&as_floats).unwrap();
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-4, "{ours:?} vs {theirs:?}");
    }
}
