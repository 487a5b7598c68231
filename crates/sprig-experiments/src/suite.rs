//! Which experiments each evaluation table runs.

use serde::{Deserialize, Serialize};
use sprig_backend::BackendChoice;
use sprig_budget::{BuiltinPolicy, ConvergencePolicy};
use sprig_data::audio::{FsddSplit, spoken_digits};
use sprig_models::Architecture;
use sprig_prune::classifier::{LrSchedule, TrainConfig};
use sprig_prune::engine::{Distillation, FinalStart};
use sprig_run::config::{AudioSettings, Dataset, Domain, Experiment, ImpSchedule, Method};
use sprig_run::defaults::{
    budgeted_policy, capped, conv_pruning, cooled, final_heavy, late_rewind, lth_pruning,
    resumed_ranking, resumed_ranking_by_removals, taking_rest, text_pruning, text_settings,
    truncated_imp,
};

/// How much of the table to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// One seed, small budgets, one small configuration per domain: the CI smoke run (a few
    /// minutes).
    Quick,
    /// The table in `docs/`: 3 seeds on MNIST, several budgets, every baseline, the
    /// high-sparsity sections (5 seeds, every same-budget alternative) and a
    /// CIFAR-10/Conv-2 section (hours on 2 cores; finished runs are reused).
    Standard,
    /// Standard plus Conv-4, Conv-6 and ResNet-20 and 3 seeds on CIFAR-10 (many hours on
    /// a CPU).
    Full,
}

impl Mode {
    /// The stem of the result files (`docs/results/STEM.md`).
    pub fn stem(self, domain: &str) -> String {
        match self {
            Mode::Quick => format!("{domain}-quick"),
            Mode::Standard => domain.to_string(),
            Mode::Full => format!("{domain}-full"),
        }
    }
}

/// One (data set, model) section of the table.
struct Section {
    dataset: Dataset,
    model: Architecture,
    seeds: Vec<u64>,
    /// Budgets for the budgeted method.
    budgets: Vec<f64>,
    /// The budget of every baseline (dense, one-shot, random, IMP's reference); `None`:
    /// the last of `budgets`.
    baselines_at: Option<f64>,
    target: f64,
    train: fn(u64) -> TrainConfig,
    eval_every: u64,
    imp: Option<ImpSchedule>,
    /// Whether the first seed also runs the LTH paper's unconstrained IMP schedule
    /// ([`lth_reference`]).
    lth_reference: bool,
    /// Which runs stand beside the budgeted ones.
    controls: Controls,
}

/// The comparisons a section runs at its largest budget, beside the budgeted runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Controls {
    /// Dense only: the reference the budgeted ticket is judged against.
    Dense,
    /// Dense, one-shot and random pruning.
    Baselines,
    /// The baselines, the constant-rate and equal-trainings ablations and random
    /// re-initialisation (off for slow sections, to keep the standard table in hours).
    All,
    /// Every same-budget alternative a user has at high sparsity: dense, one-shot, GMP,
    /// random pruning, random re-initialisation and truncated IMP; and the budgeted
    /// method's `ablations` on the first three seeds.
    Alternatives { ablations: Ablations },
    /// Dense on every seed; one-shot, GMP and random pruning on the first only, and
    /// `ablations` on the first seed (or the first three, [`LongAblation::seeds`]): every
    /// run takes its whole budget, and these sections' budgets are long.
    FirstSeed { ablations: &'static [LongAblation] },
}

/// A variant a [`Controls::FirstSeed`] section runs beside the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LongAblation {
    /// The budgeted method and dense at Adam's constant rate (the LTH paper's protocol).
    ConstantRate,
    /// The budgeted method with [`CONV2_FINAL_SHARE`] of the time left reserved for the
    /// final training instead of half.
    FinalHeavier,
    /// The budgeted method whose final training resumes from the weights the last prune
    /// ranked instead of θ0 (learning-rate rewinding, Renda, Frankle & Carbin, ICLR 2020).
    FinalResumes,
    /// [`LongAblation::FinalResumes`] whose final training also learns from the dense
    /// training's selected weights (knowledge distillation).
    FinalResumesDistilled,
}

impl LongAblation {
    /// How many of the section's first seeds run it: a candidate for the default on as
    /// many as the default's comparison with dense has, the others on one.
    fn seeds(self) -> usize {
        match self {
            LongAblation::FinalResumes | LongAblation::FinalResumesDistilled => 3,
            _ => 1,
        }
    }
}

/// Which variants of the budgeted method a high-sparsity section runs beside its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ablations {
    /// Every choice of the default round policy ([`high_sparsity_ablations`]), GMP with a
    /// longer recovery, and, where the model computes sparsely, the default, the θ0 ticket
    /// and GMP with the sparse products and the θ0 ticket's variants with them
    /// ([`sparse_product_ablations`]).
    RoundPolicy,
    /// The levers left where the default ties the alternatives ([`lever_ablations`]),
    /// and late rewinding to iteration `rewind_iteration` (every seed), alone or with the
    /// final training taking all the time left, and with the rankings stopped later.
    Levers { rewind_iteration: u64 },
}

