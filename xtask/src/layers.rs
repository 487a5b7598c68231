//! The layer rule of ARCHITECTURE.md, checked against `cargo metadata`: a crate depends
//! only on crates of a lower layer (dev-dependencies aside), and every crate has a layer;
//! and the `sprig` command links no benchmark harness.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result, bail};

/// Where a crate sits: a numbered layer, or a tool (may use any crate; none uses it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    Number(u32),
    Tool,
}

/// The `## Layers` table of ARCHITECTURE.md: `| 0 | sprig-mask, sprig-budget |` rows.
fn parse_layers(architecture: &str) -> Result<BTreeMap<String, Layer>> {
    let section = architecture
        .split("\n## ")
        .find(|s| s.starts_with("Layers"))
        .context("ARCHITECTURE.md has no `## Layers` section")?;
    let mut layers = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.trim_matches('|').split('|').map(str::trim).collect();
        let [layer, crates] = cells[..] else {
            bail!("ARCHITECTURE.md: a layer row has two cells, not `{line}`");
        };
        let layer = match layer {
            "layer" => continue,
            "tools" => Layer::Tool,
            n if n.chars().all(|c| c == '-') => continue,
            n => Layer::Number(
                n.parse()
                    .with_context(|| format!("ARCHITECTURE.md: `{n}` is not a layer number"))?,
            ),
        };
        for name in crates.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            if layers.insert(name.to_string(), layer).is_some() {
                bail!("ARCHITECTURE.md: `{name}` is in two layers");
            }
        }
    }
    Ok(layers)
}

/// Every way `deps` (crate → its normal dependencies within the workspace) breaks `layers`.
fn violations(
    layers: &BTreeMap<String, Layer>,
    deps: &BTreeMap<String, Vec<String>>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (krate, uses) in deps {
        let Some(&layer) = layers.get(krate) else {
            found.push(format!("{krate} has no layer in ARCHITECTURE.md"));
            continue;
        };
        for dep in uses {
            match (layer, layers.get(dep)) {
                (_, None) => {} // reported as a crate of its own
                (_, Some(Layer::Tool)) => found.push(format!("{krate} depends on the tool {dep}")),
                (Layer::Tool, _) => {}
                (Layer::Number(a), Some(Layer::Number(b))) if b >= &a => found.push(format!(
                    "{krate} (layer {a}) depends on {dep} (layer {b}): only lower layers may be used"
                )),
                _ => {}
            }
        }
    }
    found
}

/// The crate of the `sprig` command, and the benchmark harness it must not link.
const COMMAND: &str = "sprig-cli";
const HARNESS: &str = "criterion";

/// Every crate of the workspace `COMMAND` builds on (itself included) that depends on
/// `HARNESS`: criterion belongs to the evaluation harness and the benchmarks.
fn harness_in_command(deps: &BTreeMap<String, Vec<String>>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![COMMAND];
    while let Some(krate) = todo.pop() {
        if seen.insert(krate) {
            todo.extend(deps.get(krate).into_iter().flatten().map(String::as_str));
        }
    }
    seen.into_iter()
        .filter(|k| {
            deps.get(*k)
                .is_some_and(|uses| uses.iter().any(|d| d == HARNESS))
        })
        .map(|k| format!("{COMMAND} builds on {k}, which depends on {HARNESS}"))
        .collect()
}

/// The workspace's crates and their normal dependencies (on each other and outside).
fn workspace_deps(root: &Path) -> Result<BTreeMap<String, Vec<String>>> {
    let out = Command::new(env!("CARGO"))
        .current_dir(root)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .output()
        .context("could not run cargo metadata")?;
    if !out.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let meta: serde_json::Value =
        serde_json::from_slice(&out.stdout).context("cargo metadata printed no JSON")?;
    let packages = meta["packages"]
        .as_array()
        .context("cargo metadata: no packages")?;
    let mut deps = BTreeMap::new();
    for p in packages {
        let name = p["name"].as_str().context("a package without a name")?;
        let uses = p["dependencies"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str())
            .map(str::to_string)
            .collect();
        deps.insert(name.to_string(), uses);
    }
    Ok(deps)
}

/// Fails naming every dependency that breaks the layer table of ARCHITECTURE.md.
pub fn check(root: &Path) -> Result<()> {
    let path = root.join("ARCHITECTURE.md");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let deps = workspace_deps(root)?;
    let mut found = violations(&parse_layers(&text)?, &deps);
    found.extend(harness_in_command(&deps));
    if !found.is_empty() {
        bail!("the layer rule is broken:\n  {}", found.join("\n  "));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TABLE: &str = "# A\n\n## Layers\n\n| layer | crate |\n|---|---|\n\
                         | 0 | low, other |\n| 1 | mid |\n| tools | tool |\n\n## Next\n| 9 | x |\n";

    fn check(deps: &[(&str, &[&str])], expected: &[&str]) {
        let deps = deps
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect();
        let found = violations(&parse_layers(TABLE).unwrap(), &deps);
        assert_eq!(found, expected, "{deps:?}");
    }

    #[test]
    fn the_layer_rule() {
        check(&[("mid", &["low"]), ("tool", &["mid", "low"])], &[]);
        check(
            &[("low", &["other"])],
            &["low (layer 0) depends on other (layer 0): only lower layers may be used"],
        );
        check(
            &[("low", &["mid"])],
            &["low (layer 0) depends on mid (layer 1): only lower layers may be used"],
        );
        check(&[("mid", &["tool"])], &["mid depends on the tool tool"]);
        check(&[("new", &[])], &["new has no layer in ARCHITECTURE.md"]);
        // Crates outside the workspace have no layer and need none.
        check(&[("mid", &["low", "serde"])], &[]);
    }

    #[test]
    fn the_command_links_no_benchmark_harness() {
        let deps = |pairs: &[(&str, &[&str])]| -> BTreeMap<String, Vec<String>> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
                .collect()
        };
        let clean = deps(&[
            ("sprig-cli", &["run"]),
            ("run", &["serde"]),
            ("bench", &["criterion"]),
        ]);
        assert!(harness_in_command(&clean).is_empty());
        let linked = deps(&[
            ("sprig-cli", &["run"]),
            ("run", &["harness"]),
            ("harness", &["criterion"]),
        ]);
        assert_eq!(
            harness_in_command(&linked),
            ["sprig-cli builds on harness, which depends on criterion"]
        );
    }

    #[test]
    fn the_table_is_read_from_its_section_only() {
        let layers = parse_layers(TABLE).unwrap();
        assert_eq!(layers.get("other"), Some(&Layer::Number(0)));
        assert_eq!(layers.get("tool"), Some(&Layer::Tool));
        assert_eq!(layers.get("x"), None);
        assert!(parse_layers("# no table\n").is_err());
        assert!(parse_layers("## Layers\n| one | a |\n").is_err());
        assert!(parse_layers("## Layers\n| 0 | a |\n| 1 | a |\n").is_err());
    }

    #[test]
    fn the_repository_keeps_its_layers() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        if let Err(e) = super::check(root) {
            panic!("{e:#}");
        }
    }
}
