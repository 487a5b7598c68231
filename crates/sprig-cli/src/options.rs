//! The options of `sprig prune`: the same fields from a TOML file and from flags, flags
//! winning, resolved into one typed [`Experiment`] with errors a user can act on.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};
use sprig_backend::Backend;
use sprig_experiments::{Dataset, Experiment, Method, Pruning, suite};
use sprig_mask::{LayerRates, Scope};
use sprig_models::Architecture;

/// Every option of a run. Each may come from `--config FILE` (the same names, in
/// kebab-case) or from a flag; a flag overrides the file. The resolved set (all but `out`)
/// is saved in the run folder as `sprig.toml`, which `--config` reads back.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PruneOptions {
    /// Architecture from the zoo (`lenet-300-100`, `conv-2`, `textcnn`, `ds-cnn`, …).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Data set (`mnist`, `cifar10`, `trec`, `mr`, `fsdd`).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dataset: Option<String>,
    /// Wall-clock budget, end to end: `90s`, `5m`, `1h30m`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<String>,
    /// Fraction of the prunable weights to remove, in [0, 1) (e.g. 0.9).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sparsity: Option<f64>,
    /// `budgeted` (default), `one-shot` (one prune to the target) or `dense` (no pruning).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `flex` (default), `ndarray` or `tch-cpu`.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// Drives every random choice (θ0, validation split, batch order). Default 0.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Magnitude ranking: `global` (one pool) or `layerwise` (each tensor alone).
    /// Default: layerwise for text models, global otherwise.
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The ticket folder (default: `sprig-runs/` + a name made of the options).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub out: Option<PathBuf>,
    /// Where the data sets are (default: $SPRIG_DATA, then ./data).
    #[arg(long)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
}

/// What the options resolve to.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The run, in the evaluation's typed form (its canonical JSON names the run).
    pub experiment: Experiment,
    /// The ticket folder.
    pub out: PathBuf,
    /// The data folder.
    pub data_dir: PathBuf,
    /// Every option filled in but the folder: what is saved as `sprig.toml`.
    pub effective: PruneOptions,
}

impl PruneOptions {
    /// Reads a config file.
    ///
    /// # Errors
    /// A missing file, bad TOML, or a key that is not an option (named, with the file).
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("reading the config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| {
            format!(
                "{} is not a valid sprig config (TOML with the keys model, dataset, budget, \
                 sparsity, method, backend, seed, scope, out, data-dir)",
                path.display()
            )
        })
    }

    /// `self` where set, else `file`.
    #[must_use]
    pub fn over(self, file: Self) -> Self {
        Self {
            model: self.model.or(file.model),
            dataset: self.dataset.or(file.dataset),
            budget: self.budget.or(file.budget),
            sparsity: self.sparsity.or(file.sparsity),
            method: self.method.or(file.method),
            backend: self.backend.or(file.backend),
            seed: self.seed.or(file.seed),
            scope: self.scope.or(file.scope),
            out: self.out.or(file.out),
            data_dir: self.data_dir.or(file.data_dir),
        }
    }

    /// Checks every option and builds the experiment.
    ///
    /// # Errors
    /// A missing or unknown name (the known ones are listed), a budget that is not a
    /// duration, a sparsity outside [0, 1), a model that does not take the data set's input.
    pub fn resolve(&self) -> Result<Resolved> {
        let required = |value: &Option<String>, key: &str, known: &str| {
            value.clone().with_context(|| {
                format!(
                    "no {key} given: pass --{key} or set `{key}` in the config file \
                     (known: {known})"
                )
            })
        };
        let models = Architecture::ALL.map(|a| a.name()).join(", ");
        let datasets = Dataset::ALL.map(|d| d.name()).join(", ");
        let model: Architecture = required(&self.model, "model", &models)?.parse()?;
        let dataset: Dataset = required(&self.dataset, "dataset", &datasets)?
            .parse()
            .map_err(anyhow::Error::msg)?;
        let budget_text = required(&self.budget, "budget", "a duration such as 90s, 5m, 1h30m")?;
        let budget = parse_budget(&budget_text)?;
        let method = parse_method(self.method.as_deref().unwrap_or("budgeted"))?;
        let sparsity = match (self.sparsity, method) {
            (s, Method::Dense) if s.is_none_or(|s| s == 0.0) => 0.0,
            (Some(s), Method::Dense) => bail!(
                "method dense trains without pruning, so a target sparsity ({s}) means nothing: \
                 drop --sparsity, or choose --method budgeted"
            ),
            (Some(s), _) => s,
            (None, _) => bail!(
                "no target sparsity given: pass --sparsity (the fraction of prunable weights \
                 to remove, e.g. 0.9) or set `sparsity` in the config file"
            ),
        };
        if !(sparsity.is_finite() && (0.0..1.0).contains(&sparsity)) {
            bail!(
                "target sparsity {sparsity} is outside [0, 1): it is the fraction of the \
                 prunable weights removed, e.g. 0.9 keeps one weight in ten"
            );
        }
        if sparsity == 0.0 && method != Method::Dense {
            bail!("a target sparsity of 0 prunes nothing: give one above 0, or use --method dense");
        }
        let backend_name = self.backend.clone().unwrap_or_else(|| "flex".into());
        let backend: Backend = backend_name.parse()?;
        let seed = self.seed.unwrap_or(0);
        let mut experiment = suite::single(
            dataset,
            model,
            method,
            seed,
            &backend.to_string(),
            budget.as_secs_f64(),
            sparsity,
        )?;
        if let Some(scope) = &self.scope {
            let scope = parse_scope(scope)?;
            let pruning = Pruning {
                scope,
                rates: LayerRates::uniform(),
            };
            // The default is written as no setting, so one run has one canonical form.
            experiment.pruning =
                (method != Method::Dense && pruning != Pruning::default()).then_some(pruning);
        }
        let scope = experiment.pruning.clone().unwrap_or_default().scope;
        let out = self
            .out
            .clone()
            .unwrap_or_else(|| Path::new("sprig-runs").join(experiment.run_dir()));
        let data_dir = sprig_data::data_dir(self.data_dir.clone());
        let prunes = method != Method::Dense;
        // The folder is not saved: `--config` on a saved file must not point at its ticket.
        let effective = PruneOptions {
            model: Some(model.name().into()),
            dataset: Some(dataset.name().into()),
            budget: Some(budget_text),
            sparsity: prunes.then_some(experiment.target_sparsity),
            method: Some(method_name(method).into()),
            backend: Some(experiment.backend.clone()),
            seed: Some(seed),
            scope: prunes.then(|| scope_name(scope).into()),
            out: None,
            data_dir: Some(data_dir.clone()),
        };
        Ok(Resolved {
            experiment,
            out,
            data_dir,
            effective,
        })
    }
}

