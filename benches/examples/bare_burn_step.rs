//! Burn's floor: the LeNet-300-100 training step written with Burn alone (no Sprig crate,
//! no masks, one pre-made batch), timed the way `sprig-backends` times Sprig's step.
//!
//! `cargo run --example bare_burn_step -p sprig-benches -- [flex|ndarray|tch-cpu] [steps] [one]`

use std::time::Instant;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::activation::relu;
use burn::tensor::{Int, Tensor, TensorData};

sprig_backend::global_allocator!();

#[derive(Module, Debug)]
struct Net {
    fc1: Linear,
    fc2: Linear,
    fc3: Linear,
}

type Optim = burn::optim::ModuleOptimizer;

fn main() -> anyhow::Result<()> {
    sprig_backend::flush_denormals_to_zero();
    let mut args = std::env::args().skip(1);
    let backend: sprig_backend::Backend = args.next().unwrap_or("flex".into()).parse()?;
    let steps: usize = args.next().map_or(Ok(2_000), |s| s.parse())?;
    let device = backend.train_device()?;
    let mut net = Net {
        fc1: LinearConfig::new(784, 300).init(&device),
        fc2: LinearConfig::new(300, 100).init(&device),
        fc3: LinearConfig::new(100, 10).init(&device),
    };
    let batch = 60;
    let pixels: Vec<f32> = (0..batch * 784).map(|i| (i % 255) as f32 / 255.0).collect();
    let labels: Vec<i64> = (0..batch as i64).map(|i| i % 10).collect();
    let x = Tensor::<2>::from_data(TensorData::new(pixels, [batch, 784]), &device);
    let y = Tensor::<1, Int>::from_data(TensorData::new(labels, [batch]), &device);
    let mut optim: Optim = AdamConfig::new().init();
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut times = Vec::with_capacity(steps);
    // `one`: every step handed to Sprig's one-thread pool, as `StepThreads::One` does;
    // `ab`: blocks of 250 steps alternating between all threads and that pool, so both
    // see the same machine (the median of each is printed).
    let mode = args.next().unwrap_or_default();
    let mut by_mode: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for i in 0..steps {
        let handoff = mode == "one" || (mode == "ab" && (i / 250) % 2 == 1);
        let start = Instant::now();
        // Owns what it uses: the one-thread pool takes `'static` work.
        let (x, y, loss_fn) = (x.clone(), y.clone(), loss_fn.clone());
        let step = move |net: Net, mut optim: Optim| {
            let h = relu(net.fc1.forward(x));
            let h = relu(net.fc2.forward(h));
            let loss = loss_fn.forward(net.fc3.forward(h), y);
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            let net = burn::optim::ModuleOptimizer::step(&mut optim, 1.2e-3, net, grads);
            let _ = loss.into_scalar::<f32>();
            (net, optim)
        };
        (net, optim) = if handoff {
            sprig_backend::on_one_thread(move || step(net, optim))
        } else {
            step(net, optim)
        };
        let ms = start.elapsed().as_secs_f64() * 1e3;
        times.push(ms);
        if i >= 250 {
            by_mode[usize::from(handoff)].push(ms);
        }
    }
    if mode == "ab" {
        for (name, t) in ["all threads", "one-thread pool"].into_iter().zip(by_mode) {
            println!(
                "{name}: median {:.3} ms over {} steps",
                sprig_report::median(&t),
                t.len()
            );
        }
    }
    let tail = &times[steps / 4..];
    println!(
        "bare Burn LeNet-300-100 on {backend}: median {:.3} ms per step over {} steps",
        sprig_report::median(tail),
        tail.len()
    );
    Ok(())
}
