//! What an exported model costs, per tensor and in total, against dense fp32.

use std::fmt;

use serde::Serialize;
use sprig_runtime::ModelFile;

/// Sizes of one exported file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeReport {
    /// One row per tensor.
    pub tensors: Vec<TensorRow>,
    /// Header, graph and metadata.
    pub overhead_bytes: usize,
    /// The whole file.
    pub total_bytes: usize,
    /// Every tensor as dense f32 (the fp32 model's parameters).
    pub dense_f32_bytes: usize,
}

/// One tensor's line of a [`SizeReport`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TensorRow {
    /// Parameter path.
    pub name: String,
    /// Values, zeros included.
    pub elements: usize,
    /// Non-zero values.
    pub nonzeros: usize,
    /// Encoding chosen.
    pub encoding: &'static str,
    /// Number type.
    pub values: &'static str,
    /// Bytes in the file.
    pub bytes: usize,
    /// Bytes as dense f32.
    pub dense_f32_bytes: usize,
}

impl SizeReport {
    /// The report of a written file.
    pub fn of(file: &ModelFile) -> Self {
        let tensors: Vec<TensorRow> = file
            .tensors
            .iter()
            .map(|t| TensorRow {
                name: t.name.clone(),
                elements: t.elements,
                nonzeros: t.nonzeros,
                encoding: t.encoding.name(),
                values: t.quantization.name(),
                bytes: t.bytes,
                dense_f32_bytes: t.dense_f32_bytes,
            })
            .collect();
        Self {
            dense_f32_bytes: tensors.iter().map(|t| t.dense_f32_bytes).sum(),
            tensors,
            overhead_bytes: file.overhead_bytes(),
            total_bytes: file.bytes.len(),
        }
    }

    /// Total bytes over dense fp32 bytes.
    pub fn ratio(&self) -> f64 {
        self.total_bytes as f64 / self.dense_f32_bytes.max(1) as f64
    }
}

impl fmt::Display for SizeReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{:<24} {:>10} {:>10} {:>10} {:>12} {:>12}",
            "tensor", "values", "non-zero", "encoding", "bytes", "dense f32"
        )?;
        for t in &self.tensors {
            writeln!(
                f,
                "{:<24} {:>10} {:>10} {:>10} {:>12} {:>12}",
                t.name,
                t.elements,
                t.nonzeros,
                format!("{}/{}", t.encoding, t.values),
                t.bytes,
                t.dense_f32_bytes
            )?;
        }
        writeln!(f, "{:<24} {:>57}", "header and graph", self.overhead_bytes)?;
        write!(
            f,
            "{:<24} {:>57} {:>12}  ({:.1}% of dense fp32)",
            "total",
            self.total_bytes,
            self.dense_f32_bytes,
            100.0 * self.ratio()
        )
    }
}