/// Conv-2's budget: 15 minutes, in which its dense training on the 2-core reference
/// machine already reaches the accuracy of the LTH paper's (the table's dense rows), so
/// the tickets are judged against a trained network, not a half-trained one.
const CONV2_BUDGET_S: f64 = 900.0;
/// Twice that, at 95.4 %: in 15 minutes the dense training is still improving when the
/// budget ends, and a ticket, which trains from θ0 in what the rounds leave, gets far
/// fewer iterations than dense does; the LTH paper compares them trained to convergence.
const CONV2_LONG_BUDGET_S: f64 = 1_800.0;
/// An hour, at 95.4 %: whether the ticket, which trains from θ0 in what its rounds leave,
/// closes the gap to dense when the budget gives it more and gentler rounds (at 30
/// minutes its first prune removes more than half of the weights at once, where LTH's
/// rounds remove a fifth) while dense gains nothing from 15 to 30 minutes.
const CONV2_HOUR_BUDGET_S: f64 = 3_600.0;
/// The share of the time left Conv-2's `FinalHeavier` ablation reserves for the final
/// training: one-shot pruning, which splits the budget about evenly between its dense and
/// its final training, scores above the θ0 ticket's mean at 30 minutes and above its
/// first seed in an hour, and its final training is longer than the ticket's, whose
/// rounds take half of what the dense training leaves.
const CONV2_FINAL_SHARE: f64 = 0.75;
/// The iteration the text and audio high-sparsity sections' late-rewinding rows rewind
/// to: about a tenth of the dense training's plateau (TextCNN on TREC: 1,200–1,400
/// iterations; the DS-CNN on FSDD: 800–1,450).
const TEXT_AUDIO_LATE_REWIND: u64 = 100;
/// Conv-4's (`--full`): its step costs about 1.5 times Conv-2's.
const CONV4_BUDGET_S: f64 = 1_800.0;
/// Conv-6's and ResNet-20's (`--full`).
const DEEP_BUDGET_S: f64 = 2_700.0;

/// LeNet-300-100's training as `sprig prune` runs it: a late round computes with the
/// surviving weights alone, so its step costs what they cost.
fn lenet_as_sprig_prunes(seed: u64) -> TrainConfig {
    TrainConfig {
        sparse_products: true,
        ..TrainConfig::lenet(seed)
    }
}

