//! Sprig's sparse inference runtime.
//!
//! Loads a ticket exported by `sprig-export` (the format is `docs/sparse-format.md`) and
//! runs its forward pass with sparse kernels: a pruned weight is neither stored nor
//! multiplied. It is `#![no_std]` with `alloc` and depends on nothing but a CRC and libm, so it
//! can be built for a microcontroller target (without the default `std` feature, which
//! only lets the convolutions detect AVX2, AVX-512 and FMA on x86-64).
//!
//! ```
//! use sprig_runtime::{Execution, Graph, Layer, Model, Preprocess, TensorSpec, write_model};
//!
//! // A 2-input, 2-class linear model: logits = W x + b with W = [[1, 0], [0, -2]].
//! let graph = Graph {
//!     architecture: "toy".into(),
//!     input: [1, 1, 2],
//!     classes: 2,
//!     preprocess: Preprocess::None,
//!     metadata: vec![],
//!     layers: vec![Layer::Flatten, Layer::Linear { weight: 0, bias: Some(1) }],
//! };
//! let tensors = vec![
//!     TensorSpec::new("fc.weight", vec![2, 2], vec![1.0, 0.0, 0.0, -2.0]),
//!     TensorSpec::new("fc.bias", vec![2], vec![0.5, 0.5]),
//! ];
//! let file = write_model(&graph, &tensors, &Default::default()).expect("valid model");
//! let model = Model::load(&file.bytes, Execution::Sparse).expect("a file we just wrote");
//! assert_eq!(model.forward(&[3.0, 1.0]).expect("two inputs"), vec![3.5, -1.5]);
//! ```

#![no_std]

extern crate alloc;
// With the `std` feature, for CPU feature detection; proptest's macros name `::std` too.
#[cfg(any(test, feature = "std"))]
extern crate std;

mod bytes;
mod conv;
mod encoding;
mod error;
mod features;
mod format;
mod graph;
mod kernels;
mod model;

pub use encoding::{EncodeOptions, Encoding, EncodingChoice, Quantization, TensorSize};
pub use error::RuntimeError;
pub use features::{LogMel, LogMelConfig};
pub use format::{FORMAT_VERSION, MAGIC, ModelFile, read_model, write_model};
pub use graph::{ConvGeometry, Graph, Layer, Preprocess, TensorSpec};
pub use kernels::{CscMatrix, CsrMatrix, DenseMatrix};
pub use model::{Execution, Model};

/// Compiles and runs the README example as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
#[derive(Debug)]
pub struct ReadmeDoctests;