/// `90s`, `5m`, `1h30m`, `1h 30m` (humantime's grammar), at least one second.
fn parse_budget(text: &str) -> Result<Duration> {
    let budget = humantime::parse_duration(text.trim()).map_err(|e| {
        anyhow::anyhow!("budget `{text}` is not a duration ({e}): write e.g. 90s, 5m or 1h30m")
    })?;
    if budget < Duration::from_secs(1) {
        bail!("budget `{text}` is under a second: no training fits; give at least a few seconds");
    }
    Ok(budget)
}

const METHODS: [(&str, Method); 3] = [
    ("budgeted", Method::Budgeted),
    ("one-shot", Method::OneShot),
    ("dense", Method::Dense),
];

fn parse_method(text: &str) -> Result<Method> {
    let wanted = text.trim().to_ascii_lowercase().replace('_', "-");
    METHODS
        .iter()
        .find(|(name, _)| *name == wanted)
        .map(|(_, m)| *m)
        .with_context(|| {
            format!(
                "unknown method `{text}`: known methods are {}",
                METHODS.map(|(n, _)| n).join(", ")
            )
        })
}

fn method_name(method: Method) -> &'static str {
    METHODS
        .iter()
        .find(|(_, m)| *m == method)
        .map_or("budgeted", |(n, _)| n)
}

fn parse_scope(text: &str) -> Result<Scope> {
    match text.trim().to_ascii_lowercase().as_str() {
        "global" => Ok(Scope::Global),
        "layerwise" => Ok(Scope::Layerwise),
        _ => bail!("unknown pruning scope `{text}`: known scopes are global, layerwise"),
    }
}