/// The vision experiments of `mode`, in an order where every control comes after the
/// budgeted run whose ticket it reuses.
pub fn vision(mode: Mode, backend: BackendChoice) -> Vec<Experiment> {
    let seeds = |n: u64| (0..n).collect::<Vec<_>>();
    let lenet = |seeds, budgets, imp| Section {
        dataset: Dataset::Mnist,
        model: Architecture::Lenet300100,
        seeds,
        budgets,
        target: 0.9,
        train: lenet_as_sprig_prunes,
        eval_every: 500,
        imp,
        lth_reference: false,
        controls: Controls::All,
        baselines_at: None,
    };
    // CIFAR-10 where the LTH paper's tickets beat dense (Conv-2's peak 3.4 points above
    // dense at 4.6 % of weights left), at budgets long enough to train it (CONV_BUDGETS).
    let conv = |model, target, budgets| Section {
        dataset: Dataset::Cifar10,
        model,
        seeds: seeds(3),
        budgets,
        target,
        train: TrainConfig::conv2,
        // A validation of Conv-2 costs about 25 of its training steps: every 250 steps
        // keeps validating to a tenth of the budget while still seeing a ranking
        // training settle.
        eval_every: 250,
        imp: None,
        lth_reference: false,
        controls: Controls::FirstSeed { ablations: &[] },
        baselines_at: None,
    };
    // In 15 minutes at 95.4 % the ticket, whose final training from θ0 gets about a third
    // of dense's iterations, scores far below dense: its final training resuming from the
    // weights the last prune ranked instead, on as many seeds as dense.
    let conv_resumed = |model, target| Section {
        controls: Controls::FirstSeed {
            ablations: &[LongAblation::FinalResumes],
        },
        ..conv(model, target, vec![CONV2_BUDGET_S])
    };
    // At 30 minutes the θ0 ticket ties one-shot a point below dense. The levers tried
    // there besides the default's late rewinding: a longer final training (one-shot's,
    // which no rounds share, is longer than the ticket's); and the final training resuming
    // from the weights the last prune ranked (learning-rate rewinding).
    let conv_long = |model, target| Section {
        controls: Controls::FirstSeed {
            ablations: &[
                LongAblation::FinalHeavier,
                LongAblation::FinalResumes,
                LongAblation::FinalResumesDistilled,
            ],
        },
        ..conv(model, target, vec![CONV2_LONG_BUDGET_S])
    };
    // In an hour the ticket still scores under dense: both at the LTH paper's constant
    // rate too, to see whether the decaying rate helps dense more than the ticket.
    let conv_hour = |model, target| Section {
        controls: Controls::FirstSeed {
            ablations: &[LongAblation::ConstantRate],
        },
        ..conv(model, target, vec![CONV2_HOUR_BUDGET_S])
    };
    // LTH's schedule shape (about 20% per round) with shorter trainings, to keep the
    // unconstrained reference to minutes on a CPU.
    let lth_imp = ImpSchedule {
        rounds: 10,
        iterations: 3_000,
    };
    // Where iterative pruning should pull ahead (the LTH paper: below ~5 % of weights
    // left), against every same-budget alternative, 5 seeds.
    // Their base computes with dense products, as their finished baselines did (so those
    // runs are reused); the default ticket, the θ0 ticket and GMP run with the sparse
    // products beside it (`Ablations::RoundPolicy`).
    let high = |target| Section {
        target,
        train: TrainConfig::lenet,
        lth_reference: true,
        controls: Controls::Alternatives {
            ablations: Ablations::RoundPolicy,
        },
        ..lenet(seeds(5), vec![120.0], None)
    };
    let sections = match mode {
        // The baselines only, to keep CI short; the ablations are in the standard table.
        Mode::Quick => vec![Section {
            controls: Controls::Baselines,
            ..lenet(
                seeds(1),
                vec![15.0],
                Some(ImpSchedule {
                    rounds: 3,
                    iterations: 800,
                }),
            )
        }],
        Mode::Standard => vec![
            lenet(seeds(3), vec![30.0, 120.0], Some(lth_imp)),
            high(0.964),
            high(0.982),
            conv(Architecture::Conv2, 0.9, vec![CONV2_BUDGET_S]),
            conv_resumed(Architecture::Conv2, 0.954),
            conv_long(Architecture::Conv2, 0.954),
            conv_hour(Architecture::Conv2, 0.954),
        ],
        Mode::Full => vec![
            lenet(seeds(3), vec![30.0, 60.0, 120.0, 300.0], Some(lth_imp)),
            high(0.964),
            high(0.982),
            conv(Architecture::Conv2, 0.9, vec![CONV2_BUDGET_S]),
            conv(Architecture::Conv2, 0.954, vec![CONV2_BUDGET_S]),
            conv(Architecture::Conv4, 0.9, vec![CONV4_BUDGET_S]),
            conv(Architecture::ResNet20, 0.9, vec![DEEP_BUDGET_S]),
            conv(Architecture::Conv6, 0.9, vec![DEEP_BUDGET_S]),
        ],
    };
    let mut runs: Vec<Experiment> = sections
        .into_iter()
        .flat_map(|s| {
            let cifar = s.dataset == Dataset::Cifar10;
            section(&s, backend).into_iter().map(move |e| Experiment {
                pruning: match e.method {
                    _ if !cifar => e.pruning.clone(),
                    Method::Dense | Method::TruncatedImp => e.pruning.clone(),
                    _ => conv_pruning(e.model),
                },
                ..e
            })
        })
        .collect();
    if mode == Mode::Quick
        && let Some(budgeted) = runs.first().cloned()
    {
        // GMP exercised in CI, at a sparsity where it is a real alternative.
        runs.push(Experiment {
            method: Method::Gmp,
            target_sparsity: 0.982,
            policy: None,
            rewind_iteration: None,
            ..budgeted
        });
    }
    unique(runs)
}

