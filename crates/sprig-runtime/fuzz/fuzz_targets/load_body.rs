//! The `.sprig` body parser on any bytes: the fuzzer's input becomes the body of a file
//! whose header (magic, version, length, CRC-32) is stamped to match, so every input
//! reaches the parser instead of stopping at the checksum. Loading and running it must
//! give a model or an error, never a panic, an abort or an allocation the input did not
//! pay for.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sprig_runtime::{Execution, FORMAT_VERSION, MAGIC, Model};

fuzz_target!(|body: &[u8]| {
    let mut file = Vec::with_capacity(24 + body.len());
    file.extend_from_slice(&MAGIC);
    file.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    file.extend_from_slice(&0u16.to_le_bytes());
    file.extend_from_slice(&(body.len() as u64).to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(body).to_le_bytes());
    file.extend_from_slice(body);
    for execution in [Execution::Sparse, Execution::Dense] {
        if let Ok(model) = Model::load(&file, execution) {
            let _ = model.forward(&vec![0.5; model.input_len()]);
            let _ = model.forward(&[]);
            let _ = model.preprocess(&[7; 32]);
        }
    }
});
