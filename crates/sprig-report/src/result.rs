//! One run of an evaluation table.

use serde::{Deserialize, Serialize};

use sprig_budget::Lap;

use crate::{ReportError, StopReason};

/// One run: one object in `docs/results/DOMAIN.json` (the fields up to `rounds` are
/// required; later ones default when absent).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RunResult {
    /// `vision`, `text` or `audio`.
    pub domain: String,
    /// Data set name (`mnist`, `cifar10`, …).
    pub dataset: String,
    /// Architecture name (`lenet-300-100`, `conv-2`, …).
    pub model: String,
    /// `dense`, `imp`, `budgeted`, `one_shot`, `random_prune`, `random_reinit`, …
    pub method: String,
    /// The seed that drove every random choice.
    pub seed: u64,
    /// The backend it trained on.
    pub backend: String,
    /// How `--backend auto` chose `backend`: each candidate's step time on this run's
    /// model, in the order they were timed (`None` when the run named its backend).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend_race: Option<Vec<Lap<String>>>,
    /// Wall-clock budget in seconds; `null` when unbudgeted.
    pub budget_s: Option<f64>,
    /// Wall time used, end to end, in seconds.
    pub time_used_s: f64,
    /// Target sparsity over the prunable weights.
    pub target_sparsity: f64,
    /// Achieved sparsity over the prunable weights.
    pub sparsity: f64,
    /// Test accuracy as a fraction in [0, 1].
    pub test_accuracy: f64,
    /// Pruning rounds executed.
    pub rounds: u32,
    /// Learning-rate schedule within each training.
    #[serde(default)]
    pub lr_schedule: String,
    /// Training iterations, all trainings together.
    #[serde(default)]
    pub iterations: u64,
    /// Validation accuracy of the selected weights.
    #[serde(default)]
    pub validation_accuracy: Option<f64>,
    /// Why the run stopped.
    #[serde(default)]
    pub stop_reason: Option<StopReason>,
    /// The run folder, relative to the runs root.
    #[serde(default)]
    pub run_dir: String,
    /// A free label separating otherwise equal configurations (e.g. `split=speaker`).
    #[serde(default)]
    pub variant: Option<String>,
    /// Sparsity of the embedding tables alone, for models that have them (text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding_sparsity: Option<f64>,
    /// The data split, where a data set has several (FSDD: `official`, `speaker:NAME`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<String>,
    /// Whether this is the method as Sprig runs it by default (not an ablation).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub default: bool,
    /// The one option of `sprig prune` that a budgeted row adds to the defaults, where it
    /// is one `--method auto` may choose (`None` for the defaults and for every other row).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<DefaultOption>,
    /// The commit the run was measured at (`None` when the row does not record one);
    /// a table completed across sittings names every commit its rows come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

/// An option of the default budgeted method that the tables measure as a row of its own,
/// for `--method auto` to choose where it wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DefaultOption {
    /// The final training resumes the weights the last prune ranked instead of rewinding
    /// to θ0 (learning-rate rewinding; `sprig prune --final-resumes`).
    FinalResumes,
}

impl DefaultOption {
    /// The `sprig prune` flag that sets it.
    pub fn flag(self) -> &'static str {
        match self {
            Self::FinalResumes => "--final-resumes",
        }
    }
}

impl RunResult {
    /// Time used over budget, for budgeted runs.
    pub fn time_ratio(&self) -> Option<f64> {
        self.budget_s
            .filter(|b| *b > 0.0)
            .map(|b| self.time_used_s / b)
    }

    /// Checks every value is in its range.
    ///
    /// # Errors
    /// [`ReportError::Invalid`] naming the first value out of range.
    pub fn validate(&self) -> Result<(), ReportError> {
        let unit = |v: f64| (0.0..=1.0).contains(&v);
        let problem = if [
            &self.domain,
            &self.dataset,
            &self.model,
            &self.method,
            &self.backend,
        ]
        .iter()
        .any(|s| s.trim().is_empty())
        {
            Some("domain, dataset, model, method and backend must be named".to_string())
        } else if !unit(self.test_accuracy) {
            Some(format!(
                "test_accuracy {} is not in [0, 1]",
                self.test_accuracy
            ))
        } else if !unit(self.sparsity) {
            Some(format!("sparsity {} is not in [0, 1]", self.sparsity))
        } else if !(0.0..1.0).contains(&self.target_sparsity) {
            Some(format!(
                "target_sparsity {} is not in [0, 1)",
                self.target_sparsity
            ))
        } else if !(self.time_used_s.is_finite() && self.time_used_s >= 0.0) {
            Some(format!("time_used_s {} is not a time", self.time_used_s))
        } else if self.budget_s.is_some_and(|b| !(b.is_finite() && b > 0.0)) {
            Some(format!(
                "budget_s {:?} is not a positive time",
                self.budget_s
            ))
        } else if self.validation_accuracy.is_some_and(|v| !unit(v)) {
            Some(format!(
                "validation_accuracy {:?} is not in [0, 1]",
                self.validation_accuracy
            ))
        } else {
            None
        };
        problem.map_or(Ok(()), |problem| {
            Err(ReportError::Invalid {
                row: if self.run_dir.is_empty() {
                    format!("{}/{}/{}", self.dataset, self.model, self.method)
                } else {
                    self.run_dir.clone()
                },
                problem,
            })
        })
    }
}
