//! Writes the bodies of valid `.sprig` files (every encoding and number type of the
//! tests' conv net) into a folder: the seed corpus of the cargo-fuzz target
//! `fuzz/fuzz_targets/load_body.rs`, which `cargo xtask fuzz` runs.
//!
//! ```sh
//! cargo run -p sprig-runtime --example fuzz_seeds -- DIR
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use std::path::PathBuf;

use common::{conv_net, options};
use sprig_runtime::{Encoding, EncodingChoice, Quantization, write_model};

/// Where the header ends and the body starts (docs/sparse-format.md).
const BODY_AT: usize = 24;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .ok_or("usage: fuzz_seeds DIR (the folder the bodies are written to)")?,
    );
    std::fs::create_dir_all(&dir)?;
    let mut written = 0;
    for density in [0.1, 0.4, 1.0] {
        let (graph, tensors) = conv_net(density);
        for encoding in Encoding::ALL {
            for quantization in [Quantization::F32, Quantization::Int8PerRow] {
                let opts = options(EncodingChoice::Force(encoding), quantization);
                let file = write_model(&graph, &tensors, &opts)?.bytes;
                let name = format!("valid-{density}-{encoding:?}-{quantization:?}");
                std::fs::write(dir.join(name), &file[BODY_AT..])?;
                written += 1;
            }
        }
    }
    println!("{written} seed bodies in {}", dir.display());
    Ok(())
}