/// The text experiments of `mode`: TREC-6 and MR with Kim's TextCNN at a target
/// sparsity of 0.8 (TREC at 30, 90 and 180 s) against dense, one-shot and random pruning,
/// unconstrained IMP on TREC, and the bag-of-embeddings model on TREC; TREC at 0.95 in
/// 180 s against every same-budget alternative, with the [`lever_ablations`] and late
/// rewinding (the round policy's other ablations stay in the vision table).
pub fn text(mode: Mode, backend: BackendChoice) -> Vec<Experiment> {
    let seeds = |n: u64| (0..n).collect::<Vec<_>>();
    let text_section = |dataset, model, seeds, budgets, imp| Section {
        dataset,
        model,
        seeds,
        budgets,
        target: 0.8,
        train: TrainConfig::text,
        eval_every: 100,
        imp,
        lth_reference: false,
        controls: Controls::Baselines,
        baselines_at: None,
    };
    let sections = match mode {
        Mode::Quick => vec![text_section(
            Dataset::Trec,
            Architecture::BagOfEmbeddings,
            seeds(1),
            vec![15.0],
            None,
        )],
        Mode::Standard | Mode::Full => vec![
            text_section(
                Dataset::Trec,
                Architecture::TextCnn,
                seeds(3),
                vec![30.0, 90.0, 180.0],
                // LTH's ~20% per round (0.8 in 7 rounds), short trainings.
                Some(ImpSchedule {
                    rounds: 7,
                    iterations: 800,
                }),
            ),
            text_section(
                Dataset::Mr,
                Architecture::TextCnn,
                seeds(3),
                vec![90.0],
                None,
            ),
            text_section(
                Dataset::Trec,
                Architecture::BagOfEmbeddings,
                seeds(3),
                vec![30.0],
                None,
            ),
            // High sparsity against every same-budget alternative, 5 seeds.
            Section {
                target: 0.95,
                controls: Controls::Alternatives {
                    ablations: Ablations::Levers {
                        rewind_iteration: TEXT_AUDIO_LATE_REWIND,
                    },
                },
                ..text_section(
                    Dataset::Trec,
                    Architecture::TextCnn,
                    seeds(5),
                    vec![180.0],
                    None,
                )
            },
        ],
    };
    let runs = sections
        .into_iter()
        .flat_map(|s| {
            let text = Some(text_settings(s.dataset));
            section(&s, backend).into_iter().map(move |e| Experiment {
                domain: Domain::Text,
                text: text.clone(),
                pruning: match e.method {
                    Method::Dense => None,
                    // The LTH paper's own scheme, whatever the domain's.
                    Method::TruncatedImp => e.pruning.clone(),
                    _ => Some(text_pruning()),
                },
                ..e
            })
        })
        .collect();
    unique(runs)
}

/// The audio experiments of `mode`: the Free Spoken Digit Dataset with the DS-CNN (sized
/// for a microcontroller) at a target sparsity of 0.8 on the official split, budgeted at 90,
/// 180 and 300 s against dense, one-shot and random pruning at 180 s (dense has converged
/// by then: its best validation comes at 800–1,450 of ~2,600 iterations, while a ticket's
/// final training gets about half the budget); with a speaker held out (`theo`: his voice
/// is never heard in training), budgeted at 180 and 300 s against dense at 180 s; at 0.9
/// in 300 s against every same-budget alternative, with the [`lever_ablations`] and late
/// rewinding.
/// `--full` adds budgets, the baselines on the held-out speaker and the larger
/// spectrogram CNN.
pub fn audio(mode: Mode, backend: BackendChoice) -> Vec<Experiment> {
    let seeds = |n: u64| (0..n).collect::<Vec<_>>();
    let audio_section = |model, seeds, budgets, controls, baselines_at| Section {
        dataset: Dataset::Fsdd,
        model,
        seeds,
        budgets,
        target: 0.8,
        train: TrainConfig::audio,
        eval_every: 50,
        imp: None,
        lth_reference: false,
        controls,
        baselines_at,
    };
    let official = FsddSplit::Official;
    let speaker = FsddSplit::Speaker("theo".into());
    let sections = match mode {
        // The planner's smallest workable budget grows with the step's time, which varies
        // between runs (LibTorch's warm-up) and between hosts of one kind (on one, a DS-CNN
        // step on flex took twice as long as on another, and the ticket needed just over
        // 30 s): 40 s leaves a margin. Dense only beside the ticket: the vision and text
        // quick tables exercise the other baselines, and every run here is CI time.
        Mode::Quick => vec![(
            audio_section(
                Architecture::DsCnn,
                seeds(1),
                vec![40.0],
                Controls::Dense,
                None,
            ),
            official,
        )],
        Mode::Standard => vec![
            (
                audio_section(
                    Architecture::DsCnn,
                    seeds(3),
                    vec![90.0, 180.0, 300.0],
                    Controls::Baselines,
                    Some(180.0),
                ),
                official.clone(),
            ),
            // High sparsity against every same-budget alternative at the largest budget,
            // with the levers tried on TREC.
            (
                Section {
                    target: 0.9,
                    ..audio_section(
                        Architecture::DsCnn,
                        seeds(5),
                        vec![300.0],
                        Controls::Alternatives {
                            ablations: Ablations::Levers {
                                rewind_iteration: TEXT_AUDIO_LATE_REWIND,
                            },
                        },
                        None,
                    )
                },
                official,
            ),
            (
                audio_section(
                    Architecture::DsCnn,
                    seeds(3),
                    vec![180.0, 300.0],
                    Controls::Dense,
                    Some(180.0),
                ),
                speaker,
            ),
        ],
        Mode::Full => vec![
            (
                audio_section(
                    Architecture::DsCnn,
                    seeds(3),
                    vec![30.0, 60.0, 90.0, 180.0, 300.0],
                    Controls::Baselines,
                    None,
                ),
                official.clone(),
            ),
            (
                audio_section(
                    Architecture::AudioCnn,
                    seeds(3),
                    vec![180.0],
                    Controls::Baselines,
                    None,
                ),
                official,
            ),
            (
                audio_section(
                    Architecture::DsCnn,
                    seeds(3),
                    vec![180.0],
                    Controls::Baselines,
                    None,
                ),
                speaker,
            ),
        ],
    };
    sections
        .into_iter()
        .flat_map(|(s, split)| {
            let audio = Some(AudioSettings {
                split,
                features: spoken_digits(),
            });
            section(&s, backend).into_iter().map(move |e| Experiment {
                domain: Domain::Audio,
                audio: audio.clone(),
                ..e
            })
        })
        .collect()
}

