//! Times the loaders on a real data directory (median of N runs).
//!
//! `cargo run -p sprig-data --release --example load_times -- [DATA_DIR] [RUNS]`

use std::time::Instant;

use sprig_data::vision::cifar_jpeg::read_cifar10_jpeg_dir;
use sprig_data::vision::mnist::read_mnist_dir;
use sprig_data::{ChecksumPolicy, DataError, data_dir};

// Every Sprig binary uses mimalloc, so timings do not depend on how it was launched.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn time<T>(
    runs: usize,
    mut f: impl FnMut() -> Result<T, DataError>,
) -> Result<(f64, Vec<f64>), DataError> {
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed().as_secs_f64());
    }
    Ok((sprig_report::median(&times), times))
}

fn main() -> Result<(), DataError> {
    let mut args = std::env::args().skip(1);
    let dir = data_dir(args.next().map(Into::into));
    let runs: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(3);
    let (m, all) = time(runs, || {
        read_mnist_dir(&dir.join("mnist"), ChecksumPolicy::Verify)
    })?;
    println!("MNIST (4 × .gz, sha256, 70k images): median {m:.3} s of {all:.3?}");
    let (m, all) = time(runs, || {
        read_cifar10_jpeg_dir(&dir.join("cifar10"), ChecksumPolicy::Verify)
    })?;
    println!(
        "CIFAR-10 JPEG copy (60k JPEGs, sha256 + inflate + decode): median {m:.3} s of {all:.3?}"
    );
    Ok(())
}
