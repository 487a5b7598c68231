//! The body parser on damaged bodies that pass the CRC: bytes changed, dropped or added,
//! then the header's length and CRC-32 stamped again, as a careless or hostile writer
//! would. Loading and running such a file gives a model or an error, never a panic.
//!
//! Without the re-stamp the checksum catches every mutation before the parser sees it,
//! so the parser itself would go untested. 512 cases per run (`SPRIG_MUTATION_CASES`
//! sets another count); 10,000 in the slow tier (`cargo xtask test --slow`, which CI runs).

mod common;

use common::{conv_net, input, options, residual, text_cnn};
use proptest::prelude::*;
use sprig_runtime::{Encoding, EncodingChoice, Execution, Model, Quantization, write_model};

/// Where the header keeps the body's length (`u64`) and CRC-32 (`u32`), and where the
/// body starts (docs/sparse-format.md).
const LENGTH_AT: usize = 12;
const CRC_AT: usize = 20;
const BODY_AT: usize = 24;

fn cases() -> u32 {
    std::env::var("SPRIG_MUTATION_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512)
}

/// Loads and runs `file` with its body damaged by `mutations`: a model or an error is
/// fine, a panic fails the test.
fn load_damaged(file: &[u8], mutations: &[Mutation]) {
    let mut body = file[BODY_AT..].to_vec();
    for m in mutations {
        apply(&mut body, m);
    }
    let damaged = restamped(file, &body);
    for execution in [Execution::Sparse, Execution::Dense] {
        if let Ok(model) = Model::load(&damaged, execution) {
            let x = input();
            let _ = model.forward(&x);
            let _ = model.forward(&x[..model.input_len().min(x.len())]);
            let _ = model.forward(&[]);
            let _ = model.forward_tokens(&[1, 2, 3, 8, 8, 8, 8]);
            let _ = model.preprocess(&[7; 32]);
        }
    }
}

/// Valid files to damage: every encoding and number type of the conv net, the text CNN
/// (embeddings, branches) and the residual block (made once).
fn originals() -> &'static [Vec<u8>] {
    static FILES: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    FILES.get_or_init(write_originals)
}

fn write_originals() -> Vec<Vec<u8>> {
    let mut files = Vec::new();
    for (graph, tensors) in [conv_net(0.4), text_cnn(), residual(4)] {
        for encoding in Encoding::ALL {
            for quantization in [Quantization::F32, Quantization::Int8PerRow] {
                let opts = options(EncodingChoice::Force(encoding), quantization);
                files.push(write_model(&graph, &tensors, &opts).unwrap().bytes);
            }
        }
    }
    files
}

/// One change to a body.
#[derive(Debug, Clone)]
enum Mutation {
    /// Byte at (a fraction of the body) set to a value.
    Set(f64, u8),
    /// A run of bytes removed.
    Drop(f64, usize),
    /// Bytes inserted.
    Insert(f64, Vec<u8>),
    /// A little-endian u32 written over four bytes: lengths, counts and indices are
    /// where a parser is most easily led astray.
    Word(f64, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let at = 0.0f64..1.0;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(a, v)| Mutation::Set(a, v)),
        (at.clone(), 1usize..16).prop_map(|(a, n)| Mutation::Drop(a, n)),
        (at.clone(), prop::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(a, v)| Mutation::Insert(a, v)),
        (
            at,
            prop_oneof![
                Just(0u32),
                Just(u32::MAX),
                Just(u32::MAX / 2 + 1),
                0u32..4096,
                any::<u32>()
            ]
        )
            .prop_map(|(a, v)| Mutation::Word(a, v)),
    ]
}

fn apply(body: &mut Vec<u8>, m: &Mutation) {
    let at = |fraction: f64, len: usize| ((fraction * len as f64) as usize).min(len);
    match m {
        Mutation::Set(a, v) => {
            if !body.is_empty() {
                let i = at(*a, body.len() - 1);
                body[i] = *v;
            }
        }
        Mutation::Drop(a, n) => {
            let i = at(*a, body.len());
            let end = (i + n).min(body.len());
            body.drain(i..end);
        }
        Mutation::Insert(a, bytes) => {
            let i = at(*a, body.len());
            body.splice(i..i, bytes.iter().copied());
        }
        Mutation::Word(a, v) => {
            if body.len() >= 4 {
                let i = at(*a, body.len() - 4);
                body[i..i + 4].copy_from_slice(&v.to_le_bytes());
            }
        }
    }
}

/// `file` with its body replaced and the header's length and CRC-32 made to match.
fn restamped(file: &[u8], body: &[u8]) -> Vec<u8> {
    let mut out = file[..BODY_AT].to_vec();
    out[LENGTH_AT..LENGTH_AT + 8].copy_from_slice(&(body.len() as u64).to_le_bytes());
    out[CRC_AT..CRC_AT + 4].copy_from_slice(&crc32fast::hash(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

#[test]
fn restamping_an_unchanged_body_gives_back_the_file() {
    for file in originals() {
        assert_eq!(&restamped(file, &file[BODY_AT..]), file);
        assert!(Model::load(file, Execution::Sparse).is_ok());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn damaged_bodies_with_a_valid_crc_load_or_fail_but_never_panic(
        which in 0usize..12,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let files = originals();
        load_damaged(&files[which % files.len()], &mutations);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(10_000))]

    #[test]
    #[ignore = "slow tier: cargo xtask test --slow"]
    fn ten_thousand_damaged_bodies_load_or_fail_but_never_panic(
        which in 0usize..12,
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        let files = originals();
        load_damaged(&files[which % files.len()], &mutations);
    }
}
