//! SVG charts of an evaluation table: test accuracy against sparsity and against budget.
//!
//! A table mixes data sets whose accuracies lie tens of points apart (MNIST near 98 %,
//! CIFAR-10 near 40 %), so every (data set, model, split, budget or target) gets a panel of
//! its own, with axes zoomed to that panel's data: methods a few tenths apart stay apart.
//! A series keeps its colour and marker in every panel, so one legend below the grid serves
//! them all and covers no data. The default budgeted method is drawn thick and red, so the
//! eye finds it first; dense is a grey band (mean ± std) built only from the dense runs of
//! the panel's own configuration, never an average over budgets or splits.
//!
//! The budgeted method's ablations get charts of their own ([`Rows::Ablations`]): beside
//! the baselines they would repeat colours and bury the comparison a reader came for. An
//! unbudgeted reference (IMP at the LTH paper's schedule) is drawn in the budget panels of
//! its data set and model, where it shows how close a budgeted ticket comes to it.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Display;
use std::path::Path;

use plotters::coord::Shift;
use plotters::coord::ranged1d::Ranged;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::summary::method_rank;
use crate::{GroupSummary, ReportError, RunResult, Stat, summarise};

/// Which rows of a table a chart draws (dense always, as the band).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rows {
    /// Everything but the budgeted method's ablations: its default, every baseline and
    /// the unbudgeted references — the comparison a user makes.
    Comparison,
    /// The budgeted method's default and its ablations.
    Ablations,
}

impl Rows {
    /// Whether `run` belongs to this chart (dense runs only as the band).
    fn includes(self, run: &RunResult) -> bool {
        let ablation = run.method == "budgeted" && !run.default;
        match self {
            Self::Comparison => !ablation,
            Self::Ablations => run.method == "budgeted" || is_dense(run),
        }
    }

    /// Whether `runs` have anything this chart would show beside dense: every table has a
    /// comparison, not every one has ablations.
    pub fn present_in(self, runs: &[RunResult]) -> bool {
        match self {
            Self::Comparison => runs.iter().any(|r| !is_dense(r)),
            Self::Ablations => runs.iter().any(|r| r.method == "budgeted" && !r.default),
        }
    }

    fn select(self, runs: &[RunResult]) -> Vec<RunResult> {
        runs.iter().filter(|r| self.includes(r)).cloned().collect()
    }
}

/// Test accuracy (%) against achieved sparsity (%) of the `rows` of `runs`: one panel per
/// data set, model, split and budget, one series per method and variant (mean over seeds,
/// ± one standard deviation as error bars), and the dense runs of the same configuration as
/// a band. Unbudgeted runs (such as IMP) appear in every budget panel of their data set,
/// model and split, or in a panel of their own where there is none. Empty input gives a
/// chart that says "no data".
///
/// # Errors
/// [`ReportError::Plot`] if drawing or writing the SVG fails.
pub fn plot_accuracy_vs_sparsity(
    path: &Path,
    title: &str,
    runs: &[RunResult],
    rows: Rows,
) -> Result<(), ReportError> {
    let runs = &rows.select(runs);
    let figure = Figure::new(title, "achieved sparsity (%)", runs, sparsity_panels(runs));
    draw_figure(path, &figure).map_err(|message| plot_error(path, message))
}

/// Test accuracy (%) against budget (s) for the budgeted `rows` of `runs`: one panel per
/// data set, model, split and target sparsity, one series per method and variant (mean ± std over seeds), and
/// the dense runs of the same data set, model and split as a band over their budgets.
/// Unbudgeted runs have no place on a budget axis and are left out.
///
/// # Errors
/// [`ReportError::Plot`] if drawing or writing the SVG fails.
pub fn plot_accuracy_vs_budget(
    path: &Path,
    title: &str,
    runs: &[RunResult],
    rows: Rows,
) -> Result<(), ReportError> {
    let runs = &rows.select(runs);
    let figure = Figure::new(title, "budget (s)", runs, budget_panels(runs));
    draw_figure(path, &figure).map_err(|message| plot_error(path, message))
}

/// The error of a failed drawing of `path`.
fn plot_error(path: &Path, message: String) -> ReportError {
    ReportError::Plot {
        path: path.to_path_buf(),
        message,
    }
}

// ---------------------------------------------------------------------------------------
// What the panels show
// ---------------------------------------------------------------------------------------

/// An `f64` ordered by `total_cmp`, so budgets and sparsities can key a map (NaN included:
/// odd rows must not panic).
#[derive(Debug, Clone, Copy)]
struct Ordered(f64);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.total_cmp(&other.0)
    }
}

