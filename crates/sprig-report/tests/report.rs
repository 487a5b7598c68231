//! The result store, summaries, Markdown and plots on hand-made rows.

use sprig_report::{
    Outcome, Provenance, ReportError, Rows, RunResult, markdown_report, plot_accuracy_vs_budget,
    plot_accuracy_vs_sparsity, read_json, summarise, verdict, write_json,
};

fn row(method: &str, seed: u64, accuracy: f64, budget: Option<f64>) -> RunResult {
    RunResult {
        domain: "vision".into(),
        dataset: "mnist".into(),
        model: "lenet-300-100".into(),
        method: method.into(),
        seed,
        backend: "flex".into(),
        budget_s: budget,
        time_used_s: budget.unwrap_or(100.0) * 0.99,
        target_sparsity: if method == "dense" { 0.0 } else { 0.9 },
        sparsity: if method == "dense" { 0.0 } else { 0.9 },
        test_accuracy: accuracy,
        rounds: 3,
        lr_schedule: "linear_decay".into(),
        iterations: 1000,
        validation_accuracy: Some(accuracy),
        stop_reason: Some(sprig_report::StopReason::Completed),
        run_dir: format!("mnist/{method}-{seed}"),
        variant: None,
        default: method == "budgeted",
        ..RunResult::default()
    }
}

/// The path `name` in a fresh folder, which is removed when the first value drops.
fn temp(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    (dir, path)
}

fn table() -> Vec<RunResult> {
    vec![
        row("budgeted", 0, 0.97, Some(120.0)),
        row("budgeted", 1, 0.98, Some(120.0)),
        row("budgeted", 2, 0.99, Some(120.0)),
        row("budgeted", 0, 0.95, Some(30.0)),
        row("random_prune", 0, 0.90, Some(120.0)),
        row("dense", 0, 0.98, Some(120.0)),
        row("imp", 0, 0.981, None),
    ]
}

#[test]
fn json_round_trips_and_old_files_load() {
    let (_dir, path) = temp("runs.json");
    let mut runs = table();
    runs[0].variant = Some("split=speaker".into());
    runs[1].validation_accuracy = None;
    write_json(&path, &runs).unwrap();
    assert_eq!(read_json(&path).unwrap(), runs);

    // A file with only the required fields still loads (the later ones default).
    let minimal = r#"[{"domain":"vision","dataset":"mnist","model":"lenet-300-100",
        "method":"dense","seed":0,"backend":"flex","budget_s":null,"time_used_s":1.5,
        "target_sparsity":0.0,"sparsity":0.0,"test_accuracy":0.98,"rounds":0}]"#;
    let (_dir, path) = temp("minimal.json");
    std::fs::write(&path, minimal).unwrap();
    let read = read_json(&path).unwrap();
    assert_eq!(read[0].lr_schedule, "");
    assert_eq!(read[0].variant, None);
}

#[test]
fn bad_files_and_rows_are_named() {
    let (_dir, path) = temp("corrupt.json");
    std::fs::write(&path, "[{\"domain\": ").unwrap();
    let error = read_json(&path).unwrap_err();
    assert!(matches!(error, ReportError::Json { .. }));
    assert!(error.to_string().contains("corrupt.json"), "{error}");

    let mut bad = row("budgeted", 0, 98.0, Some(60.0));
    bad.test_accuracy = 98.0;
    let error = write_json(&temp("bad.json").1, &[bad]).unwrap_err();
    assert!(error.to_string().contains("test_accuracy 98"), "{error}");
    assert!(
        read_json(&temp("missing.json").1)
            .unwrap_err()
            .to_string()
            .contains("missing.json")
    );
}

#[test]
fn summaries_are_exact_and_ordered() {
    let summaries = summarise(&table());
    let order: Vec<(&str, Option<f64>)> = summaries
        .iter()
        .map(|s| (s.config.method.as_str(), s.config.budget_s))
        .collect();
    assert_eq!(
        order,
        [
            ("imp", None),
            ("budgeted", Some(30.0)),
            ("dense", Some(120.0)),
            ("budgeted", Some(120.0)),
            ("random_prune", Some(120.0)),
        ]
    );
    let budgeted = &summaries[3];
    assert_eq!(budgeted.seeds, [0, 1, 2]);
    assert!((budgeted.test_accuracy.mean - 0.98).abs() < 1e-12);
    assert!((budgeted.test_accuracy.std - 0.01).abs() < 1e-12);
    assert!((budgeted.time_ratio.unwrap().max - 0.99).abs() < 1e-12);
    assert_eq!(summaries[1].test_accuracy.std, 0.0, "one seed");
    assert!(summaries[0].time_ratio.is_none(), "unbudgeted");

    let mut constant = row("budgeted", 0, 0.96, Some(120.0));
    constant.lr_schedule = "constant".into();
    let mut runs = table();
    runs.push(constant);
    assert_eq!(summarise(&runs).len(), 6, "schedules are separate groups");
}

