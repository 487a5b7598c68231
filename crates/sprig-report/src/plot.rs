//! SVG charts of a table: test accuracy against sparsity and against budget.

use std::collections::BTreeMap;
use std::path::Path;

use plotters::prelude::*;

use crate::{ReportError, RunResult, summarise};

/// A named series of (x, y, y-std) points.
type Series = BTreeMap<String, Vec<(f64, f64, f64)>>;

/// Test accuracy (%) against achieved sparsity (%), one series per method (mean over seeds,
/// with ± one standard deviation as error bars). Empty input gives a chart that says so.
///
/// # Errors
/// [`ReportError::Plot`] if drawing or writing the SVG fails.
pub fn plot_accuracy_vs_sparsity(
    path: &Path,
    title: &str,
    runs: &[RunResult],
) -> Result<(), ReportError> {
    let mut series = Series::new();
    for s in summarise(runs) {
        let name = label(&s.config);
        series.entry(name).or_default().push((
            100.0 * s.sparsity.mean,
            100.0 * s.test_accuracy.mean,
            100.0 * s.test_accuracy.std,
        ));
    }
    draw(path, title, "sparsity (%)", &series, None)
}

/// Test accuracy (%) against budget (s) for budgeted methods, one series per method, with
/// the dense runs' mean accuracy as a horizontal reference when present.
///
/// # Errors
/// [`ReportError::Plot`] if drawing or writing the SVG fails.
pub fn plot_accuracy_vs_budget(
    path: &Path,
    title: &str,
    runs: &[RunResult],
) -> Result<(), ReportError> {
    let mut series = Series::new();
    let mut dense = Vec::new();
    for s in summarise(runs) {
        if s.config.method == "dense" {
            dense.push(100.0 * s.test_accuracy.mean);
        } else if let Some(budget) = s.config.budget_s {
            series.entry(label(&s.config)).or_default().push((
                budget,
                100.0 * s.test_accuracy.mean,
                100.0 * s.test_accuracy.std,
            ));
        }
    }
    let reference = (!dense.is_empty()).then(|| dense.iter().sum::<f64>() / dense.len() as f64);
    draw(path, title, "budget (s)", &series, reference)
}

/// The legend label of a run's configuration.
fn label(run: &RunResult) -> String {
    let mut label = format!("{} {} {}", run.dataset, run.model, run.method);
    if !run.lr_schedule.is_empty() {
        label.push_str(&format!(" ({})", run.lr_schedule));
    }
    if let Some(variant) = &run.variant {
        label.push_str(&format!(" [{variant}]"));
    }
    label
}

fn draw(
    path: &Path,
    title: &str,
    x_label: &str,
    series: &Series,
    reference: Option<f64>,
) -> Result<(), ReportError> {
    let fail = |e: &dyn std::fmt::Display| ReportError::Plot {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let points: Vec<(f64, f64, f64)> = series
        .values()
        .flatten()
        .copied()
        .filter(|(x, y, _)| x.is_finite() && y.is_finite())
        .collect();
    let (x0, x1) = bounds(points.iter().map(|p| p.0));
    let (y0, y1) = bounds(
        points
            .iter()
            .flat_map(|p| [p.1 - p.2, p.1 + p.2])
            .chain(reference),
    );
    let root = SVGBackend::new(path, (900, 560)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(&e))?;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 22))
        .margin(16)
        .x_label_area_size(44)
        .y_label_area_size(56)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| fail(&e))?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("test accuracy (%)")
        .draw()
        .map_err(|e| fail(&e))?;
    if points.is_empty() {
        chart
            .draw_series(std::iter::once(Text::new(
                "no data",
                ((x0 + x1) / 2.0, (y0 + y1) / 2.0),
                ("sans-serif", 20),
            )))
            .map_err(|e| fail(&e))?;
    }
    for (index, (name, points)) in series.iter().enumerate() {
        let color = Palette99::pick(index).to_rgba();
        let mut points: Vec<(f64, f64, f64)> = points
            .iter()
            .copied()
            .filter(|(x, y, _)| x.is_finite() && y.is_finite())
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        chart
            .draw_series(LineSeries::new(points.iter().map(|p| (p.0, p.1)), color))
            .map_err(|e| fail(&e))?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color));
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
            )
            .map_err(|e| fail(&e))?;
        chart
            .draw_series(
                points
                    .iter()
                    .filter(|p| p.2 > 0.0)
                    .map(|p| PathElement::new(vec![(p.0, p.1 - p.2), (p.0, p.1 + p.2)], color)),
            )
            .map_err(|e| fail(&e))?;
    }
    if let Some(y) = reference {
        chart
            .draw_series(LineSeries::new([(x0, y), (x1, y)], BLACK.mix(0.5)))
            .map_err(|e| fail(&e))?
            .label("dense (same budget, mean)")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.mix(0.5)));
    }
    if !series.is_empty() || reference.is_some() {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .position(SeriesLabelPosition::LowerLeft)
            .draw()
            .map_err(|e| fail(&e))?;
    }
    root.present().map_err(|e| fail(&e))
}

/// A padded range covering `values` (finite ones), or 0..1 when there are none.
fn bounds(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    let pad = ((hi - lo) * 0.08).max(0.5);
    (lo - pad, hi + pad)
}