/// The part of a panel's key after data set, model and split. Budgets sort before
/// `NoBudget`, so the unbudgeted reference closes its data set's panels.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Slot {
    /// Runs with this budget (s), accuracy against sparsity.
    Budget(Ordered),
    /// Unbudgeted runs, accuracy against sparsity.
    NoBudget,
    /// Runs with this target sparsity, accuracy against budget.
    Target(Ordered),
}

/// Which panel a run belongs to. Panels are drawn in this key's order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct PanelKey {
    dataset: String,
    model: String,
    split: Option<String>,
    slot: Slot,
}

impl PanelKey {
    fn of(run: &RunResult, slot: Slot) -> Self {
        Self {
            dataset: run.dataset.clone(),
            model: run.model.clone(),
            split: run.split.clone(),
            slot,
        }
    }

    /// Whether `run` is of this panel's data set, model and split.
    fn matches(&self, run: &RunResult) -> bool {
        run.dataset == self.dataset && run.model == self.model && run.split == self.split
    }

    /// "mnist / lenet-300-100 — 120 s", with the split in brackets when there is one.
    fn title(&self) -> String {
        let split = self
            .split
            .as_ref()
            .map(|split| format!(" ({split})"))
            .unwrap_or_default();
        let slot = match self.slot {
            Slot::Budget(budget) => format!("{} s", short(budget.0)),
            Slot::NoBudget => "no budget".to_string(),
            Slot::Target(target) => format!("target sparsity {} %", short(100.0 * target.0)),
        };
        format!("{} / {}{split} — {slot}", self.dataset, self.model)
    }
}

/// What tells series apart within a panel: the configuration less the panel's own fields.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SeriesKey {
    method: String,
    variant: Option<String>,
    lr_schedule: String,
    default: bool,
    /// A reference run without a budget, drawn in budget panels.
    unbudgeted: bool,
}

impl SeriesKey {
    fn of(run: &RunResult) -> Self {
        Self {
            method: run.method.clone(),
            variant: run.variant.clone(),
            lr_schedule: run.lr_schedule.clone(),
            default: run.default,
            unbudgeted: run.budget_s.is_none(),
        }
    }
}

/// A mean over seeds and its standard deviation at one x, in plotted units (%, s).
#[derive(Debug, Clone, Copy)]
struct Point {
    x: f64,
    y: f64,
    std: f64,
}

impl Point {
    /// The point of a summarised configuration at `x`.
    fn of(summary: &GroupSummary, x: f64) -> Self {
        Self::from_stat(x, &summary.test_accuracy)
    }

    fn from_stat(x: f64, accuracy: &Stat) -> Self {
        Self {
            x,
            y: 100.0 * accuracy.mean,
            std: 100.0 * accuracy.std,
        }
    }
}

/// The dense reference drawn in a panel.
#[derive(Debug, Default)]
enum Dense {
    /// No dense run of the panel's configuration.
    #[default]
    Absent,
    /// One level across the panel (accuracy against sparsity): mean and std, %.
    Level { mean: f64, std: f64 },
    /// A level at each budget (accuracy against budget), sorted by budget.
    PerBudget(Vec<Point>),
}

/// One panel's series (points in no particular order) and dense reference.
#[derive(Debug, Default)]
struct Panel {
    series: BTreeMap<SeriesKey, Vec<Point>>,
    dense: Dense,
}

impl Panel {
    /// The x range: every point, and the budgets where dense was measured.
    fn x_range(&self) -> (f64, f64) {
        let dense = match &self.dense {
            Dense::PerBudget(points) => points.as_slice(),
            _ => &[],
        };
        let xs = self.series.values().flatten().chain(dense).map(|p| p.x);
        // Room for nudged series at the ends; a lone x gets room in proportion to it
        // (90 % → 88.2–91.8, 120 s → 117.6–122.4).
        padded(xs, 0.12, |x| (0.02 * x.abs()).max(0.5))
    }

    /// The y range: every error bar's ends and the dense band's edges.
    fn y_range(&self) -> (f64, f64) {
        let dense = match &self.dense {
            Dense::Absent => Vec::new(),
            Dense::Level { mean, std } => vec![mean - std, mean + std],
            Dense::PerBudget(points) => points.iter().flat_map(error_bar).collect(),
        };
        let ys = self.series.values().flatten().flat_map(error_bar);
        // A lone accuracy gets a point either side: enough for ticks, zoomed still.
        padded(ys.chain(dense), 0.08, |_| 0.5)
    }
}

/// The ends of a point's error bar.
fn error_bar(point: &Point) -> [f64; 2] {
    [point.y - point.std, point.y + point.std]
}

fn is_dense(run: &RunResult) -> bool {
    run.method == "dense"
}