#[test]
fn the_page_has_its_provenance_and_one_table_per_configuration() {
    let provenance = Provenance {
        command: "cargo xtask eval vision".into(),
        commit: "abc1234".into(),
        backend: "flex".into(),
        machine: "2 cores".into(),
        generated_at: "2026-11-24T00:00:00Z".into(),
        notes: vec!["a | note".into()],
    };
    // Seeds on hosts of different speeds train for different numbers of steps; a result
    // written before iterations were recorded has none.
    let mut runs = table();
    runs[2].iterations = 1400;
    runs[6].iterations = 0;
    let page = markdown_report(
        "Vision",
        &provenance,
        &runs,
        &[("Accuracy".into(), "a.svg".into())],
    );
    expect_test::expect![[r#"
        # Vision

        Generated by `cargo xtask eval vision` at commit `abc1234` on 2 cores, backend `flex`, at 2026-11-24T00:00:00Z. Do not edit by hand: re-run the command.

        Rows by the commit they were measured at (finished runs are reused, so a table is completed across sittings): 7 at a commit not recorded.

        - a | note

        ## mnist / lenet-300-100

        | method | backend | LR schedule | budget (s) | target sparsity | sparsity | test accuracy % | seeds | time used (s) | time used / budget | rounds | iterations | against the best same-budget baseline |
        |---|---|---|---|---|---|---|---|---|---|---|---|---|
        | imp | flex | linear_decay | — | 0.9 | 0.9000 | 98.10 | 1 | 99.0 | — | 3.0 | — | — |
        | budgeted **default** | flex | linear_decay | 30 | 0.9 | 0.9000 | 95.00 | 1 | 29.7 | 0.990 (max 0.990) | 3.0 | 1000 | — |
        | dense | flex | linear_decay | 120 | 0 | 0.0000 | 98.00 | 1 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000 | — |
        | budgeted **default** | flex | linear_decay | 120 | 0.9 | 0.9000 | 98.00 ± 1.00 | 3 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000–1400 | one seed: no verdict against random_prune (+8.00 points) |
        | random_prune | flex | linear_decay | 120 | 0.9 | 0.9000 | 90.00 | 1 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000 | — |

        ![Accuracy](a.svg)

        *Accuracy*

    "#]].assert_eq(&page);

    // A text section gets an embedding-sparsity column; the vision one does not.
    let mut runs = table();
    runs.extend(table().into_iter().map(|mut r| {
        r.dataset = "trec".into();
        r.model = "textcnn".into();
        r.embedding_sparsity = (!matches!(r.method.as_str(), "imp" | "dense")).then_some(0.95);
        r
    }));
    let page = markdown_report("Text", &provenance, &runs, &[]);
    let text = &page[page.find("## trec / textcnn").unwrap()..];
    expect_test::expect![[r#"
        ## trec / textcnn

        | method | backend | LR schedule | budget (s) | target sparsity | sparsity | embedding sparsity | test accuracy % | seeds | time used (s) | time used / budget | rounds | iterations | against the best same-budget baseline |
        |---|---|---|---|---|---|---|---|---|---|---|---|---|---|
        | imp | flex | linear_decay | — | 0.9 | 0.9000 | — | 98.10 | 1 | 99.0 | — | 3.0 | 1000 | — |
        | budgeted **default** | flex | linear_decay | 30 | 0.9 | 0.9000 | 0.9500 | 95.00 | 1 | 29.7 | 0.990 (max 0.990) | 3.0 | 1000 | — |
        | dense | flex | linear_decay | 120 | 0 | 0.0000 | — | 98.00 | 1 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000 | — |
        | budgeted **default** | flex | linear_decay | 120 | 0.9 | 0.9000 | 0.9500 | 98.00 ± 1.00 | 3 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000 | one seed: no verdict against random_prune (+8.00 points) |
        | random_prune | flex | linear_decay | 120 | 0.9 | 0.9000 | 0.9500 | 90.00 | 1 | 118.8 | 0.990 (max 0.990) | 3.0 | 1000 | — |

    "#]].assert_eq(text);
    let vision = &page[..page.find("## trec / textcnn").unwrap()];
    assert!(!vision.contains("embedding sparsity"));
}

#[test]
fn plots_write_svg_for_any_input() {
    let one = vec![row("budgeted", 0, 0.97, Some(60.0))];
    let mut nan = table();
    nan[0].test_accuracy = f64::NAN;
    // Rows `validate` would refuse, which plotting must survive all the same.
    let mut odd = table();
    odd[0].budget_s = Some(f64::NAN);
    odd[1].budget_s = Some(f64::INFINITY);
    odd[2].target_sparsity = f64::NAN;
    odd[3].sparsity = 1e308;
    odd[4].test_accuracy = f64::INFINITY;
    odd[5].split = Some("speaker:".repeat(40));
    odd[6].variant = Some("x".repeat(300));
    let dense_only = vec![row("dense", 0, 0.98, Some(120.0))];
    for (name, runs) in [
        ("full", table()),
        ("one", one),
        ("empty", vec![]),
        ("nan", nan),
        ("odd", odd),
        ("dense-only", dense_only),
    ] {
        for (kind, rows) in [
            ("sparsity", Rows::Comparison),
            ("budget", Rows::Comparison),
            ("sparsity", Rows::Ablations),
            ("budget", Rows::Ablations),
        ] {
            let (_dir, path) = temp(&format!("{name}-{kind}.svg"));
            match kind {
                "sparsity" => plot_accuracy_vs_sparsity(&path, "Accuracy", &runs, rows).unwrap(),
                _ => plot_accuracy_vs_budget(&path, "Accuracy", &runs, rows).unwrap(),
            }
            let svg = std::fs::read_to_string(&path).unwrap();
            assert!(svg.contains("<svg"), "{name}-{kind}");
            assert!(svg.contains("Accuracy"), "{name}-{kind}: title");
            if name == "full" && rows == Rows::Comparison {
                assert!(svg.contains("budgeted"), "{name}-{kind}: legend");
                assert!(svg.contains("dense (same budget)"), "{name}-{kind}: legend");
                // Unbudgeted IMP is drawn against sparsity (in the budget panels), not
                // against budget.
                let no_budget = svg.contains(", no budget");
                assert_eq!(no_budget, kind == "sparsity", "{name}-{kind}");
            }
            if name == "empty" || name == "dense-only" {
                assert!(svg.contains("no data"), "{name}-{kind}");
            }
        }
    }
}

/// Budgeted accuracies against baselines' (per seed, per method): the verdict, and which
/// baseline it names.
fn check_verdict(budgeted: &[f64], baselines: &[(&str, &[f64])], expect: Option<(Outcome, &str)>) {
    let mut runs: Vec<RunResult> = budgeted
        .iter()
        .enumerate()
        .map(|(seed, &a)| row("budgeted", seed as u64, a, Some(120.0)))
        .collect();
    for (method, accuracies) in baselines {
        for (seed, &a) in accuracies.iter().enumerate() {
            runs.push(row(method, seed as u64, a, Some(120.0)));
        }
    }
    let summaries = summarise(&runs);
    let subject = summaries
        .iter()
        .find(|s| s.config.method == "budgeted")
        .unwrap();
    let got = verdict(subject, &summaries);
    assert_eq!(
        got.as_ref().map(|v| (v.outcome, v.baseline.as_str())),
        expect,
        "{got:?}"
    );
}

#[test]
fn verdicts_compare_with_the_best_baseline_by_the_pooled_std() {
    let tight: &[f64] = &[0.980, 0.981, 0.982];
    // Clearly above the best of two baselines: beats it (and names it).
    check_verdict(
        &[0.985, 0.986, 0.987],
        &[("one_shot", &[0.970, 0.971, 0.972]), ("gmp", tight)],
        Some((Outcome::Beats, "gmp")),
    );
    // A difference smaller than the spread is a tie.
    check_verdict(
        &[0.975, 0.985, 0.995],
        &[("gmp", tight)],
        Some((Outcome::WithinNoise, "gmp")),
    );
    check_verdict(
        &[0.970, 0.971, 0.972],
        &[("truncated_imp", tight)],
        Some((Outcome::LosesTo, "truncated_imp")),
    );
    // One seed has no spread: no verdict.
    check_verdict(
        &[0.99],
        &[("one_shot", tight)],
        Some((Outcome::TooFewSeeds, "one_shot")),
    );
    // Dense is the reference, not an alternative; nothing else: no verdict.
    check_verdict(tight, &[("dense", &[0.9, 0.9])], None);
}

/// A row of the realistic table: `dataset`/`model` (split `split`), `method` at `budget`
/// and `target` sparsity, accuracy in %.
#[allow(clippy::too_many_arguments)]
fn realistic(
    dataset: &str,
    model: &str,
    split: Option<&str>,
    method: &str,
    seed: u64,
    budget: Option<f64>,
    target: f64,
    accuracy: f64,
) -> RunResult {
    let mut run = row(method, seed, accuracy / 100.0, budget);
    run.dataset = dataset.into();
    run.model = model.into();
    run.split = split.map(Into::into);
    run.target_sparsity = target;
    run.sparsity = if method == "dense" {
        0.0
    } else {
        target + 0.0004
    };
    run.run_dir = format!("{dataset}/{method}-{seed}");
    run
}

/// A table like the evaluation's: MNIST / LeNet at two budgets and three targets with every
/// method, an unbudgeted IMP reference, CIFAR-10 / Conv-2 (accuracies 40 points lower) and
/// FSDD / DS-CNN on two splits.
fn realistic_table() -> Vec<RunResult> {
    // A small, seed-dependent wobble (±0.15 points), the same on every run of the test.
    let noise = |seed: u64, salt: u64| ((seed * 37 + salt * 11) % 7) as f64 * 0.05 - 0.15;
    let mut runs = Vec::new();
    let methods = [
        ("budgeted", 0.0, 5),
        ("one_shot", -0.12, 3),
        ("gmp", -0.05, 3),
        ("truncated_imp", -0.25, 3),
        ("random_prune", -0.6, 3),
        ("random_reinit", -0.35, 3),
    ];
    for (budget, slower) in [(30.0, -0.35), (120.0, 0.0)] {
        for (t, target) in [0.9, 0.964, 0.982].into_iter().enumerate() {
            let base = 98.35 - 0.3 * t as f64 + slower;
            for (m, (method, offset, seeds)) in methods.iter().enumerate() {
                let harder = if method.starts_with("random") {
                    0.4 * t as f64
                } else {
                    0.0
                };
                for seed in 0..*seeds {
                    let accuracy = base + offset - harder + noise(seed, (m + t) as u64);
                    let mnist = ("mnist", "lenet-300-100", None);
                    runs.push(realistic(
                        mnist.0,
                        mnist.1,
                        mnist.2,
                        method,
                        seed,
                        Some(budget),
                        target,
                        accuracy,
                    ));
                }
            }
        }
        for seed in 0..3 {
            let accuracy = 98.4 + slower + 0.2 * (seed as f64 - 1.0);
            runs.push(realistic(
                "mnist",
                "lenet-300-100",
                None,
                "dense",
                seed,
                Some(budget),
                0.0,
                accuracy,
            ));
        }
    }
    let mut ablation = realistic(
        "mnist",
        "lenet-300-100",
        None,
        "budgeted",
        0,
        Some(120.0),
        0.9,
        98.1,
    );
    ablation.variant = Some("equal trainings".into());
    ablation.default = false;
    runs.push(ablation);
    for (target, accuracy) in [(0.9, 98.36), (0.964, 98.1), (0.982, 97.8)] {
        runs.push(realistic(
            "mnist",
            "lenet-300-100",
            None,
            "imp",
            0,
            None,
            target,
            accuracy,
        ));
    }
    for (method, accuracy) in [
        ("budgeted", 44.0),
        ("one_shot", 42.5),
        ("random_prune", 38.3),
    ] {
        for seed in 0..3 {
            runs.push(realistic(
                "cifar10",
                "conv-2",
                None,
                method,
                seed,
                Some(240.0),
                0.9,
                accuracy + 3.0 * noise(seed, 1),
            ));
        }
    }
    for seed in 0..3 {
        runs.push(realistic(
            "cifar10",
            "conv-2",
            None,
            "dense",
            seed,
            Some(240.0),
            0.0,
            47.2 + noise(seed, 2),
        ));
    }
    for (split, level, spread) in [("official", 97.0, 1.0), ("speaker:theo", 74.0, 8.0)] {
        for (budget, gain) in [(90.0, -5.0), (180.0, 0.0), (300.0, 1.5)] {
            for seed in 0..3 {
                let wobble = spread * noise(seed, 3);
                let fsdd = ("fsdd", "ds-cnn", Some(split));
                runs.push(realistic(
                    fsdd.0,
                    fsdd.1,
                    fsdd.2,
                    "budgeted",
                    seed,
                    Some(budget),
                    0.8,
                    (level + gain + wobble).min(100.0),
                ));
                if budget == 180.0 {
                    runs.push(realistic(
                        fsdd.0,
                        fsdd.1,
                        fsdd.2,
                        "one_shot",
                        seed,
                        Some(budget),
                        0.8,
                        (level - 1.5 + wobble).min(100.0),
                    ));
                    runs.push(realistic(
                        fsdd.0,
                        fsdd.1,
                        fsdd.2,
                        "dense",
                        seed,
                        Some(budget),
                        0.0,
                        (level + 2.0 + wobble).min(100.0),
                    ));
                }
            }
        }
    }
    runs
}

/// A `<text>` element of an SVG: where it is, how it is anchored, what it says.
#[derive(Debug)]
struct SvgText {
    x: f64,
    y: f64,
    anchor: String,
    text: String,
}

/// The `<text>` elements of an SVG written by plotters.
fn svg_texts(svg: &str) -> Vec<SvgText> {
    svg.split("<text ")
        .skip(1)
        .filter_map(|element| {
            let (attributes, rest) = element.split_once('>')?;
            let attributes = format!(" {attributes}");
            let attribute = |name: &str| {
                let start = attributes.find(&format!(" {name}=\""))? + name.len() + 3;
                attributes[start..].split('"').next().map(str::to_string)
            };
            Some(SvgText {
                x: attribute("x")?.parse().ok()?,
                y: attribute("y")?.parse().ok()?,
                anchor: attribute("text-anchor")?,
                text: rest.split("</text>").next()?.trim().to_string(),
            })
        })
        .collect()
}

/// The y-axis tick labels (right-aligned numbers) of the panel titled `title`: those below
/// the nearest panel title above them whose centre is to their right.
fn y_ticks(texts: &[SvgText], title: &str) -> Vec<f64> {
    let titles: Vec<&SvgText> = texts
        .iter()
        .filter(|t| t.anchor == "middle" && t.text.contains(" / "))
        .collect();
    let panel_of = |tick: &SvgText| {
        titles
            .iter()
            .filter(|t| t.y < tick.y && t.x > tick.x)
            .min_by(|a, b| b.y.total_cmp(&a.y).then(a.x.total_cmp(&b.x)))
            .map(|t| t.text.as_str())
    };
    texts
        .iter()
        .filter(|t| t.anchor == "end" && panel_of(t) == Some(title))
        .filter_map(|t| t.text.parse().ok())
        .collect()
}

/// The legend's lines: the chart's left-aligned texts.
fn legend_of(texts: &[SvgText]) -> Vec<&str> {
    texts
        .iter()
        .filter(|t| t.anchor == "start")
        .map(|t| t.text.as_str())
        .collect()
}

/// Stroke widths of the polylines (series lines, error bars, legend samples) of each colour.
fn polyline_widths(svg: &str) -> Vec<(String, u32)> {
    svg.split("<polyline ")
        .skip(1)
        .filter_map(|element| {
            let attribute = |name: &str| {
                let start = element.find(&format!("{name}=\""))? + name.len() + 2;
                element[start..].split('"').next()
            };
            Some((
                attribute("stroke")?.to_string(),
                attribute("stroke-width")?.parse().ok()?,
            ))
        })
        .collect()
}

#[test]
fn plots_give_each_configuration_a_zoomed_panel_and_highlight_the_default() {
    let runs = realistic_table();
    let (_dir, path) = temp("panels-sparsity.svg");
    plot_accuracy_vs_sparsity(
        &path,
        "Test accuracy against sparsity",
        &runs,
        Rows::Comparison,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let texts = svg_texts(&svg);

    // One panel per data set, model, split and budget; unbudgeted IMP is drawn in MNIST's
    // budget panels, not in one of its own.
    for title in [
        "cifar10 / conv-2 — 240 s",
        "mnist / lenet-300-100 — 30 s",
        "mnist / lenet-300-100 — 120 s",
        "fsdd / ds-cnn (official) — 180 s",
        "fsdd / ds-cnn (speaker:theo) — 90 s",
    ] {
        assert!(texts.iter().any(|t| t.text == title), "panel {title}");
    }
    assert!(!svg.contains("no budget</text>") && !svg.contains("— no budget"));

    // Each panel's y axis is zoomed to its own data: MNIST's ticks stay far above CIFAR's.
    let mnist = y_ticks(&texts, "mnist / lenet-300-100 — 120 s");
    assert!(mnist.len() >= 3, "{mnist:?}");
    assert!(mnist.iter().all(|v| *v > 90.0), "MNIST ticks {mnist:?}");
    let cifar = y_ticks(&texts, "cifar10 / conv-2 — 240 s");
    assert!(cifar.len() >= 3, "{cifar:?}");
    assert!(cifar.iter().all(|v| *v < 60.0), "CIFAR ticks {cifar:?}");

    // The default budgeted series alone is drawn 3 px wide, in red.
    let widths = polyline_widths(&svg);
    assert!(widths.contains(&("#D62728".to_string(), 3)), "{widths:?}");
    assert!(
        widths
            .iter()
            .all(|(colour, width)| *width < 3 || colour == "#D62728"),
        "{widths:?}"
    );

    // The legend (left-aligned text) starts with the default and has no data set names.
    let legend = legend_of(&texts);
    assert_eq!(legend.first(), Some(&"budgeted"), "{legend:?}");
    assert!(legend.iter().all(|l| !l.contains("mnist")), "{legend:?}");
    assert!(legend.iter().any(|l| l.starts_with("dense (same budget)")));
    assert!(legend.contains(&"imp, no budget"), "{legend:?}");
    // Ablations have a chart of their own.
    assert!(
        legend.iter().all(|l| !l.contains("equal trainings")),
        "{legend:?}"
    );

    // Dense bands only where dense ran with the panel's own budget and split: MNIST 30 s
    // and 120 s, CIFAR-10 240 s, FSDD 180 s on both splits; plus the legend's sample.
    assert_eq!(svg.matches("opacity=\"0.12\"").count(), 6);

    // Against budget: one panel per target, unbudgeted runs left out.
    let (_dir, path) = temp("panels-budget.svg");
    plot_accuracy_vs_budget(
        &path,
        "Test accuracy against budget",
        &runs,
        Rows::Comparison,
    )
    .unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let texts = svg_texts(&svg);
    for title in [
        "mnist / lenet-300-100 — target sparsity 90 %",
        "mnist / lenet-300-100 — target sparsity 96.4 %",
        "mnist / lenet-300-100 — target sparsity 98.2 %",
        "fsdd / ds-cnn (speaker:theo) — target sparsity 80 %",
    ] {
        assert!(texts.iter().any(|t| t.text == title), "panel {title}");
    }
    assert!(!svg.contains("no budget"), "IMP has no budget");
    let mnist = y_ticks(&texts, "mnist / lenet-300-100 — target sparsity 90 %");
    assert!(
        mnist.len() >= 3 && mnist.iter().all(|v| *v > 90.0),
        "{mnist:?}"
    );
}

#[test]
fn ablations_have_a_chart_of_their_own_beside_the_default() {
    let runs = realistic_table();
    assert!(Rows::Ablations.present_in(&runs));
    let without: Vec<RunResult> = runs
        .iter()
        .filter(|r| r.default || r.method != "budgeted")
        .cloned()
        .collect();
    assert!(!Rows::Ablations.present_in(&without));

    let (_dir, path) = temp("ablations-sparsity.svg");
    plot_accuracy_vs_sparsity(&path, "Ablations", &runs, Rows::Ablations).unwrap();
    let svg = std::fs::read_to_string(&path).unwrap();
    let texts = svg_texts(&svg);
    let legend = legend_of(&texts);
    // The default first, then its ablation, the dense band; no baseline, no reference.
    assert_eq!(legend.first(), Some(&"budgeted"), "{legend:?}");
    assert!(legend.contains(&"budgeted (equal trainings)"), "{legend:?}");
    assert!(legend.iter().any(|l| l.starts_with("dense (same budget)")));
    for baseline in ["one_shot", "gmp", "imp, no budget", "random_prune"] {
        assert!(!legend.contains(&baseline), "{baseline} in {legend:?}");
    }
}