/// The round policies the high-sparsity section runs beside [`budgeted_policy`], to show
/// what each of its choices buys: up to 20 % per round; ranking
/// trainings rewound to θ0 (LTH's masks) instead of resumed; equal trainings; a later
/// early stop of the rankings; the final training not capped (it gets at least half of the
/// time left, however long the ticket needs), or capped tighter at 1 or 1.5 j* (the capped
/// final training's validation peaks long before its end, while the learning rate is still
/// high); and the default's cap shaping the plans only, the final training taking all the
/// time left (on a fast machine the capped default ends after about half its budget).
pub fn high_sparsity_ablations() -> Vec<BuiltinPolicy> {
    [
        resumed_ranking(ConvergencePolicy::DEFAULT_GENTLE_RATE, 0.9),
        rewound_ranking(),
        BuiltinPolicy::Convergence(ConvergencePolicy::default()),
        resumed_ranking(0.1, 0.95),
        resumed_ranking(0.1, 0.9),
        capped(resumed_ranking(0.1, 0.9), 1.0),
        capped(resumed_ranking(0.1, 0.9), 1.5),
        taking_rest(capped(resumed_ranking(0.1, 0.9), 2.0)),
    ]
    .into_iter()
    .filter(|p| *p != budgeted_policy())
    .collect()
}

/// The default policy's variants the high-sparsity sections run with the sparse products,
/// where a cheap step leaves time the default's limits (counted in iterations) do not
/// spend.
pub fn sparse_product_ablations() -> Vec<BuiltinPolicy> {
    vec![
        // Cheaper late rounds let the planner add rounds up to the 10 % cap, each with a
        // shorter ranking (the mask settles sooner between gentler prunes); up to 20 %
        // keeps about as many rounds as the dense products allowed.
        capped(resumed_ranking(0.2, 0.9), 2.0),
        // Fewer, larger prunes (about 27 rounds at 0.982): with a cheap step the planner
        // always reaches the 10 % cap (38 rounds), where a slower step left room for fewer.
        capped(resumed_ranking(0.14, 0.9), 2.0),
        // Longer final trainings: the faster the step, the earlier the dense training's
        // validation loss plateaus (its rate decays towards an end a third of the budget
        // away), so 2 j* gives the ticket fewer iterations on a fast machine than on a
        // slow one.
        capped(resumed_ranking(0.1, 0.9), 3.0),
        capped(resumed_ranking(0.1, 0.9), 4.0),
        // The cap shaping the plans and the final training then taking all the time left:
        // the whole budget trained.
        taking_rest(capped(resumed_ranking(0.1, 0.9), 2.0)),
        // The dense training decaying its learning rate after its plateau: before j* is
        // known its planned end (where the rate reaches zero) is a third of the budget
        // away, further the faster the step, so it stops at its plateau at nearly the full
        // rate.
        capped(cooled(resumed_ranking(0.1, 0.9), 0.5), 2.0),
        // At 10 % per round two prunes share 8/9 of their survivors whatever the ranking,
        // so an overlap of 0.9 stops every ranking at its second check; the agreement of
        // the removals does not depend on the rate, and the rankings run into the time the
        // sparse products free.
        capped(resumed_ranking_by_removals(0.1, 0.9), 2.0),
        // The same question asked of the survivors: an overlap of 0.95 holds only once
        // two checks' prunes remove mostly the same weights, so the rankings run on into
        // the freed time (uncapped and without the sparse products, the best ranking stop
        // at 0.982 in the round-policy rows).
        later_ranking_stop(),
        // Gentler still: the tickets that reached the 10 % cap in rounds scored above those
        // the budget held to fewer, so with the time the sparse rounds free, 7 % per round
        // (about 46 rounds at 0.964, 55 at 0.982, fewer where they do not fit), each
        // ranking stopped late enough to see its prune settle.
        capped(resumed_ranking(0.07, 0.95), 2.0),
    ]
}