/// The accuracy-against-sparsity panels: non-dense configurations by (data set, model,
/// split, budget), unbudgeted ones in every budget panel of their data set, model and split
/// (a panel of their own where there is none), and each panel's dense level from the dense
/// runs with that same key.
fn sparsity_panels(runs: &[RunResult]) -> BTreeMap<PanelKey, Panel> {
    let slot = |run: &RunResult| {
        run.budget_s
            .map_or(Slot::NoBudget, |b| Slot::Budget(Ordered(b)))
    };
    let summaries: Vec<GroupSummary> = summarise(runs)
        .into_iter()
        .filter(|s| !is_dense(&s.config))
        .collect();
    let budgeted: BTreeSet<PanelKey> = summaries
        .iter()
        .filter(|s| s.config.budget_s.is_some())
        .map(|s| PanelKey::of(&s.config, slot(&s.config)))
        .collect();
    let mut panels: BTreeMap<PanelKey, Panel> = BTreeMap::new();
    for summary in &summaries {
        let own = PanelKey::of(&summary.config, slot(&summary.config));
        let mut keys: Vec<PanelKey> = match own.slot {
            Slot::NoBudget => budgeted
                .iter()
                .filter(|k| k.matches(&summary.config))
                .cloned()
                .collect(),
            _ => Vec::new(),
        };
        if keys.is_empty() {
            keys.push(own);
        }
        let point = Point::of(summary, 100.0 * summary.sparsity.mean);
        for key in keys {
            add_point(&mut panels, key, &summary.config, point);
        }
    }
    for (key, panel) in &mut panels {
        let dense = runs
            .iter()
            .filter(|r| is_dense(r) && key.matches(r) && slot(r) == key.slot);
        if let Some(stat) = Stat::of(dense.map(|r| r.test_accuracy)) {
            panel.dense = Dense::Level {
                mean: 100.0 * stat.mean,
                std: 100.0 * stat.std,
            };
        }
    }
    panels
}

/// Adds `point` to the series of `config` in the panel of `key`.
fn add_point(
    panels: &mut BTreeMap<PanelKey, Panel>,
    key: PanelKey,
    config: &RunResult,
    point: Point,
) {
    let panel = panels.entry(key).or_default();
    panel
        .series
        .entry(SeriesKey::of(config))
        .or_default()
        .push(point);
}

/// The accuracy-against-budget panels: budgeted non-dense configurations by (data set,
/// model, split, target sparsity), and each panel's dense levels at every budget where the
/// same data set, model and split were trained dense.
fn budget_panels(runs: &[RunResult]) -> BTreeMap<PanelKey, Panel> {
    let mut panels: BTreeMap<PanelKey, Panel> = BTreeMap::new();
    for summary in summarise(runs).iter().filter(|s| !is_dense(&s.config)) {
        let Some(budget) = summary.config.budget_s.filter(|b| b.is_finite()) else {
            continue;
        };
        let slot = Slot::Target(Ordered(summary.config.target_sparsity));
        let key = PanelKey::of(&summary.config, slot);
        add_point(
            &mut panels,
            key,
            &summary.config,
            Point::of(summary, budget),
        );
    }
    for (key, panel) in &mut panels {
        let mut by_budget: BTreeMap<Ordered, Vec<f64>> = BTreeMap::new();
        for run in runs.iter().filter(|r| is_dense(r) && key.matches(r)) {
            if let Some(budget) = run.budget_s.filter(|b| b.is_finite()) {
                by_budget
                    .entry(Ordered(budget))
                    .or_default()
                    .push(run.test_accuracy);
            }
        }
        let points: Vec<Point> = by_budget
            .into_iter()
            .filter_map(|(budget, accuracies)| {
                Stat::of(accuracies).map(|stat| Point::from_stat(budget.0, &stat))
            })
            .collect();
        if !points.is_empty() {
            panel.dense = Dense::PerBudget(points);
        }
    }
    panels
}

// ---------------------------------------------------------------------------------------
// How series look
// ---------------------------------------------------------------------------------------

/// A marker's shape; shapes as well as colours tell series apart, for readers who cannot
/// tell the colours apart.
#[derive(Debug, Clone, Copy)]
enum Marker {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
}

impl Marker {
    /// The corners of a polygon marker of half-size `r`, in pixels around its centre (a
    /// circle, drawn as a circle, has its bounding square).
    fn outline(self, r: i32) -> Vec<(i32, i32)> {
        match self {
            Self::Circle | Self::Square => vec![(-r, -r), (r, -r), (r, r), (-r, r)],
            Self::Diamond => vec![(0, -r - 1), (r + 1, 0), (0, r + 1), (-r - 1, 0)],
            Self::TriangleUp => vec![(0, -r - 1), (r + 1, r), (-r - 1, r)],
            Self::TriangleDown => vec![(0, r + 1), (r + 1, -r), (-r - 1, -r)],
        }
    }
}

