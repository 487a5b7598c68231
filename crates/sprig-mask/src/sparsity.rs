//! [`SparsityReport`]: how sparse a network is, per tensor and overall.
//!
//! Papers quote sparsity over prunable weights only; users also want to know
//! how many parameters stayed dense. The report lists both, so neither
//! number is mistaken for the other.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{MaskError, Result, numel};
use crate::mask_set::{MaskSet, check_shape, index_params};

/// Sparsity of one masked tensor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorSparsity {
    /// Parameter path.
    pub name: String,
    /// Layer kind.
    pub kind: String,
    /// Number of weights.
    pub total: usize,
    /// Surviving weights.
    pub kept: usize,
    /// `1 − kept / total` (`0` for an empty tensor).
    pub sparsity: f64,
}

/// A parameter without a mask (bias, norm, frozen tensor): always dense.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DenseTensor {
    /// Parameter path.
    pub name: String,
    /// Number of values.
    pub total: usize,
}

/// Per-tensor and global sparsity of a [`MaskSet`] over a network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparsityReport {
    /// Masked tensors, in name order.
    pub prunable: Vec<TensorSparsity>,
    /// Parameters without a mask, in the order given.
    pub dense: Vec<DenseTensor>,
    /// Weights over all masked tensors.
    pub prunable_total: usize,
    /// Surviving weights over all masked tensors.
    pub prunable_kept: usize,
    /// Sparsity over prunable weights (the number papers report).
    pub global_sparsity: f64,
    /// Values over all dense tensors.
    pub dense_total: usize,
    /// Pruned weights over *all* parameters, dense ones included.
    pub overall_sparsity: f64,
}

impl SparsityReport {
    /// Builds the report. Every parameter in `all_params` without a mask is
    /// listed as dense.
    ///
    /// # Errors
    /// [`MaskError::UnknownTensor`] if a mask has no parameter,
    /// [`MaskError::ShapeMismatch`], [`MaskError::DuplicateTensor`],
    /// [`MaskError::ShapeOverflow`].
    pub fn new(masks: &MaskSet, all_params: &[(&str, &[usize])]) -> Result<Self> {
        let by_name = index_params(all_params)?;
        let mut prunable = Vec::with_capacity(masks.len());
        for (name, entry) in masks.iter() {
            let shape = by_name.get(name).ok_or_else(|| MaskError::UnknownTensor {
                tensor: name.to_owned(),
            })?;
            check_shape(name, shape, entry.mask().shape())?;
            let mask = entry.mask();
            prunable.push(TensorSparsity {
                name: name.to_owned(),
                kind: entry.kind().to_owned(),
                total: mask.len(),
                kept: mask.kept_count(),
                sparsity: mask.sparsity(),
            });
        }
        let mut dense = Vec::new();
        for &(name, shape) in all_params {
            if masks.get(name).is_none() {
                let total = numel(shape).map_err(|e| e.with_tensor(name))?;
                dense.push(DenseTensor {
                    name: name.to_owned(),
                    total,
                });
            }
        }
        let prunable_total: usize = prunable.iter().map(|t| t.total).sum();
        let prunable_kept: usize = prunable.iter().map(|t| t.kept).sum();
        let dense_total: usize = dense.iter().map(|t| t.total).sum();
        let pruned = prunable_total - prunable_kept;
        Ok(Self {
            prunable,
            dense,
            prunable_total,
            prunable_kept,
            global_sparsity: ratio(pruned, prunable_total),
            dense_total,
            overall_sparsity: ratio(pruned, prunable_total + dense_total),
        })
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// An aligned text table: one row per tensor, then totals.
impl fmt::Display for SparsityReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |s: f64| format!("{:.2}%", 100.0 * s);
        let mut rows: Vec<[String; 5]> =
            vec![["tensor", "kind", "total", "kept", "sparsity"].map(str::to_owned)];
        for t in &self.prunable {
            rows.push([
                t.name.clone(),
                t.kind.clone(),
                t.total.to_string(),
                t.kept.to_string(),
                pct(t.sparsity),
            ]);
        }
        rows.push([
            "prunable (global)".to_owned(),
            String::new(),
            self.prunable_total.to_string(),
            self.prunable_kept.to_string(),
            pct(self.global_sparsity),
        ]);
        for t in &self.dense {
            rows.push([
                t.name.clone(),
                "(dense)".to_owned(),
                t.total.to_string(),
                t.total.to_string(),
                pct(0.0),
            ]);
        }
        let all_total = self.prunable_total + self.dense_total;
        rows.push([
            "all parameters".to_owned(),
            String::new(),
            all_total.to_string(),
            (self.prunable_kept + self.dense_total).to_string(),
            pct(self.overall_sparsity),
        ]);
        let mut widths = [0usize; 5];
        for row in &rows {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        for row in &rows {
            // Text columns left-aligned, numbers right-aligned.
            writeln!(
                f,
                "{:<w0$}  {:<w1$}  {:>w2$}  {:>w3$}  {:>w4$}",
                row[0],
                row[1],
                row[2],
                row[3],
                row[4],
                w0 = widths[0],
                w1 = widths[1],
                w2 = widths[2],
                w3 = widths[3],
                w4 = widths[4],
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mask;

    #[test]
    fn report_counts_and_table() {
        let mut masks = MaskSet::new();
        masks
            .insert(
                "fc1.weight",
                "linear",
                Mask::from_bools(&[2, 2], &[true, false, false, false]).unwrap(),
            )
            .unwrap();
        let params: [(&str, &[usize]); 2] = [("fc1.weight", &[2, 2]), ("fc1.bias", &[2])];
        let r = SparsityReport::new(&masks, &params).unwrap();
        assert_eq!(
            (r.prunable_total, r.prunable_kept, r.dense_total),
            (4, 1, 2)
        );
        assert!((r.global_sparsity - 0.75).abs() < 1e-12);
        assert!((r.overall_sparsity - 0.5).abs() < 1e-12);
        let table = r.to_string();
        assert!(
            table.contains("fc1.weight") && table.contains("75.00%") && table.contains("(dense)"),
            "{table}"
        );
        let widths: Vec<usize> = table.lines().map(|l| l.chars().count()).collect();
        assert!(widths.windows(2).all(|w| w[0] == w[1]), "{table}");
    }

    #[test]
    fn report_rejects_mismatch() {
        let masks = MaskSet::dense([("w", "linear", &[2, 2][..])]).unwrap();
        let err = SparsityReport::new(&masks, &[("w", &[4][..])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "tensor `w`: expected shape [4], found [2, 2]"
        );
        assert!(SparsityReport::new(&masks, &[]).is_err());
    }
}