/// The default policy's variants a section runs where the θ0 ticket ties the alternatives
/// (on TREC at 0.95 random re-initialisation of the ticket's mask does as well as the
/// ticket, and its final training gets about a quarter of the run's iterations while GMP
/// trains one network for all of them): the final training not capped; up to 20 % per
/// round (fewer, longer rankings); ranking trainings rewound to θ0 (LTH's masks). Late
/// rewinding, the fourth lever (the image models' default), is an experiment field rather
/// than a policy.
pub fn lever_ablations() -> Vec<BuiltinPolicy> {
    vec![
        resumed_ranking(0.1, 0.9),
        capped(
            resumed_ranking(ConvergencePolicy::DEFAULT_GENTLE_RATE, 0.9),
            2.0,
        ),
        rewound_ranking(),
    ]
}

/// The default with its rankings stopped at a survivor overlap of 0.95 instead of 0.9: the
/// ranking stop that, with late rewinding, beat GMP on MNIST at 0.982.
fn later_ranking_stop() -> BuiltinPolicy {
    capped(resumed_ranking(0.1, 0.95), 2.0)
}

/// Ranking trainings rewound to θ0 every round, as LTH's IMP, at the convergence
/// policy's default rate.
fn rewound_ranking() -> BuiltinPolicy {
    BuiltinPolicy::Convergence(
        ConvergencePolicy::default()
            .with_final_share(0.5)
            .with_ranking_overlap(0.9)
            .with_ranking_share(0.25),
    )
}

/// The budgeted method's variants `ablations` asks for, each from `base` (the default).
fn ablation_runs(ablations: Ablations, base: &Experiment) -> Vec<Experiment> {
    let with_policy = |policy| Experiment {
        policy: Some(policy),
        ..base.clone()
    };
    match ablations {
        Ablations::RoundPolicy => {
            let mut runs: Vec<_> = high_sparsity_ablations()
                .into_iter()
                .map(with_policy)
                .collect();
            // GMP with a longer recovery at the final mask, in case the default ramp
            // understates what GMP gets in this budget.
            runs.push(Experiment {
                method: Method::Gmp,
                policy: None,
                gmp_ramp_end: Some(0.5),
                ..base.clone()
            });
            runs
        }
        Ablations::Levers { rewind_iteration } => {
            let mut runs: Vec<_> = lever_ablations().into_iter().map(with_policy).collect();
            // Late rewinding with the rankings stopped at a survivor overlap of 0.95 too: on
            // MNIST at 0.982 the pair beat GMP by more than either alone.
            runs.push(Experiment {
                rewind_iteration: Some(rewind_iteration),
                policy: Some(later_ranking_stop()),
                ..base.clone()
            });
            runs.push(final_resumes(base));
            runs.push(distilled(base));
            runs
        }
    }
}