/// How one series is drawn.
#[derive(Debug, Clone, Copy)]
struct Look {
    color: RGBColor,
    /// Line width in pixels (error bars are one pixel thinner, at least one).
    width: u32,
    marker: Marker,
    /// Marker half-size in pixels.
    size: i32,
}

impl Look {
    /// The default budgeted method: the series a reader looks for first.
    const DEFAULT: Self = Self {
        color: RGBColor(214, 39, 40),
        width: 3,
        marker: Marker::Circle,
        size: 7,
    };

    /// Colours for the other series: distinct from each other, from the default's red and
    /// from dense's grey.
    const PALETTE: [RGBColor; 8] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];

    const MARKERS: [Marker; 5] = [
        Marker::Square,
        Marker::Diamond,
        Marker::TriangleUp,
        Marker::TriangleDown,
        Marker::Circle,
    ];

    /// The look of the `index`th default series: there is one in a well-formed table, but
    /// should there be more, their markers differ.
    fn default_method(index: usize) -> Self {
        let markers = [Marker::Circle, Marker::Square, Marker::Diamond];
        Self {
            marker: markers[index % markers.len()],
            ..Self::DEFAULT
        }
    }

    /// The look of the `index`th non-default series.
    fn other(index: usize) -> Self {
        Self {
            color: Self::PALETTE[index % Self::PALETTE.len()],
            width: 2,
            marker: Self::MARKERS[index % Self::MARKERS.len()],
            size: 5,
        }
    }

    fn line(&self) -> ShapeStyle {
        self.color.stroke_width(self.width)
    }

    fn bar(&self) -> ShapeStyle {
        self.color.stroke_width(self.width.saturating_sub(1).max(1))
    }
}

/// The legend label of a series: the method, its variant in brackets, and its learning-rate
/// schedule only where it departs from the table's usual one (else two series would share
/// a label). Data set and model are in the panel titles, not here.
fn label(key: &SeriesKey, usual_schedule: &str) -> String {
    let mut label = key.method.clone();
    if let Some(variant) = &key.variant {
        label.push_str(&format!(" ({variant})"));
    }
    if key.lr_schedule != usual_schedule && !key.lr_schedule.is_empty() {
        label.push_str(&format!(", {} LR", key.lr_schedule));
    }
    if key.unbudgeted {
        label.push_str(", no budget");
    }
    label
}

/// The learning-rate schedule most runs used.
fn usual_schedule(runs: &[RunResult]) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for run in runs {
        *counts.entry(run.lr_schedule.as_str()).or_default() += 1;
    }
    let most = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)));
    most.map(|(schedule, _)| (*schedule).to_string())
        .unwrap_or_default()
}

/// Every non-dense series of `runs` with its look, in legend order: the default method
/// first, then the table's method order. Looks come from the whole table, so a series has
/// the same colour and marker in both charts of it.
fn looks(runs: &[RunResult]) -> Vec<(SeriesKey, Look)> {
    let mut keys: Vec<SeriesKey> = runs
        .iter()
        .filter(|r| !is_dense(r))
        .map(SeriesKey::of)
        .collect();
    keys.sort_by(|a, b| {
        (!a.default, method_rank(&a.method))
            .cmp(&(!b.default, method_rank(&b.method)))
            .then(a.cmp(b))
    });
    keys.dedup();
    let (mut defaults, mut others) = (0, 0);
    keys.into_iter()
        .map(|key| {
            let look = if key.default {
                defaults += 1;
                Look::default_method(defaults - 1)
            } else {
                others += 1;
                Look::other(others - 1)
            };
            (key, look)
        })
        .collect()
}

/// A whole chart: its title, x axis, panels, and the series of its legend in legend order
/// with their looks (the same look in every panel).
#[derive(Debug)]
struct Figure {
    title: String,
    x_desc: &'static str,
    panels: Vec<(String, Panel)>,
    legend: Vec<(SeriesKey, String, Look)>,
    has_dense: bool,
}

impl Figure {
    fn new(
        title: &str,
        x_desc: &'static str,
        runs: &[RunResult],
        panels: BTreeMap<PanelKey, Panel>,
    ) -> Self {
        let usual = usual_schedule(runs);
        let legend = looks(runs)
            .into_iter()
            .filter(|(key, _)| panels.values().any(|p| p.series.contains_key(key)))
            .map(|(key, look)| {
                let label = label(&key, &usual);
                (key, label, look)
            })
            .collect();
        let has_dense = panels.values().any(|p| !matches!(p.dense, Dense::Absent));
        Self {
            title: title.to_string(),
            x_desc,
            panels: panels.into_iter().map(|(k, p)| (k.title(), p)).collect(),
            legend,
            has_dense,
        }
    }

    fn look(&self, key: &SeriesKey) -> Look {
        self.legend
            .iter()
            .find(|(k, _, _)| k == key)
            .map_or(Look::other(0), |(_, _, look)| *look)
    }
}

