//! Which parameters of any Burn module are pruned, found by visiting it: a model needs no
//! Sprig trait to be pruned.
//!
//! Defaults a user would expect: a parameter whose name ends in `weight` and that has two
//! or more dimensions is pruned (the weights of linear, convolution and embedding layers);
//! biases and normalisation parameters (one dimension) are not. Kinds, for
//! [`LayerRates`]: `conv` (three or more dimensions), `embedding` (two, with `embed` in
//! the path), `linear` (two), and `output` for the last linear weight in visiting order
//! (the classifier head, which the Lottery Ticket paper prunes at half the rate).
//! [`PruneRules`] overrides them by path pattern: include, exclude, rate per pattern.

use serde::{Deserialize, Serialize};
use sprig_mask::{LayerRates, MaskSet, PatternKind};

use crate::{PruneError, tensor_shapes};

/// Path patterns overriding the defaults. In a pattern `*` matches any run of characters
/// (dots too): `convs.*.weight`, `head.*`, `*`. A pattern that matches no parameter is an
/// error, so a typo never silently does nothing.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PruneRules {
    /// Parameters pruned although the defaults would not.
    #[serde(default)]
    pub include: Vec<String>,
    /// Parameters never pruned (wins over `include`).
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Multipliers of the pruning rate by pattern (the first match wins; `0` keeps the
    /// tensor whole). A matched tensor's kind becomes `KIND [PATTERN]`.
    #[serde(default)]
    pub rates: Vec<(String, f64)>,
}

/// What [`discover`] finds: dense masks of the prunable tensors (with their kinds) and the
/// rate multipliers the rules set.
#[derive(Debug, Clone, PartialEq)]
pub struct Discovered {
    /// One all-kept mask per prunable tensor, by parameter path.
    pub masks: MaskSet,
    /// [`LayerRates::uniform`] plus the rules' per-pattern multipliers.
    pub rates: LayerRates,
}

/// The prunable tensors of `module` under `rules` (see the module documentation).
///
/// # Errors
/// A pattern that matches no parameter (the parameters are listed), a bad rate, or
/// nothing left to prune.
pub fn discover<M: burn::module::Module>(
    module: &M,
    rules: &PruneRules,
) -> Result<Discovered, PruneError> {
    discover_in(&tensor_shapes(module), rules)
}

/// [`discover`] over parameter paths and shapes, in visiting order.
///
/// # Errors
/// As [`discover`].
pub fn discover_in(
    params: &[(String, Vec<usize>)],
    rules: &PruneRules,
) -> Result<Discovered, PruneError> {
    let patterns = rules
        .include
        .iter()
        .chain(&rules.exclude)
        .chain(rules.rates.iter().map(|(p, _)| p));
    for pattern in patterns {
        if !params.iter().any(|(path, _)| matches(pattern, path)) {
            let known: Vec<&str> = params.iter().map(|(p, _)| p.as_str()).collect();
            return Err(PruneError::Config(format!(
                "pattern `{pattern}` matches no parameter; the parameters are {}",
                known.join(", ")
            )));
        }
    }
    let head = params
        .iter()
        .rposition(|(path, shape)| shape.len() == 2 && !is_embedding(path));
    let mut masks = MaskSet::new();
    let mut rates = LayerRates::uniform();
    for (i, (path, shape)) in params.iter().enumerate() {
        let by_default = shape.len() >= 2 && path.ends_with("weight");
        let included = rules.include.iter().any(|p| matches(p, path));
        let excluded = rules.exclude.iter().any(|p| matches(p, path));
        if excluded || !(by_default || included) {
            continue;
        }
        let mut kind = match shape.len() {
            0 | 1 => LayerRates::VECTOR,
            2 if is_embedding(path) => LayerRates::EMBEDDING,
            2 if Some(i) == head => LayerRates::OUTPUT,
            2 => LayerRates::LINEAR,
            _ => LayerRates::CONV,
        }
        .to_string();
        if let Some((pattern, rate)) = rules.rates.iter().find(|(p, _)| matches(p, path)) {
            kind = PatternKind {
                kind: &kind,
                pattern,
            }
            .to_string();
            rates.set(kind.clone(), *rate)?;
        }
        masks.insert_dense(path, kind, shape)?;
    }
    if masks.is_empty() {
        return Err(PruneError::Config(
            "nothing to prune: no parameter has two or more dimensions and a name ending in \
             `weight`, and no include pattern names one"
                .into(),
        ));
    }
    Ok(Discovered { masks, rates })
}