fn scope_name(scope: Scope) -> &'static str {
    match scope {
        Scope::Global => "global",
        Scope::Layerwise => "layerwise",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(model: &str, dataset: &str, budget: &str, sparsity: f64) -> PruneOptions {
        PruneOptions {
            model: Some(model.into()),
            dataset: Some(dataset.into()),
            budget: Some(budget.into()),
            sparsity: Some(sparsity),
            ..PruneOptions::default()
        }
    }

    #[test]
    fn budgets_read_like_people_write_them() {
        for (text, secs) in [
            ("90s", 90),
            ("5m", 300),
            ("1h30m", 5_400),
            ("1h 30m", 5_400),
        ] {
            assert_eq!(
                parse_budget(text).unwrap(),
                Duration::from_secs(secs),
                "{text}"
            );
        }
        for bad in ["ten minutes", "90", "-5s", "0s", ""] {
            let message = parse_budget(bad).unwrap_err().to_string();
            assert!(message.contains(&format!("`{bad}`")), "{message}");
        }
    }

    #[test]
    fn flags_override_the_file_field_by_field() {
        let file = PruneOptions {
            seed: Some(3),
            ..options("conv-2", "cifar10", "10m", 0.5)
        };
        let flags = PruneOptions {
            sparsity: Some(0.95),
            ..PruneOptions::default()
        };
        let merged = flags.over(file);
        assert_eq!(merged.sparsity, Some(0.95));
        assert_eq!(merged.seed, Some(3));
        assert_eq!(merged.model.as_deref(), Some("conv-2"));
    }

    #[test]
    fn the_effective_options_round_trip_through_toml_to_the_same_run() {
        let resolved = options("lenet-300-100", "mnist", "90s", 0.9)
            .resolve()
            .unwrap();
        let text = toml::to_string(&resolved.effective).unwrap();
        let again: PruneOptions = toml::from_str(&text).unwrap();
        let again = again.resolve().unwrap();
        assert_eq!(again.experiment, resolved.experiment);
        assert_eq!(
            again.out, resolved.out,
            "the default folder follows from the run"
        );
        assert_eq!(resolved.effective.out, None, "the folder is not saved");
        assert_eq!(resolved.experiment.budget_s, Some(90.0));
        assert!(resolved.out.starts_with("sprig-runs"));
    }

    #[test]
    fn text_models_rank_layerwise_unless_told_otherwise() {
        let text = options("textcnn", "trec", "3m", 0.8).resolve().unwrap();
        assert_eq!(text.experiment.pruning.unwrap().scope, Scope::Layerwise);
        let global = PruneOptions {
            scope: Some("global".into()),
            ..options("textcnn", "trec", "3m", 0.8)
        }
        .resolve()
        .unwrap();
        assert_eq!(global.experiment.pruning, None, "global is the default");
        let vision = options("lenet-300-100", "mnist", "90s", 0.9)
            .resolve()
            .unwrap();
        assert_eq!(vision.effective.scope.as_deref(), Some("global"));
    }

    /// Each bad option, and a phrase its message must contain.
    #[test]
    fn bad_options_say_what_is_wrong_and_what_would_do() {
        let cases: Vec<(PruneOptions, &[&str])> = vec![
            (
                options("lenet5", "mnist", "90s", 0.9),
                &["unknown model `lenet5`", "lenet-300-100"],
            ),
            (
                options("lenet-300-100", "imagenet", "90s", 0.9),
                &["unknown data set `imagenet`", "mnist, cifar10"],
            ),
            (
                options("lenet-300-100", "mnist", "soon", 0.9),
                &["budget `soon`", "1h30m"],
            ),
            (
                options("lenet-300-100", "mnist", "90s", 1.0),
                &["outside [0, 1)"],
            ),
            (
                options("lenet-300-100", "mnist", "90s", -0.1),
                &["outside [0, 1)"],
            ),
            (
                options("lenet-300-100", "mnist", "90s", f64::NAN),
                &["outside [0, 1)"],
            ),
            (
                options("textcnn", "mnist", "90s", 0.9),
                &["textcnn", "models for mnist", "lenet-300-100"],
            ),
            (
                PruneOptions {
                    backend: Some("cuda-please".into()),
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["cuda-please", "flex"],
            ),
            (
                PruneOptions {
                    method: Some("magic".into()),
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["unknown method `magic`", "one-shot"],
            ),
            (
                PruneOptions {
                    scope: Some("local".into()),
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["unknown pruning scope `local`", "layerwise"],
            ),
            (PruneOptions::default(), &["no model given", "--model"]),
            (
                options("lenet-300-100", "mnist", "90s", 0.0),
                &["prunes nothing", "dense"],
            ),
            (
                PruneOptions {
                    method: Some("dense".into()),
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["trains without pruning", "drop --sparsity"],
            ),
            (
                PruneOptions {
                    sparsity: None,
                    ..options("lenet-300-100", "mnist", "90s", 0.9)
                },
                &["no target sparsity", "--sparsity"],
            ),
        ];
        for (options, phrases) in cases {
            let message = format!("{:#}", options.resolve().unwrap_err());
            for phrase in phrases {
                assert!(message.contains(phrase), "`{phrase}` not in: {message}");
            }
        }
    }

    #[test]
    fn unknown_config_keys_are_refused_by_name() {
        let error = toml::from_str::<PruneOptions>("model = \"conv-2\"\nsparsty = 0.9\n")
            .unwrap_err()
            .to_string();
        assert!(error.contains("sparsty"), "{error}");
    }
}