// ---------------------------------------------------------------------------------------
// Layout and drawing
// ---------------------------------------------------------------------------------------

/// What drawing returns: plotters' errors as text, turned into [`ReportError::Plot`] once.
type Drawn = Result<(), String>;

fn failed(error: impl Display) -> String {
    error.to_string()
}

/// A chart drawn on the SVG backend with f64 axes.
type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// Sizes in pixels (fonts in plotters' units; the SVG writes them as `size / 1.24` px).
mod size {
    /// A panel's width and height: room for ~6 ticks a side and a readable caption.
    pub const PANEL: (u32, u32) = (520, 380);
    /// A lone panel is wider, so its legend has room.
    pub const LONE_PANEL_WIDTH: u32 = 720;
    pub const TITLE_HEIGHT: u32 = 52;
    pub const TITLE_FONT: f64 = 28.0;
    pub const PANEL_TITLE_FONT: f64 = 21.0;
    pub const TICK_FONT: f64 = 17.0;
    pub const AXIS_FONT: f64 = 18.0;
    pub const LEGEND_FONT: f64 = 18.0;
    pub const NOTE_FONT: f64 = 16.0;
    /// A legend text line's height.
    pub const LINE: u32 = 19;
    /// Space between legend entries, and around the legend.
    pub const GAP: u32 = 10;
    /// The legend's line-and-marker sample, then text.
    pub const SAMPLE: i32 = 40;
    pub const TEXT_INDENT: i32 = 52;
    /// Sideways nudge between series sharing an x, so error bars do not hide each other:
    /// at least this, and at most this where the x values are far apart.
    pub const NUDGE: (f64, f64) = (4.0, 8.0);
}

fn font(size: f64) -> TextStyle<'static> {
    ("sans-serif", size).into_font().color(&BLACK)
}

/// Characters of a line of text of `font` that fit in `pixels` (a wide font's estimate,
/// so the text fits in any reader's sans-serif).
fn chars_fitting(pixels: i32, font: f64) -> usize {
    let char_width = 0.62 * font / 1.24;
    ((f64::from(pixels) / char_width) as usize).max(8)
}

/// `max`, or a smaller font size if `text` would be wider than `pixels` (long split names).
fn font_fitting(text: &str, pixels: u32, max: f64) -> f64 {
    let fitting = chars_fitting(pixels as i32, max);
    let chars = text.chars().count().max(1);
    if chars <= fitting {
        max
    } else {
        (max * fitting as f64 / chars as f64).max(10.0)
    }
}

/// `text` broken at spaces into lines of at most `width` characters (a longer word is cut
/// into pieces of `width`).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        let chars: Vec<char> = word.chars().collect();
        for piece in chars.chunks(width).map(String::from_iter) {
            match lines.last_mut() {
                Some(line) if line.chars().count() + 1 + piece.chars().count() <= width => {
                    line.push(' ');
                    line.push_str(&piece);
                }
                _ => lines.push(piece),
            }
        }
    }
    lines
}

/// An entry of the legend: wrapped text and what its sample shows.
#[derive(Debug)]
struct Entry {
    lines: Vec<String>,
    sample: Option<Look>,
}

/// The grid and legend geometry of a figure.
#[derive(Debug)]
struct Layout {
    columns: u32,
    rows: u32,
    panel: (u32, u32),
    entries: Vec<Entry>,
    /// The height of each row of legend entries.
    legend_rows: Vec<u32>,
    note: Vec<String>,
}

impl Layout {
    fn of(figure: &Figure) -> Self {
        let count = figure.panels.len().max(1) as u32;
        let columns = count.min(2);
        let panel = if columns == 1 {
            (size::LONE_PANEL_WIDTH, size::PANEL.1)
        } else {
            size::PANEL
        };
        let entry_chars = chars_fitting(
            panel.0 as i32 - size::TEXT_INDENT - 2 * size::GAP as i32,
            size::LEGEND_FONT,
        );
        let mut entries: Vec<Entry> = figure
            .legend
            .iter()
            .map(|(_, label, look)| Entry {
                lines: wrap(label, entry_chars),
                sample: Some(*look),
            })
            .collect();
        if figure.has_dense {
            entries.push(Entry {
                lines: vec!["dense (same budget): mean ± std band".to_string()],
                sample: None,
            });
        }
        let legend_rows = entries
            .chunks(columns as usize)
            .map(|row| {
                let lines = row.iter().map(|e| e.lines.len()).max().unwrap_or(1).max(1) as u32;
                lines * size::LINE + size::GAP
            })
            .collect();
        let note = wrap(
            "Markers: mean over seeds; bars: ± 1 std. Series sharing an x are nudged a few \
             pixels sideways so their bars stay visible.",
            chars_fitting(
                (columns * panel.0) as i32 - 2 * size::GAP as i32,
                size::NOTE_FONT,
            ),
        );
        Self {
            columns,
            rows: count.div_ceil(columns),
            panel,
            entries,
            legend_rows,
            note,
        }
    }

