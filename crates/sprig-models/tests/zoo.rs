//! The zoo's architectures: sizes as in the LTH paper, prunable tensors that exist, logits
//! of the right shape, and θ0 fixed by the seed alone.

use burn::tensor::{Device, Int, Tensor, TensorData};
use sprig_backend::Backend;
use sprig_models::{
    Architecture, AudioCnn, BagOfEmbeddings, Classifier, ConvNet, DsCnn, Initialization,
    Lenet300100, Modality, ResNet, TextCnn, TextCnnSize, initial_weights,
};
use sprig_prune::{load_snapshot, snapshot, tensor_shapes};

fn device() -> Device {
    Backend::default_compiled()
        .device()
        .expect("default backend")
}

/// (architecture, input, prunable weights). The LTH paper's fig. 2 lists 266K, 4.3M, 2.4M
/// and 1.7M; the Conv-6 it describes (64, 64, 128, 128, 256, 256 filters; fc 256, 256, 10)
/// has 2.26M, as open_lth's implementation of it does, so that is what is checked.
const CASES: &[(Architecture, [usize; 3], usize)] = &[
    (Architecture::Lenet300100, [1, 28, 28], 266_200),
    (Architecture::Conv2, [3, 32, 32], 4_300_992),
    (Architecture::Conv4, [3, 32, 32], 2_425_024),
    (Architecture::Conv6, [3, 32, 32], 2_261_184),
    // 432 stem + 13,824 + 50,688 + 202,752 in the stages + 512 + 2,048 shortcuts + 640 fc.
    (Architecture::ResNet20, [3, 32, 32], 270_896),
];

fn check<M: Classifier<Input = Tensor<4>>>(model: M, input: [usize; 3], prunable_weights: usize) {
    let shapes = tensor_shapes(&model);
    let prunable = model.prunable();
    let mut weights = 0;
    for tensor in &prunable {
        let (_, shape) = shapes
            .iter()
            .find(|(path, _)| *path == tensor.path)
            .unwrap_or_else(|| panic!("{} is not a parameter", tensor.path));
        weights += shape.iter().product::<usize>();
    }
    assert_eq!(weights, prunable_weights);
    assert_eq!(prunable.last().map(|t| t.kind), Some("output"));

    let theta0 = initial_weights(&shapes, Initialization::GlorotNormal, 7).unwrap();
    let model = load_snapshot(model, &theta0).unwrap();
    let [c, h, w] = input;
    let images = Tensor::<4>::zeros([2, c, h, w], &device());
    assert_eq!(model.forward(images).dims(), [2, 10]);
    // Biases start at zero, so zero images give zero logits: θ0 really was loaded.
    let read = snapshot(&model).unwrap();
    assert!(
        read.iter()
            .all(|(path, t)| !path.ends_with("bias") || t.values().iter().all(|v| *v == 0.0))
    );
}

#[test]
fn architectures_match_the_lth_paper() {
    for &(arch, input, weights) in CASES {
        arch.check_input(input).unwrap();
        match arch.conv_pairs() {
            None if arch == Architecture::ResNet20 => {
                check(ResNet::resnet20(3, 10, &device()), input, weights)
            }
            None => check(Lenet300100::new(784, 10, &device()), input, weights),
            Some(pairs) => check(ConvNet::new(pairs, input, 10, &device()), input, weights),
        }
    }
}

#[test]
fn theta0_depends_on_the_seed_only() {
    let shapes = tensor_shapes(&Lenet300100::new(784, 10, &device()));
    let a = initial_weights(&shapes, Initialization::GlorotNormal, 1).unwrap();
    let b = initial_weights(&shapes, Initialization::GlorotNormal, 1).unwrap();
    let c = initial_weights(&shapes, Initialization::GlorotNormal, 2).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    // Glorot normal: std of fc1 is sqrt(2 / (784 + 300)).
    let fc1 = a.get("fc1.weight").unwrap().values();
    let var = fc1.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / fc1.len() as f64;
    let expected = 2.0 / (784.0 + 300.0);
    assert!(
        (var / expected - 1.0).abs() < 0.02,
        "variance {var}, expected {expected}"
    );
}

#[test]
fn names_parse_and_bad_inputs_are_explained() {
    for arch in Architecture::ALL {
        assert_eq!(arch.name().parse::<Architecture>().unwrap(), arch);
    }
    let err = "resnet-50".parse::<Architecture>().unwrap_err().to_string();
    assert!(
        err.contains("lenet-300-100, conv-2, conv-4, conv-6"),
        "{err}"
    );
    let err = Architecture::Conv6
        .check_input([3, 28, 30])
        .unwrap_err()
        .to_string();
    assert!(err.contains("divisible by 8"), "{err}");
}

