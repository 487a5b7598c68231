//! The settings an experiment gets unless it says otherwise: what `sprig prune` runs and
//! what every evaluation table's budgeted, text and IMP rows share.

use sprig_backend::BackendChoice;
use sprig_budget::{BuiltinPolicy, ConvergencePolicy};
use sprig_data::audio::{FsddSplit, spoken_digits};
use sprig_data::text::VocabConfig;
use sprig_mask::{LayerRates, Scope};
use sprig_models::{Architecture, Modality};
use sprig_prune::classifier::TrainConfig;

use crate::config::{AudioSettings, Dataset, Domain, Experiment, Method, Pruning};

/// One experiment as a user asks for it (the `sprig` command line): the evaluation's
/// defaults for the data set's domain (training settings, validation interval, round
/// policy, tokenisation, spectrograms, pruning scope).
///
/// # Errors
/// A model that does not take the data set's kind of input.
pub fn single(
    dataset: Dataset,
    model: Architecture,
    method: Method,
    seed: u64,
    backend: impl Into<BackendChoice>,
    budget_s: f64,
    target_sparsity: f64,
) -> anyhow::Result<Experiment> {
    let modality = dataset.modality();
    if model.modality() != modality {
        anyhow::bail!(
            "model {model} takes {:?} input but data set {dataset} holds {modality:?} examples; \
             models for {dataset}: {}",
            model.modality(),
            Architecture::ALL
                .iter()
                .filter(|a| a.modality() == modality)
                .map(|a| a.name())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let (domain, train, eval_every): (Domain, fn(u64) -> TrainConfig, u64) = match model {
        Architecture::Lenet300100 => (Domain::Vision, TrainConfig::lenet, 500),
        _ if modality == Modality::Image => (Domain::Vision, TrainConfig::conv2, 250),
        _ if modality == Modality::Text => (Domain::Text, TrainConfig::text, 100),
        _ => (Domain::Audio, TrainConfig::audio, 50),
    };
    let prunes = method != Method::Dense;
    let experiment = Experiment {
        domain,
        dataset,
        model,
        method,
        seed,
        backend: backend.into(),
        budget_s: Some(budget_s),
        target_sparsity: if prunes { target_sparsity } else { 0.0 },
        train: TrainConfig {
            // A late round's step costs what its surviving weights cost, where the model
            // can compute so; elsewhere the setting would only rename the run.
            sparse_products: model.computes_sparsely(),
            ..train(seed)
        },
        eval_every,
        imp: None,
        policy: (method == Method::Budgeted).then(budgeted_policy),
        text: (modality == Modality::Text).then(|| text_settings(dataset)),
        audio: (modality == Modality::Audio).then(|| AudioSettings {
            split: FsddSplit::Official,
            features: spoken_digits(),
        }),
        pruning: match modality {
            _ if !prunes => None,
            Modality::Text => Some(text_pruning()),
            Modality::Image => conv_pruning(model),
            Modality::Audio => None,
        },
        rewind_iteration: late_rewind(modality).filter(|_| method == Method::Budgeted),
        final_start: None,
        distill: None,
        folder: None,
        rules: None,
        gmp_ramp_end: None,
    };
    Ok(match method {
        Method::TruncatedImp => truncated_imp(&experiment),
        _ => experiment,
    })
}

/// The dense-training iteration the budgeted method's tickets rewind to by default, if
/// not θ0 (late rewinding, Frankle et al., ICML 2020): for image models, 500, about a
/// tenth of the iteration at which the dense training's validation accuracy plateaus in
/// the evaluation's LeNet-300-100 and Conv-2 runs (their `rounds.json`). There these
/// tickets scored at or above the θ0 tickets (`docs/results/in-progress/vision.md` and
/// `in-progress/cifar10/vision.md`: the `rewound to iteration 500` rows). Text and
/// audio models rewind to θ0, the LTH paper's point: rewound to iteration 100 (a tenth of
/// their plateaus), TextCNN on TREC tied its θ0 ticket, and the DS-CNN's rows on FSDD do
/// not settle it (the text and audio tables; their notes say why). A dense training that
/// stops before the iteration leaves the rewind point at θ0.
pub fn late_rewind(modality: Modality) -> Option<u64> {
    match modality {
        Modality::Image => Some(500),
        Modality::Text | Modality::Audio => None,
    }
}

/// Tokenisation of each text data set: lower-cased, every training token kept (min
/// frequency 1, as Kim 2014), padded or cut to a length that covers 99% of the examples
/// whole (TREC questions: median 10 tokens, 99th percentile 22, longest 37; MR snippets:
/// 19, 43, 54). Padding is computed too, so a shorter length is a faster step.
pub fn text_settings(dataset: Dataset) -> VocabConfig {
    let length = match dataset {
        Dataset::Mr => 44,
        // A user's texts: room for a few sentences.
        Dataset::TextCsv => 64,
        _ => 24,
    };
    VocabConfig {
        min_frequency: 1,
        ..VocabConfig::new(length)
    }
}

/// How the text runs rank weights: each tensor on its own (layerwise), because one global
/// pool across an embedding table drawn at Kim's U[-0.25, 0.25] and Glorot-drawn
/// convolutions pruned the convolutions almost away while the table (most of the
/// weights) kept far more than the target share.
pub fn text_pruning() -> Pruning {
    Pruning {
        scope: Scope::Layerwise,
        rates: LayerRates::uniform(),
    }
}

/// The round policy of the evaluation's budgeted runs (and of `sprig prune`): the
/// convergence policy with half of the time left reserved for the final training but at
/// most 2 j* of it, ranking trainings resumed from the trained weights at a quarter of j*
/// (lengthened up to j* into the time the cap frees) and stopped once the mask settles,
/// and rounds added up to a gentle rate of 10 % per round. The resumed rankings are cheap,
/// so a gentler rate buys more, smaller prunes, which the LTH paper found to give better
/// tickets. The cap keeps the final training's decaying learning rate where the ticket
/// converges instead of stretching it over all the time left (`docs/results/vision.md`
/// compares the two on MNIST/LeNet at 0.964 and 0.982, every seed).
pub fn budgeted_policy() -> BuiltinPolicy {
    capped(resumed_ranking(0.1, 0.9), 2.0)
}

/// The convergence policy with resumed ranking trainings at a quarter of j*, half of the
/// time left for the final training, rounds up to `gentle_rate` and the ranking stopped at
/// a mask overlap of `overlap`.
pub fn resumed_ranking(gentle_rate: f64, overlap: f64) -> BuiltinPolicy {
    BuiltinPolicy::Convergence(
        ConvergencePolicy::new(gentle_rate)
            .with_final_share(0.5)
            .with_ranking_overlap(overlap)
            .with_ranking_resumes()
            .with_ranking_share(0.25),
    )
}

/// [`resumed_ranking`] with the ranking stopped once successive checks' prunes remove
/// `agreement` of the same weights, whatever the per-round rate (see
/// [`ConvergencePolicy::ranking_agreement`]).
pub fn resumed_ranking_by_removals(gentle_rate: f64, agreement: f64) -> BuiltinPolicy {
    BuiltinPolicy::Convergence(
        ConvergencePolicy::new(gentle_rate)
            .with_final_share(0.5)
            .with_ranking_agreement(agreement)
            .with_ranking_resumes()
            .with_ranking_share(0.25),
    )
}

/// `policy` with its final training capped at `cap` × j*.
pub fn capped(policy: BuiltinPolicy, cap: f64) -> BuiltinPolicy {
    with_convergence(policy, |c| c.with_final_cap(cap))
}

/// `policy` with `share` of the time left reserved for its final training.
pub fn final_heavy(policy: BuiltinPolicy, share: f64) -> BuiltinPolicy {
    with_convergence(policy, |c| c.with_final_share(share))
}

/// `policy` with its dense training going on for `share` × j* once its plateau j* is
/// known, so that its learning rate decays before the first prune ranks its weights.
pub fn cooled(policy: BuiltinPolicy, share: f64) -> BuiltinPolicy {
    with_convergence(policy, |c| c.with_dense_cooldown(share))
}

/// `policy` with its final training taking all the time left once it starts (the cap
/// then only shapes the plans while rounds remain).
pub fn taking_rest(policy: BuiltinPolicy) -> BuiltinPolicy {
    with_convergence(policy, |c| c.with_final_taking_rest())
}

/// `policy` changed by `change` if it is the convergence policy (the only one these
/// settings belong to), as it is otherwise.
fn with_convergence(
    policy: BuiltinPolicy,
    change: impl FnOnce(ConvergencePolicy) -> ConvergencePolicy,
) -> BuiltinPolicy {
    match policy {
        BuiltinPolicy::Convergence(c) => BuiltinPolicy::Convergence(change(c)),
        other => other,
    }
}

/// The LTH paper's IMP cut to `base`'s budget: the fewest rounds of at most 20 % that
/// reach its target, each tensor ranked on its own at the paper's per-kind rates, every
/// training of the same length, rewound to θ0 every round.
pub fn truncated_imp(base: &Experiment) -> Experiment {
    let mut e = Experiment {
        method: Method::TruncatedImp,
        pruning: Some(lth_pruning()),
        policy: None,
        ..base.clone()
    };
    e.policy = crate::runner::truncated_imp_policy(&e).ok();
    e
}

/// How the image conv nets rank weights: the LTH paper's per-kind rates for the VGG-style
/// nets (each tensor on its own; Conv-2 and Conv-4 prune convolutions at 10 % a round where
/// fully connected layers lose 20 % and the output 10 %; Conv-6's convolutions 15 %);
/// `None` (one global pool, as the paper's ResNets) otherwise.
pub fn conv_pruning(model: Architecture) -> Option<Pruning> {
    match model {
        Architecture::Conv2 | Architecture::Conv4 => Some(lth_pruning()),
        Architecture::Conv6 => Some(Pruning {
            scope: Scope::Layerwise,
            rates: LayerRates::lth()
                .with(LayerRates::CONV, 0.75)
                .expect("0.75 is a valid multiplier"),
        }),
        _ => None,
    }
}

/// The LTH paper's pruning: each tensor ranked on its own; convolutions and the output
/// layer at half the fully-connected rate.
pub fn lth_pruning() -> Pruning {
    Pruning {
        scope: Scope::Layerwise,
        rates: LayerRates::lth(),
    }
}