    fn width(&self) -> u32 {
        self.columns * self.panel.0
    }

    fn legend_height(&self) -> u32 {
        let entries: u32 = self.legend_rows.iter().sum();
        entries + self.note.len() as u32 * size::LINE + 3 * size::GAP
    }

    fn height(&self) -> u32 {
        size::TITLE_HEIGHT + self.rows * self.panel.1 + self.legend_height()
    }
}

/// Draws `figure` to an SVG at `path`: title, grid of panels, legend below.
fn draw_figure(path: &Path, figure: &Figure) -> Drawn {
    let layout = Layout::of(figure);
    let root = SVGBackend::new(path, (layout.width(), layout.height())).into_drawing_area();
    root.fill(&WHITE).map_err(failed)?;
    let (head, body) = root.split_vertically(size::TITLE_HEIGHT);
    // A long title over a lone panel gets a smaller font rather than losing its ends.
    let title_font = font_fitting(&figure.title, layout.width(), size::TITLE_FONT);
    draw_centred(&head, &figure.title, font(title_font))?;
    if figure.panels.is_empty() {
        draw_centred(
            &body,
            "no data",
            font(size::TITLE_FONT).color(&BLACK.mix(0.6)),
        )?;
        return root.present().map_err(failed);
    }
    let (grid, legend) = body.split_vertically(layout.rows * layout.panel.1);
    let cells = grid.split_evenly((layout.rows as usize, layout.columns as usize));
    for (cell, (title, panel)) in cells.iter().zip(&figure.panels) {
        draw_panel(cell, title, panel, figure)?;
    }
    draw_legend(&legend, &layout)?;
    root.present().map_err(failed)
}

fn draw_centred(area: &DrawingArea<SVGBackend<'_>, Shift>, text: &str, style: TextStyle) -> Drawn {
    let (w, h) = area.dim_in_pixel();
    let style = style.pos(Pos::new(HPos::Center, VPos::Center));
    area.draw(&Text::new(text, (w as i32 / 2, h as i32 / 2), style))
        .map_err(failed)
}

/// Most ticks on a panel's axes: enough to read values, few enough for their labels.
const X_TICKS: usize = 6;
const Y_TICKS: usize = 7;

/// Draws one panel: axes zoomed to its data, the dense band under the series, then the
/// series with the default one last, on top.
fn draw_panel(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    title: &str,
    panel: &Panel,
    figure: &Figure,
) -> Drawn {
    let (x0, x1) = panel.x_range();
    let (y0, y1) = panel.y_range();
    let mut chart = ChartBuilder::on(area)
        .caption(
            title,
            font(font_fitting(
                title,
                area.dim_in_pixel().0,
                size::PANEL_TITLE_FONT,
            )),
        )
        .margin(10)
        .margin_right(22)
        .x_label_area_size(50)
        .y_label_area_size(66)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(failed)?;
    let x_ticks = tick_formatter((x0, x1), X_TICKS);
    let y_ticks = tick_formatter((y0, y1), Y_TICKS);
    chart
        .configure_mesh()
        .x_desc(figure.x_desc)
        .y_desc("test accuracy (%)")
        .x_labels(X_TICKS)
        .y_labels(Y_TICKS)
        .x_label_formatter(&x_ticks)
        .y_label_formatter(&y_ticks)
        .label_style(font(size::TICK_FONT))
        .axis_desc_style(font(size::AXIS_FONT))
        .bold_line_style(RGBColor(226, 226, 226))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(failed)?;
    draw_dense(&chart, &panel.dense, (x0, x1))?;
    let mut series: Vec<(&SeriesKey, &Vec<Point>)> = panel.series.iter().collect();
    // Nudges follow legend order; drawing puts the default series last, on top.
    series.sort_by_key(|(key, _)| figure.legend.iter().position(|(k, _, _)| k == *key));
    let nudge = nudge_step(&chart, panel, (x0, x1));
    let middle = (series.len() as f64 - 1.0) / 2.0;
    let mut drawn: Vec<(f64, &SeriesKey, &Vec<Point>)> = series
        .into_iter()
        .enumerate()
        .map(|(i, (key, points))| ((i as f64 - middle) * nudge, key, points))
        .collect();
    drawn.sort_by_key(|(_, key, _)| key.default);
    for (shift, key, points) in drawn {
        draw_series(&chart, points, figure.look(key), shift)?;
    }
    Ok(())
}

