//! A keyword spotter's file that computes its own input from PCM samples: the log-mel
//! settings and band normalisation round-trip, `forward_pcm` is the model on
//! `preprocess_pcm`, and settings that do not match the input are refused.

mod common;

use common::ds_cnn;
use sprig_runtime::{
    EncodeOptions, Execution, LogMel, LogMelConfig, Model, Preprocess, RuntimeError, read_model,
    write_model,
};

/// 56 ms clips at 8 kHz, 64-sample windows every 32: the 13 frames × 8 bands the test
/// DS-CNN takes.
fn settings() -> LogMelConfig {
    LogMelConfig {
        sample_rate: 8_000,
        duration_ms: 56,
        window: 64,
        hop: 32,
        mels: 8,
        fmin: 20.0,
        fmax: 4_000.0,
    }
}

fn log_mel() -> Preprocess {
    Preprocess::LogMel {
        features: settings(),
        mean: (0..8).map(|b| -4.0 + b as f32 * 0.1).collect(),
        inv_std: (0..8).map(|b| 0.5 + b as f32 * 0.05).collect(),
    }
}

/// A chirp, louder as it rises.
fn pcm() -> Vec<f32> {
    (0..448)
        .map(|i| {
            let t = i as f32 / 8_000.0;
            (t * 8.0) * (2.0 * std::f32::consts::PI * (300.0 + 20_000.0 * t) * t).sin()
        })
        .collect()
}

#[test]
fn pcm_samples_become_the_normalised_spectrogram_the_model_takes() {
    let (mut graph, tensors) = ds_cnn(0.5);
    graph.preprocess = log_mel();
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    assert_eq!(read_model(&file.bytes).unwrap().0, graph);
    let model = Model::load(&file.bytes, Execution::Sparse).unwrap();
    let input = model.preprocess_pcm(&pcm()).unwrap();
    // The spectrogram, band by band normalised.
    let mut raw = Vec::new();
    LogMel::new(settings()).unwrap().extend(&pcm(), &mut raw);
    let Preprocess::LogMel { mean, inv_std, .. } = log_mel() else {
        unreachable!()
    };
    assert_eq!(input.len(), 13 * 8);
    for (i, (x, r)) in input.iter().zip(&raw).enumerate() {
        let band = i % 8;
        assert_eq!(*x, (r - mean[band]) * inv_std[band], "value {i}");
    }
    assert_eq!(
        model.forward_pcm(&pcm()).unwrap(),
        model.forward(&input).unwrap()
    );
    // A longer recording is cut, a shorter one padded with silence.
    let mut long = pcm();
    long.extend([0.9; 100]);
    assert_eq!(model.preprocess_pcm(&long).unwrap(), input);
    let mut padded = pcm()[..300].to_vec();
    let short = model.preprocess_pcm(&padded).unwrap();
    padded.resize(448, 0.0);
    assert_eq!(model.preprocess_pcm(&padded).unwrap(), short);
}

#[test]
fn log_mel_settings_that_do_not_fit_the_model_are_refused() {
    let (graph, tensors) = ds_cnn(0.5);
    let refused = |preprocess: Preprocess, says: &str| {
        let graph = sprig_runtime::Graph {
            preprocess,
            ..graph.clone()
        };
        match write_model(&graph, &tensors, &EncodeOptions::default()) {
            Err(RuntimeError::Invalid(why)) => assert!(why.contains(says), "{why}"),
            other => panic!("expected an invalid-file error saying {says:?}, got {other:?}"),
        }
    };
    let with = |features: LogMelConfig, bands: usize| Preprocess::LogMel {
        features,
        mean: vec![0.0; bands],
        inv_std: vec![1.0; bands],
    };
    refused(
        with(
            LogMelConfig {
                hop: 16,
                ..settings()
            },
            8,
        ),
        "not the input",
    );
    refused(with(settings(), 7), "one mean and scale per band");
    refused(
        with(
            LogMelConfig {
                fmax: 9_000.0,
                ..settings()
            },
            8,
        ),
        "describe no spectrogram",
    );
    // A model that takes no spectrogram says so.
    let file = write_model(&graph, &tensors, &EncodeOptions::default()).unwrap();
    let model = Model::load(&file.bytes, Execution::Sparse).unwrap();
    match model.forward_pcm(&pcm()) {
        Err(RuntimeError::Shape(why)) => assert!(why.contains("not a spectrogram"), "{why}"),
        other => panic!("expected a shape error, got {other:?}"),
    }
}
