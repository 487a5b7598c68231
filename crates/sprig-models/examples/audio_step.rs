//! Times the pieces of one training step of the audio models (forward + backward on a
//! batch of 50 spectrograms of 61 × 40) on a backend: where does a DS-CNN step go?
//! `cargo run --example audio_step -p sprig-models -- [backend] [steps]`

use std::time::Instant;

use burn::nn::PaddingConfig2d;
use burn::nn::conv::Conv2dConfig;
use burn::tensor::{Distribution, Tensor};
use sprig_backend::Backend;
use sprig_models::{AudioCnn, DsCnn};

sprig_backend::global_allocator!();

fn main() {
    sprig_backend::flush_denormals_to_zero();
    let mut args = std::env::args().skip(1);
    let backend: Backend = args
        .next()
        .unwrap_or_else(|| "flex".into())
        .parse()
        .unwrap();
    let steps: usize = args.next().map_or(10, |s| s.parse().unwrap());
    let device = backend.train_device().unwrap();
    let x = || Tensor::<4>::random([50, 1, 61, 40], Distribution::Normal(0.0, 1.0), &device);
    let time = |name: &str, f: &dyn Fn()| {
        f();
        let start = Instant::now();
        for _ in 0..steps {
            f();
        }
        sprig_backend::sync(&device);
        println!(
            "{name:>28}: {:8.2} ms",
            start.elapsed().as_secs_f64() * 1e3 / steps as f64
        );
    };
    let ds = DsCnn::new(10, &device);
    time("ds-cnn forward+backward", &|| {
        let _ = ds.forward(x()).sum().backward();
    });
    let audio = AudioCnn::new([1, 61, 40], 10, &device);
    time("audio-cnn forward+backward", &|| {
        let _ = audio.forward(x()).sum().backward();
    });
    let stem = Conv2dConfig::new([1, 64], [10, 4])
        .with_stride([2, 2])
        .with_padding(PaddingConfig2d::Explicit(4, 1, 5, 2))
        .init(&device);
    time("stem conv", &|| {
        let _ = stem.forward(x()).sum().backward();
    });
    let h = || {
        Tensor::<4>::random([50, 64, 15, 10], Distribution::Normal(0.0, 1.0), &device)
            .require_grad()
    };
    let dw = Conv2dConfig::new([64, 64], [3, 3])
        .with_groups(64)
        .with_padding(PaddingConfig2d::Same)
        .init(&device);
    time("depthwise grouped 15x10", &|| {
        let _ = dw.forward(h()).sum().backward();
    });
    let pw = Conv2dConfig::new([64, 64], [1, 1]).init(&device);
    time("pointwise 15x10", &|| {
        let _ = pw.forward(h()).sum().backward();
    });
}