/// The sideways step between a panel's series, in x units: the panel's series share half
/// the smallest gap between neighbouring x values (so nudged groups stay apart), within
/// [`size::NUDGE`] pixels a step. x values a few pixels apart count as one x (achieved
/// sparsities differ a little between methods).
fn nudge_step(chart: &Chart<'_, '_>, panel: &Panel, (x0, x1): (f64, f64)) -> f64 {
    let width = f64::from(chart.plotting_area().dim_in_pixel().0.max(1));
    let units_per_pixel = (x1 - x0) / width;
    let mut xs: Vec<f64> = panel.series.values().flatten().map(|p| p.x).collect();
    xs.sort_by(f64::total_cmp);
    let gap = xs
        .windows(2)
        .map(|w| (w[1] - w[0]) / units_per_pixel)
        .filter(|gap| *gap > 3.0)
        .fold(f64::INFINITY, f64::min);
    let pixels =
        (gap / 2.0 / (panel.series.len() as f64 + 1.0)).clamp(size::NUDGE.0, size::NUDGE.1);
    pixels * units_per_pixel
}

/// Tick labels with as many decimals as the ticks plotters will place on `range` need
/// (98.2, not 98.20000001 nor 98.200; 80, not 80.0).
fn tick_formatter((lo, hi): (f64, f64), ticks: usize) -> impl Fn(&f64) -> String {
    let decimals = RangedCoordf64::from(lo..hi)
        .key_points(ticks)
        .into_iter()
        .map(|v| short(v).split_once('.').map_or(0, |(_, d)| d.len()))
        .max()
        .unwrap_or(0);
    move |v: &f64| format!("{v:.decimals$}")
}

/// The dense reference: a grey band (mean ± std) and a dashed line at the mean.
fn draw_dense(chart: &Chart<'_, '_>, dense: &Dense, (x0, x1): (f64, f64)) -> Drawn {
    let band = BLACK.mix(0.12).filled();
    let line = RGBColor(80, 80, 80).stroke_width(1);
    let area = chart.plotting_area();
    match dense {
        Dense::Absent => Ok(()),
        Dense::Level { mean, std } => {
            area.draw(&Rectangle::new([(x0, mean - std), (x1, mean + std)], band))
                .map_err(failed)?;
            area.draw(&DashedPathElement::new(
                [(x0, *mean), (x1, *mean)],
                6,
                4,
                line,
            ))
            .map_err(failed)
        }
        Dense::PerBudget(points) if points.len() == 1 => {
            // One budget: a short band around it, as wide as a few markers.
            let p = points[0];
            let half = 0.04 * (x1 - x0);
            area.draw(&Rectangle::new(
                [(p.x - half, p.y - p.std), (p.x + half, p.y + p.std)],
                band,
            ))
            .map_err(failed)?;
            area.draw(&DashedPathElement::new(
                [(p.x - half, p.y), (p.x + half, p.y)],
                6,
                4,
                line,
            ))
            .map_err(failed)
        }
        Dense::PerBudget(points) => {
            let upper = points.iter().map(|p| (p.x, p.y + p.std));
            let lower = points.iter().rev().map(|p| (p.x, p.y - p.std));
            area.draw(&Polygon::new(upper.chain(lower).collect::<Vec<_>>(), band))
                .map_err(failed)?;
            let means: Vec<(f64, f64)> = points.iter().map(|p| (p.x, p.y)).collect();
            area.draw(&DashedPathElement::new(means, 6, 4, line))
                .map_err(failed)
        }
    }
}

/// One series, `shift` x units sideways: line through the means (when more than one),
/// error bars with caps, markers.
fn draw_series(chart: &Chart<'_, '_>, points: &[Point], look: Look, shift: f64) -> Drawn {
    let area = chart.plotting_area();
    let mut points: Vec<Point> = points
        .iter()
        .filter(|p| p.x.is_finite() && p.y.is_finite())
        .copied()
        .collect();
    points.sort_by(|a, b| a.x.total_cmp(&b.x));
    if points.len() > 1 {
        let line: Vec<(f64, f64)> = points.iter().map(|p| (p.x + shift, p.y)).collect();
        area.draw(&PathElement::new(line, look.line()))
            .map_err(failed)?;
    }
    for p in &points {
        let x = p.x + shift;
        if p.std > 0.0 {
            let half = look.size - 1;
            let cap = |y| {
                EmptyElement::at((x, y)) + PathElement::new([(-half, 0), (half, 0)], look.bar())
            };
            area.draw(&PathElement::new(
                [(x, p.y - p.std), (x, p.y + p.std)],
                look.bar(),
            ))
            .map_err(failed)?;
            area.draw(&cap(p.y - p.std)).map_err(failed)?;
            area.draw(&cap(p.y + p.std)).map_err(failed)?;
        }
        draw_marker(area, (x, p.y), look)?;
    }
    Ok(())
}

