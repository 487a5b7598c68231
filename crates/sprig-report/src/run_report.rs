//! The report of one run, written into its ticket folder by `sprig prune`: a Markdown
//! summary, the same as JSON, and a chart of validation accuracy and sparsity per training
//! against wall time, with the budget line.

use std::path::Path;

use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use sprig_budget::Lap;

use crate::{ReportError, RunResult, StopReason};

/// File names of the report in a ticket folder.
pub const REPORT_MD: &str = "report.md";
/// See [`REPORT_MD`].
pub const REPORT_JSON: &str = "report.json";
/// See [`REPORT_MD`].
pub const REPORT_SVG: &str = "report.svg";

/// One finished training of a run, as the report shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingPoint {
    /// Training number (0 is dense).
    pub round: u32,
    /// Sparsity of its mask.
    pub sparsity: f64,
    /// Iterations trained.
    pub iterations: u64,
    /// Validation accuracy of the weights kept.
    pub validation_accuracy: f64,
    /// Wall time since the start of the run when it ended, in seconds.
    pub ended_at_s: f64,
}

/// One prunable tensor of the ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TensorPoint {
    /// Parameter path, e.g. `conv1.weight`.
    pub path: String,
    /// Layer kind (`conv`, `linear`, `output`, …).
    pub kind: String,
    /// Weights in the tensor.
    pub weights: usize,
    /// Share of them pruned.
    pub sparsity: f64,
}

/// What `report.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The result row.
    pub result: RunResult,
    /// Every finished training, in order.
    pub trainings: Vec<TrainingPoint>,
    /// Every prunable tensor of the ticket, by path.
    #[serde(default)]
    pub tensors: Vec<TensorPoint>,
}

impl RunReport {
    /// The summary page.
    #[must_use]
    pub fn markdown(&self) -> String {
        let r = &self.result;
        let budget = r
            .budget_s
            .map_or("no limit".to_string(), |b| format!("{b} s"));
        // The method's settings, as the evaluation tables name them: the round policy and
        // where the ticket rewinds to, among others.
        let settings = r.variant.as_ref().map_or_else(String::new, |v| {
            format!("| settings | {} |\n", crate::markdown::cell(v))
        });
        let mut page = format!(
            "# Sprig run: {} on {}\n\n\
             | | |\n|---|---|\n\
             | method | {} |\n{settings}| backend | {} |\n| seed | {} |\n| budget | {budget} |\n\
             | time used | {:.1} s{} |\n| target sparsity | {} |\n| sparsity reached | {:.4} |\n\
             | prunes | {} |\n| iterations | {} |\n| validation accuracy | {} |\n\
             | test accuracy | {:.2}% |\n| stopped because | {} |\n\n",
            r.model,
            r.dataset,
            r.method,
            r.backend,
            r.seed,
            r.time_used_s,
            r.budget_s.map_or(String::new(), |b| format!(
                " ({:.1}% of the budget)",
                100.0 * r.time_used_s / b
            )),
            r.target_sparsity,
            r.sparsity,
            r.rounds,
            r.iterations,
            r.validation_accuracy
                .map_or("—".into(), |v| format!("{:.2}%", 100.0 * v)),
            100.0 * r.test_accuracy,
            r.stop_reason.map_or("—", StopReason::name),
        );
        if let Some(laps) = &r.backend_race {
            page.push_str(&race_section(laps));
        }
        page.push_str(
            "## Trainings\n\n| training | sparsity | iterations | validation accuracy | ended at (s) |\n|---|---|---|---|---|\n",
        );
        for t in &self.trainings {
            page.push_str(&format!(
                "| {} | {:.4} | {} | {:.2}% | {:.1} |\n",
                t.round,
                t.sparsity,
                t.iterations,
                100.0 * t.validation_accuracy,
                t.ended_at_s
            ));
        }
        if !self.tensors.is_empty() {
            page.push_str(
                "\n## Tensors\n\n| tensor | kind | weights | pruned |\n|---|---|---|---|\n",
            );
            for t in &self.tensors {
                page.push_str(&format!(
                    "| `{}` | {} | {} | {:.1}% |\n",
                    t.path,
                    t.kind,
                    t.weights,
                    100.0 * t.sparsity
                ));
            }
        }
        page.push_str(&format!(
            "\n![accuracy and sparsity per training against wall time]({REPORT_SVG})\n"
        ));
        page
    }