/// Text models: embedding first, output last, logits of the right shape, and the bag of
/// embeddings ignores padding.
#[test]
fn text_models_take_token_ids() {
    let ids = || {
        Tensor::<2, Int>::from_data(
            TensorData::new(vec![2i64, 3, 4, 5, 6, 7, 0, 0, 9, 9, 9, 0], [2, 6]),
            &device(),
        )
    };
    // 1000 × 64 embedding + 100 filters × 64 × (3 + 4 + 5) + 300 × 6 output.
    let cnn = TextCnn::new(1000, 6, TextCnnSize::DEFAULT, &device());
    let prunable = cnn.prunable();
    assert_eq!(prunable.first().map(|t| t.kind), Some("embedding"));
    assert_eq!(prunable.last().map(|t| t.kind), Some("output"));
    let shapes = tensor_shapes(&cnn);
    let weights: usize = prunable
        .iter()
        .map(|t| {
            let (_, shape) = shapes.iter().find(|(p, _)| *p == t.path).unwrap();
            shape.iter().product::<usize>()
        })
        .sum();
    assert_eq!(weights, 64_000 + 100 * 64 * 12 + 300 * 6);
    let theta0 = initial_weights(&shapes, Initialization::GlorotNormal, 3).unwrap();
    // The embedding table is drawn with Kim's spread, not Glorot's for a 1000 × 64 matrix.
    let table = theta0.get("embedding.weight").unwrap().values();
    let var = table.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / table.len() as f64;
    let expected = sprig_models::EMBEDDING_STD.powi(2);
    assert!(
        (var / expected - 1.0).abs() < 0.05,
        "embedding variance {var}"
    );
    let cnn = load_snapshot(cnn, &theta0).unwrap();
    assert_eq!(cnn.forward(ids()).dims(), [2, 6]);

    let bag = BagOfEmbeddings::new(10, 3, &device());
    let theta0 = initial_weights(&tensor_shapes(&bag), Initialization::GlorotNormal, 3).unwrap();
    let bag = load_snapshot(bag, &theta0).unwrap();
    let logits = bag.forward(ids()).into_data().try_to_vec::<f32>().unwrap();
    // Example 2 is "9 9 9" padded: the same as "9" padded differently.
    let single = Tensor::<2, Int>::from_data(
        TensorData::new(vec![9i64, 0, 0, 0, 0, 0], [1, 6]),
        &device(),
    );
    let alone = bag.forward(single).into_data().try_to_vec::<f32>().unwrap();
    for (a, b) in logits[3..].iter().zip(&alone) {
        assert!((a - b).abs() < 1e-5, "{logits:?} vs {alone:?}");
    }
    for arch in [Architecture::TextCnn, Architecture::BagOfEmbeddings] {
        assert_eq!(arch.modality(), Modality::Text);
        assert!(arch.check_input([1, 28, 28]).is_err());
    }
}

/// Audio models on 61 × 40 spectrograms: sizes, kinds, logits.
#[test]
fn audio_models_take_spectrograms() {
    let input = [1, 61, 40];
    // 64·1·10·4 stem + 4 × (64·9 depthwise + 64·64 pointwise) + 64·10 output.
    check(
        DsCnn::new(10, &device()),
        input,
        2_560 + 4 * (576 + 4_096) + 640,
    );
    // 32·9 + 64·32·9 + 128·64·9 convolutions, 128·(128·7·5) + 128·10 fully connected.
    check(
        AudioCnn::new(input, 10, &device()),
        input,
        288 + 18_432 + 73_728 + 573_440 + 1_280,
    );
    for arch in [Architecture::DsCnn, Architecture::AudioCnn] {
        assert_eq!(arch.modality(), Modality::Audio);
        arch.check_input(input).unwrap();
        assert!(arch.check_input([3, 32, 32]).is_err());
    }
}

/// Conv-4's two fused stages (the second differentiates its input too) against Burn's
/// `Conv2d`/`relu`/`MaxPool2d` on every compiled backend: same features, same gradients.
#[test]
fn fused_conv_stages_match_burns_modules_with_gradients() {
    for backend in sprig_backend::compiled_backends() {
        let device = backend.train_device().expect("a compiled backend");
        let model = ConvNet::new(2, [3, 16, 16], 10, &device);
        let theta0 =
            initial_weights(&tensor_shapes(&model), Initialization::GlorotNormal, 3).unwrap();
        let model = load_snapshot(model, &theta0).unwrap();
        let values: Vec<f32> = (0..2 * 3 * 16 * 16)
            .map(|i| (i as f32 * 0.31).sin())
            .collect();
        let images = Tensor::<4>::from_data(TensorData::new(values, [2, 3, 16, 16]), &device);
        let run = |features: &dyn Fn(Tensor<4>) -> Tensor<4>| {
            let out = features(images.clone());
            let grads = (out.clone() * out.clone()).sum().backward();
            let first_weight = &model.convs()[0].weight;
            let grad = first_weight.val().grad(&grads).expect("a tracked weight");
            (out.into_data(), grad.into_data())
        };
        let (fused, fused_grad) = run(&|x| model.features(x));
        let (reference, reference_grad) = run(&|x| model.features_unfused(x));
        assert_eq!(fused.shape().to_vec(), vec![2, 128, 4, 4]);
        let tolerance = burn::tensor::Tolerance::<f32>::rel_abs(1e-4, 1e-5);
        fused.assert_approx_eq::<f32>(&reference, tolerance);
        fused_grad.assert_approx_eq::<f32>(&reference_grad, tolerance);
        assert!(
            reference_grad.iter::<f32>().any(|v| v != 0.0),
            "{backend}: zero gradient"
        );
    }
}