fn section(s: &Section, backend: BackendChoice) -> Vec<Experiment> {
    let mut runs = Vec::new();
    let mut ablations = Vec::new();
    let baseline_budget = s
        .baselines_at
        .unwrap_or_else(|| *s.budgets.last().expect("every section has a budget"));
    for &seed in &s.seeds {
        let base = Experiment {
            seed,
            ..budgeted_run(
                s.dataset,
                s.model,
                (s.train)(seed),
                s.eval_every,
                baseline_budget,
                s.target,
                backend,
            )
        };
        for &budget in &s.budgets {
            let at_budget = Experiment {
                budget_s: Some(budget),
                ..base.clone()
            };
            // An image model's default rewinds late: that row first, where the section
            // trains as `sprig prune` does (the high-sparsity LeNet sections add theirs
            // beside their dense-products base), then the θ0 ticket, the LTH paper's, on
            // which the random controls, the ablations and the baselines' folders were
            // built.
            if let Some(k) = late_rewind(s.model.modality())
                && base.train.sparse_products == base.model.computes_sparsely()
            {
                runs.push(Experiment {
                    rewind_iteration: Some(k),
                    ..at_budget.clone()
                });
            }
            runs.push(at_budget);
        }
        if let Controls::Alternatives { ablations: which } = s.controls
            && seed < 3
        {
            // After every seed's comparison rows, so a table run in sittings has the
            // comparison first.
            ablations.extend(ablation_runs(which, &base));
        }
        if let Controls::Alternatives {
            ablations: Ablations::Levers { .. },
        } = s.controls
            && seed >= 3
        {
            // The final training resumed from the last ranking, which beat GMP on the first
            // three seeds, on every seed the default has: a candidate for the default.
            ablations.push(final_resumes(&base));
        }
        if let Controls::Alternatives {
            ablations: Ablations::Levers { rewind_iteration },
        } = s.controls
        {
            // Late rewinding (Frankle et al., ICML 2020) to about a tenth of the dense
            // training's plateau, on every seed: the image models' default, a candidate
            // here.
            let rewound = Experiment {
                rewind_iteration: Some(rewind_iteration),
                ..base.clone()
            };
            // With the final training taking all the time left too: on TREC on tch-cpu
            // the capped θ0 ticket ends after half of its budget, and its seed that ends
            // earliest scores lowest.
            ablations.push(Experiment {
                policy: Some(resumed_ranking(0.1, 0.9)),
                ..rewound.clone()
            });
            ablations.push(rewound);
        }
        if let Controls::FirstSeed { ablations: which } = s.controls {
            let nth = s.seeds.iter().position(|&other| other == seed).unwrap_or(0);
            ablations.extend(
                which
                    .iter()
                    .filter(|a| nth < a.seeds())
                    .flat_map(|a| long_ablation(*a, &base)),
            );
        }
        if s.controls
            == (Controls::Alternatives {
                ablations: Ablations::RoundPolicy,
            })
            && s.model.computes_sparsely()
        {
            // The θ0 ticket and GMP with the sparse products (a late round's step costs what
            // its surviving weights cost): more iterations in the same budget than the
            // base's dense products give.
            let train = TrainConfig {
                sparse_products: true,
                ..base.train
            };
            runs.push(Experiment {
                train,
                ..base.clone()
            });
            runs.push(Experiment {
                method: Method::Gmp,
                policy: None,
                train,
                ..base.clone()
            });
            // The default: as `sprig prune` runs it, late rewinding included.
            runs.push(Experiment {
                train,
                rewind_iteration: late_rewind(s.model.modality()),
                ..base.clone()
            });
            // With the later ranking stop too: each of the two beat GMP at 0.982 alone.
            runs.push(Experiment {
                train,
                rewind_iteration: late_rewind(s.model.modality()),
                policy: Some(later_ranking_stop()),
                ..base.clone()
            });
            // The final training resuming from the weights the last prune ranked (GMP,
            // which keeps training one network, ties every θ0 ticket here).
            runs.push(final_resumes(&Experiment {
                train,
                ..base.clone()
            }));
            // The θ0 ticket taught by the dense training's selected weights: on MNIST the
            // final training converges inside the budget, so a better target, not more
            // iterations, is what is left to give it.
            runs.push(distilled(&Experiment {
                train,
                ..base.clone()
            }));
            runs.extend(
                sparse_product_ablations()
                    .into_iter()
                    .map(|policy| Experiment {
                        train,
                        policy: Some(policy),
                        ..base.clone()
                    }),
            );
        }
        // The learning-rate schedule comparison, at the largest budget.
        if s.controls == Controls::All {
            let mut constant = base.clone();
            constant.train.schedule = LrSchedule::Constant;
            runs.push(constant);
            // Ablation of the round policy: equal trainings after the dense one.
            runs.push(Experiment {
                policy: Some(BuiltinPolicy::Convergence(ConvergencePolicy::default())),
                ..base.clone()
            });
        }
        for method in [
            Method::OneShot,
            Method::Gmp,
            Method::RandomPrune,
            Method::RandomReinit,
            Method::TruncatedImp,
        ] {
            let wanted = match s.controls {
                Controls::Dense => false,
                Controls::Baselines => matches!(method, Method::OneShot | Method::RandomPrune),
                Controls::All => method != Method::Gmp && method != Method::TruncatedImp,
                Controls::Alternatives { .. } => true,
                Controls::FirstSeed { .. } => {
                    seed == s.seeds[0]
                        && matches!(method, Method::OneShot | Method::Gmp | Method::RandomPrune)
                }
            };
            if !wanted {
                continue;
            }
            if method == Method::TruncatedImp {
                runs.push(truncated_imp(&base));
                continue;
            }
            runs.push(Experiment {
                method,
                // One-shot's and GMP's schedules are fixed; their configs carry no policy.
                policy: base.policy.filter(|_| method.needs_ticket()),
                ..base.clone()
            });
        }
        runs.push(dense_beside(&base));
        // Unconstrained IMP is the reference, not the subject: one seed is enough to
        // show what it costs and reaches.
        if let Some(imp) = s.imp.filter(|_| seed == s.seeds[0]) {
            runs.push(Experiment {
                method: Method::Imp,
                budget_s: None,
                imp: Some(imp),
                policy: None,
                ..base.clone()
            });
        }
        if s.lth_reference && seed == s.seeds[0] {
            runs.push(lth_reference(&base));
        }
    }
    runs.extend(ablations);
    runs
}

/// The runs of one [`LongAblation`], each from `base` (the default budgeted run).
fn long_ablation(ablation: LongAblation, base: &Experiment) -> Vec<Experiment> {
    match ablation {
        LongAblation::ConstantRate => [base.clone(), dense_beside(base)]
            .into_iter()
            .map(|mut e| {
                e.train.schedule = LrSchedule::Constant;
                e
            })
            .collect(),
        LongAblation::FinalHeavier => vec![Experiment {
            policy: Some(final_heavy(budgeted_policy(), CONV2_FINAL_SHARE)),
            ..base.clone()
        }],
        LongAblation::FinalResumes => vec![final_resumes(base)],
        LongAblation::FinalResumesDistilled => vec![distilled(&final_resumes(base))],
    }
}