/// Whether a path belongs to an embedding table (a path part containing `embed`).
fn is_embedding(path: &str) -> bool {
    path.split('.').any(|part| part.contains("embed"))
}

/// Glob matching with `*` (any run of characters, dots included).
fn matches(pattern: &str, path: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let (first, rest) = match parts.split_first() {
        Some(split) => split,
        None => return path.is_empty(),
    };
    let Some(mut remaining) = path.strip_prefix(first) else {
        return false;
    };
    let Some((last, middle)) = rest.split_last() else {
        return remaining.is_empty();
    };
    for part in middle {
        match remaining.find(part) {
            Some(at) => remaining = &remaining[at + part.len()..],
            None => return false,
        }
    }
    remaining.len() >= last.len() && remaining.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small CNN's parameters as Burn names them, in visiting order.
    fn cnn() -> Vec<(String, Vec<usize>)> {
        [
            ("conv1.weight", vec![8, 1, 3, 3]),
            ("conv1.bias", vec![8]),
            ("norm1.gamma", vec![8]),
            ("norm1.beta", vec![8]),
            ("fc1.weight", vec![512, 64]),
            ("fc1.bias", vec![64]),
            ("head.weight", vec![64, 10]),
            ("head.bias", vec![10]),
        ]
        .into_iter()
        .map(|(p, s)| (p.to_owned(), s))
        .collect()
    }

    fn kinds(d: &Discovered) -> Vec<(String, String)> {
        d.masks
            .iter()
            .map(|(n, e)| (n.to_owned(), e.kind().to_owned()))
            .collect()
    }

    #[test]
    fn weights_are_pruned_biases_and_norms_are_not_and_the_head_is_the_output() {
        let d = discover_in(&cnn(), &PruneRules::default()).unwrap();
        assert_eq!(
            kinds(&d),
            [
                ("conv1.weight".into(), "conv".into()),
                ("fc1.weight".into(), "linear".into()),
                ("head.weight".into(), "output".into()),
            ]
        );
        assert_eq!(d.rates, LayerRates::uniform());
    }

    #[test]
    fn patterns_include_exclude_and_set_rates() {
        let rules = PruneRules {
            include: vec!["norm1.gamma".into()],
            exclude: vec!["conv*".into()],
            rates: vec![("head.*".into(), 0.5), ("fc*".into(), 0.0)],
        };
        let d = discover_in(&cnn(), &rules).unwrap();
        assert_eq!(
            kinds(&d),
            [
                ("fc1.weight".into(), "linear [fc*]".into()),
                ("head.weight".into(), "output [head.*]".into()),
                ("norm1.gamma".into(), "vector".into()),
            ]
        );
        assert_eq!(d.rates.multiplier("output [head.*]"), 0.5);
        assert_eq!(d.rates.multiplier("linear [fc*]"), 0.0);
    }

    #[test]
    fn a_pattern_matching_nothing_and_an_empty_result_are_errors() {
        let typo = PruneRules {
            exclude: vec!["haed.*".into()],
            ..PruneRules::default()
        };
        let message = discover_in(&cnn(), &typo).unwrap_err().to_string();
        assert!(
            message.contains("`haed.*` matches no parameter"),
            "{message}"
        );
        assert!(message.contains("head.weight"), "{message}");
        let all = PruneRules {
            exclude: vec!["*".into()],
            ..PruneRules::default()
        };
        let message = discover_in(&cnn(), &all).unwrap_err().to_string();
        assert!(message.contains("nothing to prune"), "{message}");
    }

    #[test]
    fn globs_match_like_a_shell() {
        for (pattern, path, expected) in [
            ("*", "a.b", true),
            ("a.*", "a.b.c", true),
            ("a.*", "b.a", false),
            ("*.weight", "convs.0.weight", true),
            ("convs.*.weight", "convs.12.weight", true),
            ("convs.*.weight", "convs.12.bias", false),
            ("fc1.weight", "fc1.weight", true),
            ("fc1.weight", "fc1.weights", false),
            ("*embed*", "token_embedding.weight", true),
        ] {
            assert_eq!(matches(pattern, path), expected, "{pattern} ~ {path}");
        }
    }

    #[test]
    fn embeddings_are_not_the_output() {
        let params = vec![
            ("embedding.weight".to_owned(), vec![1000, 64]),
            ("fc.weight".to_owned(), vec![64, 2]),
        ];
        let d = discover_in(&params, &PruneRules::default()).unwrap();
        assert_eq!(
            kinds(&d),
            [
                ("embedding.weight".into(), "embedding".into()),
                ("fc.weight".into(), "output".into()),
            ]
        );
    }
}
