//! Times a model file's single-sample forward pass in a tight loop, for profiling the
//! kernels (`perf record`) and quick before/after comparisons. The edge table's figures
//! come from `cargo xtask eval edge`'s interleaved timer, not from this.
//!
//! `forward_loop FILE.sprig PIXELS.raw [sparse|dense] [iterations]`, where `PIXELS.raw`
//! holds one image's raw bytes (784 for MNIST). Prints the best of five loops' mean time
//! per forward pass.

use std::time::Instant;

use sprig_runtime::{Execution, Model};

fn main() -> Result<(), String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [file, pixels, rest @ ..] = args.as_slice() else {
        return Err("usage: forward_loop FILE.sprig PIXELS.raw [sparse|dense] [iterations]".into());
    };
    let execution = match rest.first().map(String::as_str) {
        None | Some("sparse") => Execution::Sparse,
        Some("dense") => Execution::Dense,
        Some(other) => return Err(format!("unknown execution `{other}`: sparse or dense")),
    };
    let iterations: u32 = match rest.get(1) {
        Some(n) => n.parse().map_err(|e| format!("iterations `{n}`: {e}"))?,
        None => 20_000,
    };
    let bytes = std::fs::read(file).map_err(|e| format!("reading {file}: {e}"))?;
    let pixels = std::fs::read(pixels).map_err(|e| format!("reading {pixels}: {e}"))?;
    let model = Model::load(&bytes, execution).map_err(|e| format!("{file}: {e}"))?;
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let started = Instant::now();
        for _ in 0..iterations {
            let logits = model
                .forward_pixels(std::hint::black_box(&pixels))
                .map_err(|e| e.to_string())?;
            std::hint::black_box(logits);
        }
        best = best.min(started.elapsed().as_secs_f64() / f64::from(iterations));
    }
    println!(
        "{file}: {:.2} µs per forward pass ({} multiply-adds)",
        best * 1e6,
        model.multiply_adds()
    );
    Ok(())
}