    /// Writes `report.md`, `report.json` and `report.svg` into `dir`.
    ///
    /// # Errors
    /// A file that cannot be written, or a chart that cannot be drawn.
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ReportError::Io { path, source }
        };
        let md = dir.join(REPORT_MD);
        std::fs::write(&md, self.markdown()).map_err(io(&md))?;
        let json = dir.join(REPORT_JSON);
        let text = serde_json::to_vec_pretty(self).map_err(|source| ReportError::Json {
            path: json.clone(),
            source,
        })?;
        std::fs::write(&json, text).map_err(io(&json))?;
        self.plot(&dir.join(REPORT_SVG))
    }

    /// Validation accuracy and sparsity (%) of every training against the wall time it
    /// ended at, with the budget as a vertical line.
    fn plot(&self, path: &Path) -> Result<(), ReportError> {
        let fail = |e: &dyn std::fmt::Display| ReportError::Plot {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let end = self
            .trainings
            .iter()
            .map(|t| t.ended_at_s)
            .chain(self.result.budget_s)
            .chain([self.result.time_used_s])
            .filter(|v| v.is_finite())
            .fold(1.0_f64, f64::max);
        let root = SVGBackend::new(path, (900, 520)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| fail(&e))?;
        let title = format!(
            "{} on {}: {} run",
            self.result.model, self.result.dataset, self.result.method
        );
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(44)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..end * 1.05, 0.0..100.0)
            .map_err(|e| fail(&e))?;
        chart
            .configure_mesh()
            .x_desc("wall time (s)")
            .y_desc("%")
            .draw()
            .map_err(|e| fail(&e))?;
        let series = [
            (
                "validation accuracy",
                BLUE,
                self.trainings
                    .iter()
                    .map(|t| (t.ended_at_s, 100.0 * t.validation_accuracy))
                    .collect::<Vec<_>>(),
            ),
            (
                "sparsity",
                RED,
                self.trainings
                    .iter()
                    .map(|t| (t.ended_at_s, 100.0 * t.sparsity))
                    .collect(),
            ),
        ];
        for (name, color, points) in series {
            chart
                .draw_series(LineSeries::new(points.iter().copied(), color))
                .map_err(|e| fail(&e))?
                .label(name)
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
            chart
                .draw_series(points.iter().map(|&p| Circle::new(p, 4, color.filled())))
                .map_err(|e| fail(&e))?;
        }
        if let Some(budget) = self.result.budget_s {
            chart
                .draw_series(LineSeries::new(
                    [(budget, 0.0), (budget, 100.0)],
                    BLACK.mix(0.6),
                ))
                .map_err(|e| fail(&e))?
                .label("budget")
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.6)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerRight)
            .draw()
            .map_err(|e| fail(&e))?;
        root.present().map_err(|e| fail(&e))
    }
}

/// How `--backend auto` chose: every candidate's step time, or why it has none.
fn race_section(laps: &[Lap<String>]) -> String {
    let mut section = String::from(
        "## Backend\n\nChosen by timing the run's own training steps on each compiled backend \
         (`--backend auto`; the time is part of the budget).\n\n\
         | backend | ms per step (median) | steps | seconds | |\n|---|---|---|---|---|\n",
    );
    for l in laps {
        section.push_str(&format!(
            "| {} | {} | {} | {:.2} | {} |\n",
            l.candidate,
            l.step_ms.map_or("—".into(), |ms| format!("{ms:.3}")),
            l.steps,
            l.spent_s,
            l.left.as_deref().unwrap_or("")
        ));
    }
    section.push('\n');
    section
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> RunReport {
        let result: RunResult = serde_json::from_value(serde_json::json!({
            "domain": "vision", "dataset": "mnist", "model": "lenet-300-100",
            "method": "budgeted", "seed": 0, "backend": "flex", "budget_s": 60.0,
            "time_used_s": 59.4, "target_sparsity": 0.9, "sparsity": 0.9,
            "test_accuracy": 0.9827, "rounds": 4, "lr_schedule": "linear_decay",
            "iterations": 9000, "validation_accuracy": 0.98, "stop_reason": "completed",
            "variant": "rewound to iteration 500"
        }))
        .unwrap();
        RunReport {
            result,
            trainings: vec![
                TrainingPoint {
                    round: 0,
                    sparsity: 0.0,
                    iterations: 3000,
                    validation_accuracy: 0.978,
                    ended_at_s: 20.5,
                },
                TrainingPoint {
                    round: 1,
                    sparsity: 0.9,
                    iterations: 6000,
                    validation_accuracy: 0.98,
                    ended_at_s: 59.0,
                },
            ],
            tensors: vec![TensorPoint {
                path: "fc1.weight".into(),
                kind: "linear".into(),
                weights: 235_200,
                sparsity: 0.92,
            }],
        }
    }

    #[test]
    fn the_report_names_the_run_and_every_training_and_round_trips() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let report = report();
        report.write(dir).unwrap();
        let page = std::fs::read_to_string(dir.join(REPORT_MD)).unwrap();
        assert!(page.contains("lenet-300-100 on mnist"), "{page}");
        assert!(page.contains("59.4 s (99.0% of the budget)"), "{page}");
        assert!(
            page.contains("| settings | rewound to iteration 500 |"),
            "{page}"
        );
        assert!(
            page.contains("| 1 | 0.9000 | 6000 | 98.00% | 59.0 |"),
            "{page}"
        );
        assert!(
            page.contains("| `fc1.weight` | linear | 235200 | 92.0% |"),
            "{page}"
        );
        let back: RunReport =
            serde_json::from_slice(&std::fs::read(dir.join(REPORT_JSON)).unwrap()).unwrap();
        assert_eq!(back, report);
        let svg = std::fs::read_to_string(dir.join(REPORT_SVG)).unwrap();
        assert!(svg.contains("budget") && svg.contains("sparsity"));
        assert!(
            !page.contains("## Backend"),
            "a named backend has no race: {page}"
        );
    }

    #[test]
    fn an_auto_run_shows_every_candidate_of_its_race() {
        let mut report = report();
        let lap = |candidate: &str, step_ms, left: Option<&str>| Lap {
            candidate: candidate.to_string(),
            step_ms,
            steps: if step_ms.is_some() { 10 } else { 1 },
            spent_s: 1.5,
            left: left.map(str::to_string),
        };
        report.result.backend_race = Some(vec![
            lap("flex", Some(243.2), None),
            lap("ndarray", None, Some("left after 1 step(s)")),
            lap("tch-cpu", Some(109.9), None),
        ]);
        let page = report.markdown();
        for row in [
            "| flex | 243.200 | 10 | 1.50 |  |",
            "| ndarray | — | 1 | 1.50 | left after 1 step(s) |",
            "| tch-cpu | 109.900 | 10 | 1.50 |  |",
        ] {
            assert!(page.contains(row), "{row} in {page}");
        }
    }
}