/// A marker of `look` centred at `at`, on a chart or in the legend; filled, with a white rim
/// so overlapping markers stay apart.
fn draw_marker<CT: CoordTranslate>(
    area: &DrawingArea<SVGBackend<'_>, CT>,
    at: CT::From,
    look: Look,
) -> Drawn {
    let fill = look.color.filled();
    let rim = WHITE.stroke_width(1);
    let r = look.size;
    match look.marker {
        Marker::Circle => area.draw(
            &(EmptyElement::at(at)
                + Circle::new((0, 0), r + 1, WHITE.filled())
                + Circle::new((0, 0), r, fill)
                + Circle::new((0, 0), r + 1, rim)),
        ),
        shape => area.draw(
            &(EmptyElement::at(at)
                + Polygon::new(shape.outline(r + 1), WHITE.filled())
                + Polygon::new(shape.outline(r), fill)),
        ),
    }
    .map_err(failed)
}

/// The legend below the grid: entries in rows of as many columns as the grid, the default
/// series first, dense last, then a note on what markers and bars mean.
fn draw_legend(area: &DrawingArea<SVGBackend<'_>, Shift>, layout: &Layout) -> Drawn {
    let (width, height) = area.dim_in_pixel();
    let frame = RGBColor(190, 190, 190);
    let gap = size::GAP as i32;
    area.draw(&Rectangle::new(
        [(gap, gap / 2), (width as i32 - gap, height as i32 - gap)],
        frame.stroke_width(1),
    ))
    .map_err(failed)?;
    let mut top = gap;
    let column_width = layout.panel.0 as i32;
    for (row, row_height) in layout
        .entries
        .chunks(layout.columns as usize)
        .zip(&layout.legend_rows)
    {
        for (column, entry) in row.iter().enumerate() {
            let left = 2 * gap + column as i32 * column_width;
            draw_entry(area, (left, top + gap / 2), entry)?;
        }
        top += *row_height as i32;
    }
    let note = font(size::NOTE_FONT).color(&RGBColor(90, 90, 90));
    for (i, line) in layout.note.iter().enumerate() {
        let y = top + gap / 2 + i as i32 * size::LINE as i32;
        area.draw(&Text::new(line.as_str(), (2 * gap, y), note.clone()))
            .map_err(failed)?;
    }
    Ok(())
}

/// One legend entry with its top-left corner at `(left, top)`: the sample (line and marker,
/// or dense's band) beside the first text line.
fn draw_entry(
    area: &DrawingArea<SVGBackend<'_>, Shift>,
    (left, top): (i32, i32),
    entry: &Entry,
) -> Drawn {
    let middle = top + size::LINE as i32 / 2;
    let sample = (left, left + size::SAMPLE);
    match entry.sample {
        Some(look) => {
            area.draw(&PathElement::new(
                [(sample.0, middle), (sample.1, middle)],
                look.line(),
            ))
            .map_err(failed)?;
            draw_marker(area, ((sample.0 + sample.1) / 2, middle), look)?;
        }
        None => {
            area.draw(&Rectangle::new(
                [(sample.0, middle - 7), (sample.1, middle + 7)],
                BLACK.mix(0.12).filled(),
            ))
            .map_err(failed)?;
            area.draw(&DashedPathElement::new(
                [(sample.0, middle), (sample.1, middle)],
                6,
                4,
                RGBColor(80, 80, 80).stroke_width(1),
            ))
            .map_err(failed)?;
        }
    }
    let style = font(size::LEGEND_FONT).pos(Pos::new(HPos::Left, VPos::Center));
    for (i, line) in entry.lines.iter().enumerate() {
        let y = middle + i as i32 * size::LINE as i32;
        area.draw(&Text::new(
            line.as_str(),
            (left + size::TEXT_INDENT, y),
            style.clone(),
        ))
        .map_err(failed)?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Numbers
// ---------------------------------------------------------------------------------------

/// A range covering the finite `values` with `fraction` of their span as room on each side,
/// so no marker sits on an axis; when all values are equal, `lone(value)` either side, so
/// the point is visible in the middle; `0..1` when there are none.
fn padded(
    values: impl Iterator<Item = f64>,
    fraction: f64,
    lone: impl Fn(f64) -> f64,
) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    // A tiny span gets a tenth of a lone value's room, so the axis is never absurdly narrow.
    let pad = if hi > lo {
        (fraction * (hi - lo)).max(0.1 * lone(lo))
    } else {
        lone(lo)
    };
    let (lo, hi) = (lo - pad, hi + pad);
    // Values near f64's limits would overflow the padding; plotters needs a finite range.
    if lo.is_finite() && hi.is_finite() && hi > lo {
        (lo, hi)
    } else {
        (0.0, 1.0)
    }
}

/// A number with at most three decimals and no trailing zeros (120, 96.4, 0.25).
fn short(value: f64) -> String {
    let text = format!("{value:.3}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}