/// `base` with its final training learning from the dense training's selected weights
/// too: the sparse network is trained towards what the dense one predicts.
fn distilled(base: &Experiment) -> Experiment {
    Experiment {
        distill: Some(Distillation::DEFAULT),
        ..base.clone()
    }
}

/// `base` with its final training resuming from the weights the last prune ranked.
fn final_resumes(base: &Experiment) -> Experiment {
    Experiment {
        final_start: Some(FinalStart::LastRanking),
        ..base.clone()
    }
}

/// The budgeted method under the default round policy, on seed 0, every optional setting
/// unset (a vision run): what every section's runs and the edge table's tickets vary.
pub(crate) fn budgeted_run(
    dataset: Dataset,
    model: Architecture,
    train: TrainConfig,
    eval_every: u64,
    budget_s: f64,
    target: f64,
    backend: BackendChoice,
) -> Experiment {
    Experiment {
        domain: Domain::Vision,
        dataset,
        model,
        method: Method::Budgeted,
        seed: 0,
        backend,
        budget_s: Some(budget_s),
        target_sparsity: target,
        train,
        eval_every,
        imp: None,
        policy: Some(budgeted_policy()),
        text: None,
        audio: None,
        pruning: None,
        rewind_iteration: None,
        final_start: None,
        distill: None,
        folder: None,
        rules: None,
        gmp_ramp_end: None,
    }
}

/// Dense training in `budgeted`'s budget, seed and settings: the reference its ticket is
/// judged against.
pub(crate) fn dense_beside(budgeted: &Experiment) -> Experiment {
    Experiment {
        method: Method::Dense,
        target_sparsity: 0.0,
        policy: None,
        ..budgeted.clone()
    }
}

/// The LTH paper's unconstrained IMP schedule for `target` (Frankle & Carbin 2019,
/// LeNet-300-100: 50,000 iterations per training, at most 20 % per round, constant Adam),
/// as the quality reference of a high-sparsity section.
fn lth_reference(base: &Experiment) -> Experiment {
    let mut e = Experiment {
        method: Method::Imp,
        budget_s: None,
        imp: Some(ImpSchedule {
            rounds: sprig_mask::rounds_for(base.target_sparsity, sprig_run::runner::LTH_RATE)
                .unwrap_or(1),
            iterations: 50_000,
        }),
        pruning: Some(lth_pruning()),
        policy: None,
        ..base.clone()
    };
    e.train.schedule = LrSchedule::Constant;
    e
}

/// Removes repeated experiments (a dense run shared by sections of several targets),
/// keeping the first.
fn unique(runs: Vec<Experiment>) -> Vec<Experiment> {
    let mut seen = std::collections::BTreeSet::new();
    runs.into_iter()
        .filter(|e| seen.insert(e.run_dir()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edge_suite_reuses_the_vision_tables_conv_tickets() {
        let vision = vision(Mode::Standard, BackendChoice::Auto);
        for e in crate::edge::suite(Mode::Standard, BackendChoice::Auto)
            .iter()
            .filter(|e| e.model == Architecture::Conv2)
        {
            assert!(vision.contains(e), "{:?}", e.run_dir());
        }
    }

    #[test]
    fn the_quick_edge_table_reuses_the_vision_quick_tickets() {
        let vision = vision(Mode::Quick, BackendChoice::Auto);
        let mut reused: Vec<f64> = crate::edge::suite(Mode::Quick, BackendChoice::Auto)
            .iter()
            .filter(|e| vision.contains(e))
            .map(|e| e.target_sparsity)
            .collect();
        reused.sort_by(f64::total_cmp);
        assert_eq!(reused, [0.0, 0.9]);
    }

    #[test]
    fn controls_follow_their_ticket_and_folders_are_unique() {
        let suites: [fn(Mode, BackendChoice) -> Vec<Experiment>; 3] = [vision, text, audio];
        for (mode, suite) in [Mode::Quick, Mode::Standard, Mode::Full]
            .into_iter()
            .flat_map(|m| suites.map(|s| (m, s)))
        {
            let runs = suite(mode, BackendChoice::Auto);
            assert!(!runs.is_empty());
            let mut dirs = std::collections::BTreeSet::new();
            for (i, run) in runs.iter().enumerate() {
                assert!(
                    dirs.insert(run.run_dir()),
                    "{mode:?}: duplicate {:?}",
                    run.run_dir()
                );
                if run.method.needs_ticket() {
                    let source = run.ticket_source();
                    assert!(
                        runs[..i].contains(&source),
                        "{mode:?}: {:?} before its ticket",
                        run.run_dir()
                    );
                }
            }
        }
    }
}
