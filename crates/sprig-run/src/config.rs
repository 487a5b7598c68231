//! One experiment as typed configuration. Its canonical JSON form names its run folder, so
//! re-running a finished experiment finds its result instead of redoing it (open_lth's
//! convention).

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sprig_backend::BackendChoice;
use sprig_budget::{BuiltinPolicy, ConvergencePolicy};
use sprig_data::FolderSplit;
use sprig_data::audio::{FeatureConfig, FsddSplit};
use sprig_data::text::VocabConfig;
use sprig_mask::{LayerRates, Scope};
use sprig_models::{Architecture, Modality};
use sprig_prune::PruneRules;
use sprig_prune::classifier::TrainConfig;
use sprig_prune::engine::{Distillation, FinalStart};
use sprig_report::DefaultOption;

/// The evaluation's data sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dataset {
    /// MNIST handwritten digits.
    Mnist,
    /// CIFAR-10 natural images.
    Cifar10,
    /// TREC question classification, 6 coarse classes.
    Trec,
    /// MR movie-review sentence polarity.
    Mr,
    /// The Free Spoken Digit Dataset (spoken digits 0–9).
    Fsdd,
    /// A user's own images, one folder per class ([`Experiment::folder`] says where).
    Images,
    /// A user's own texts: `train.csv` and `test.csv` of `class index,text` records
    /// (Zhang et al. 2015's layout), class names from `classes.txt` when present
    /// ([`Experiment::folder`] says where).
    TextCsv,
    /// A user's own recordings, one folder of `.wav` files per label (Google Speech
    /// Commands' layout, with its `validation_list.txt` / `testing_list.txt` when present;
    /// [`Experiment::folder`] says where).
    AudioFolders,
}

impl Dataset {
    /// Every data set, in the order they are listed to users.
    pub const ALL: [Dataset; 8] = [
        Dataset::Mnist,
        Dataset::Cifar10,
        Dataset::Trec,
        Dataset::Mr,
        Dataset::Fsdd,
        Dataset::Images,
        Dataset::TextCsv,
        Dataset::AudioFolders,
    ];

    /// The name used in result files (and the folder under the data directory).
    pub fn name(self) -> &'static str {
        match self {
            Dataset::Mnist => "mnist",
            Dataset::Cifar10 => "cifar10",
            Dataset::Trec => "trec",
            Dataset::Mr => "mr",
            Dataset::Fsdd => "fsdd",
            Dataset::Images => "images",
            Dataset::TextCsv => "text-csv",
            Dataset::AudioFolders => "audio-folders",
        }
    }

    /// What its examples are.
    pub fn modality(self) -> Modality {
        match self {
            Dataset::Mnist | Dataset::Cifar10 | Dataset::Images => Modality::Image,
            Dataset::Trec | Dataset::Mr | Dataset::TextCsv => Modality::Text,
            Dataset::Fsdd | Dataset::AudioFolders => Modality::Audio,
        }
    }

    /// One image's `[channels, height, width]`, for the built-in image data sets (an image
    /// folder's is known once it is read).
    pub fn image_shape(self) -> Option<[usize; 3]> {
        match self {
            Dataset::Mnist => Some([1, 28, 28]),
            Dataset::Cifar10 => Some([3, 32, 32]),
            _ => None,
        }
    }

    /// Number of classes of a built-in data set (a user's data set's is known once it is
    /// read: 0 here).
    pub fn classes(self) -> usize {
        match self {
            Dataset::Mnist | Dataset::Cifar10 | Dataset::Fsdd => 10,
            Dataset::Trec => 6,
            Dataset::Mr => 2,
            Dataset::Images | Dataset::TextCsv | Dataset::AudioFolders => 0,
        }
    }

    /// Whether it is a user's own data set, read from [`Experiment::folder`].
    pub fn is_own(self) -> bool {
        matches!(
            self,
            Dataset::Images | Dataset::TextCsv | Dataset::AudioFolders
        )
    }
}

impl std::str::FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dataset::ALL
            .into_iter()
            .find(|d| d.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let known: Vec<&str> = Dataset::ALL.iter().map(|d| d.name()).collect();
                format!(
                    "unknown data set `{s}`: known data sets are {}",
                    known.join(", ")
                )
            })
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an experiment runs (the `method` of a result row; `docs/algorithm.md` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// One dense training for the budget.
    Dense,
    /// Unconstrained IMP: the LTH schedule with a fixed number of iterations per round.
    Imp,
    /// Sprig's time-budgeted IMP.
    Budgeted,
    /// One round of magnitude pruning in the same budget (R = 1).
    OneShot,
    /// A random mask with the budgeted ticket's per-tensor sparsity, from θ0.
    RandomPrune,
    /// The budgeted ticket's mask with freshly drawn initial weights.
    RandomReinit,
    /// Gradual magnitude pruning (Zhu & Gupta 2017) in one training filling the budget:
    /// trained sparse weights, not a ticket.
    Gmp,
    /// The LTH paper's IMP (at most 20 % per round, the output layer and convolutions at
    /// half that, each tensor ranked on its own, rewound to θ0 every round) with its
    /// training length cut so that every round fits the budget.
    TruncatedImp,
}

impl Method {
    /// The name used in result files.
    pub fn name(self) -> &'static str {
        match self {
            Method::Dense => "dense",
            Method::Imp => "imp",
            Method::Budgeted => "budgeted",
            Method::OneShot => "one_shot",
            Method::RandomPrune => "random_prune",
            Method::RandomReinit => "random_reinit",
            Method::Gmp => "gmp",
            Method::TruncatedImp => "truncated_imp",
        }
    }

    /// Whether this method needs the budgeted ticket of the same seed, budget and target.
    pub fn needs_ticket(self) -> bool {
        matches!(self, Method::RandomPrune | Method::RandomReinit)
    }

    /// Whether a run of this method can resume from the checkpoint of its last finished
    /// training (the methods the budgeted engine runs).
    pub fn resumable(self) -> bool {
        matches!(
            self,
            Method::Budgeted | Method::OneShot | Method::TruncatedImp
        )
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The fixed schedule of unconstrained IMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImpSchedule {
    /// Pruning rounds to reach the target.
    pub rounds: u32,
    /// Iterations of every training.
    pub iterations: u64,
}

/// The evaluation table an experiment belongs to, named in lower case (`vision`, …):
/// the stem of the table's files and the `domain` of its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Domain {
    /// MNIST and CIFAR-10 (`docs/results/vision.*`).
    Vision,
    /// TREC and MR (`docs/results/text.*`).
    Text,
    /// Spoken digits (`docs/results/audio.*`).
    Audio,
    /// Exported tickets: bytes, latency, accuracy (`docs/results/edge.*`).
    Edge,
}

impl Domain {
    /// Its name: the stem of its result files.
    pub fn name(self) -> &'static str {
        match self {
            Domain::Vision => "vision",
            Domain::Text => "text",
            Domain::Audio => "audio",
            Domain::Edge => "edge",
        }
    }
}

impl fmt::Display for Domain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One experiment: everything that decides its result except the machine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Experiment {
    /// The table it belongs to (for a user's own run: its data set's kind).
    pub domain: Domain,
    /// The data set.
    pub dataset: Dataset,
    /// The architecture.
    pub model: Architecture,
    /// What runs.
    pub method: Method,
    /// Drives every random choice: θ0, the validation split, batch order, random masks.
    pub seed: u64,
    /// The backend it trains on (named `flex`, `ndarray`, `tch-cpu`, … in its JSON), or
    /// `auto`: the fastest compiled one, timed on this model when the run starts (the
    /// result row names the one used and every candidate's time).
    pub backend: BackendChoice,
    /// Wall-clock budget in seconds, end to end; `None` for unconstrained IMP.
    pub budget_s: Option<f64>,
    /// Target sparsity over the prunable weights (0 for dense).
    pub target_sparsity: f64,
    /// Optimiser, batch and learning-rate schedule.
    pub train: TrainConfig,
    /// Validate every this many iterations.
    pub eval_every: u64,
    /// The schedule of unconstrained IMP (only for [`Method::Imp`]).
    pub imp: Option<ImpSchedule>,
    /// The round policy of a budgeted run, and of the budgeted run whose ticket a random
    /// control takes (`None`: the library's default). Part of the canonical form when
    /// set, so a change of policy never reuses another policy's result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<BuiltinPolicy>,
    /// Tokenisation and vocabulary of a text data set (`None` for images).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<VocabConfig>,
    /// Split and spectrogram settings of an audio data set (`None` otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio: Option<AudioSettings>,
    /// How magnitude ranking groups the weights (`None`: one global pool, uniform rates).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pruning: Option<Pruning>,
    /// Late rewinding: ticket trainings start from the weights after this many iterations
    /// of the dense training instead of θ0 (`None`: θ0, as the LTH paper).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rewind_iteration: Option<u64>,
    /// Where a budgeted run's final training starts (`None`: the rewind point, a lottery
    /// ticket; `last_ranking`: learning-rate rewinding from the weights the last prune
    /// ranked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_start: Option<FinalStart>,
    /// A budgeted run's final training also learns from the dense training's selected
    /// weights (knowledge distillation; `None`: from the labels alone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distill: Option<Distillation>,
    /// Where a user's own data set is and how it is split ([`Dataset::is_own`] only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub folder: Option<DataFolder>,
    /// Which tensors are pruned, by path pattern (`None`: the model's own list, or the
    /// defaults of `sprig_prune::discover` for a model that lists none). Set, the
    /// prunable tensors are found by visiting the model under these rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<PruneRules>,
    /// GMP only: the share of the planned iterations at which its sparsity ramp ends
    /// (`None`: `GradualPruning::RAMP_END`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gmp_ramp_end: Option<f64>,
}

/// A user's data folder: for images, class folders (`CLASS/*.png|jpg`) or `train/` and
/// `test/` folders of class folders; for texts, `train.csv` and `test.csv`; for audio,
/// label folders of `.wav` files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFolder {
    /// The folder (absolute, so the run's name does not depend on where it was started).
    pub dir: PathBuf,
    /// The validation share of the training examples, and, for an image folder without
    /// `test/`, the test share (texts have their test file; audio folders their
    /// `testing_list.txt`, or a seeded 10 %).
    pub split: FolderSplit,
}

/// How the magnitude ranking of a run groups the weights.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pruning {
    /// One global pool or each tensor on its own.
    pub scope: Scope,
    /// Per-layer-kind multipliers of the pruning rate.
    pub rates: LayerRates,
}

impl Default for Pruning {
    /// Global magnitude pruning with uniform rates (the LTH paper's for LeNet).
    fn default() -> Self {
        Self {
            scope: Scope::Global,
            rates: LayerRates::uniform(),
        }
    }
}

/// How an audio data set is split and turned into spectrograms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioSettings {
    /// Official or speaker-held-out.
    pub split: FsddSplit,
    /// The log-mel spectrogram.
    pub features: FeatureConfig,
}

impl Experiment {
    /// The canonical form: compact JSON of every field, in declaration order.
    pub fn canonical(&self) -> String {
        /// The experiment's fields, then the model's revision when it is not 0 (so the
        /// forms, and run folders, of every experiment before a first revision stay).
        #[derive(Serialize)]
        struct Canonical<'a> {
            #[serde(flatten)]
            experiment: &'a Experiment,
            #[serde(skip_serializing_if = "is_zero")]
            model_revision: u32,
        }
        fn is_zero(n: &u32) -> bool {
            *n == 0
        }
        serde_json::to_string(&Canonical {
            experiment: self,
            model_revision: self.model.revision(),
        })
        .expect("an experiment always serialises")
    }

    /// The first 10 hex digits of the SHA-256 of the canonical form.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.canonical().as_bytes());
        digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
    }

    /// The run folder, relative to the runs root: readable parts for people, the hash so
    /// two configurations never share a folder.
    pub fn run_dir(&self) -> PathBuf {
        let budget = self
            .budget_s
            .map_or_else(|| "unbudgeted".to_string(), |b| format!("{b}s"));
        PathBuf::from(format!("{}-{}", self.dataset, self.model)).join(format!(
            "{}-{budget}-s{}-{}-seed{}-{}-{}",
            self.method,
            self.target_sparsity,
            self.train.schedule,
            self.seed,
            self.backend,
            self.hash()
        ))
    }

    /// How the report tells runs of different round policies apart.
    pub fn variant(&self) -> Option<String> {
        // The split names FSDD's; a user's audio folders are split by their own lists.
        let fsdd = self
            .audio
            .as_ref()
            .filter(|_| self.dataset == Dataset::Fsdd);
        let split = fsdd.map(|a| match &a.split {
            FsddSplit::Official => "official split".to_string(),
            FsddSplit::Speaker(s) => format!("speaker {s} held out"),
        });
        let ramp = self
            .gmp_ramp_end
            .filter(|_| self.method == Method::Gmp)
            .map(|r| format!("ramp ends at {r} of the training"));
        let policy = self.policy.and_then(|p| match self.method {
            // Its rounds follow from the target and the budget (the rounds column).
            Method::TruncatedImp => None,
            Method::RandomPrune | Method::RandomReinit
                if p == crate::defaults::budgeted_policy() =>
            {
                Some(if self.ticket_source().is_default() {
                    "of the default ticket".to_string()
                } else {
                    "of the θ0 ticket".to_string()
                })
            }
            _ => Some(policy_label(&p)),
        });
        let parts: Vec<String> = [
            policy.or(ramp),
            self.pruning_label(),
            self.rewind_iteration
                .map(|k| format!("rewound to iteration {k}")),
            self.final_start
                .filter(|&f| f == FinalStart::LastRanking)
                .map(|_| "final training resumes the last ranking".to_string()),
            self.distill.map(|d| {
                format!(
                    "distilled from the dense training (T {}, weight {})",
                    d.temperature, d.weight
                )
            }),
            split,
            self.products_label().map(str::to_string),
        ]
        .into_iter()
        .flatten()
        .collect();
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// The products a run computes with when they are not `sprig prune`'s: the sparse
    /// products where the model computes with them, the dense ones elsewhere.
    fn products_label(&self) -> Option<&'static str> {
        match (self.train.sparse_products, self.model.computes_sparsely()) {
            (true, false) => Some("sparse products"),
            (false, true) => Some("dense products"),
            _ => None,
        }
    }

    /// The pruning scope and rates when they are not what the method and the data set's
    /// kind use by default (IMP's are always the LTH paper's; text ranks each tensor on
    /// its own; everything else is one global pool at uniform rates).
    fn pruning_label(&self) -> Option<String> {
        if matches!(
            self.method,
            Method::Imp | Method::TruncatedImp | Method::Dense
        ) {
            return None;
        }
        let usual = match self.dataset.modality() {
            Modality::Text => crate::defaults::text_pruning(),
            _ => Pruning::default(),
        };
        let p = self.pruning.clone().unwrap_or_default();
        (p != usual).then(|| {
            let scope = match p.scope {
                Scope::Global => "global",
                Scope::Layerwise => "layerwise",
            };
            if p.rates == LayerRates::uniform() {
                format!("{scope} pruning")
            } else {
                format!("{scope} pruning at per-kind rates")
            }
        })
    }

    /// The rate multipliers of the pruning: the [`Pruning`] setting's, plus the rules'
    /// per-pattern ones under the kinds `sprig_prune::discover` gives the tensors they
    /// match ([`sprig_mask::PatternKind`]).
    ///
    /// # Errors
    /// A rate that is negative or not finite.
    pub fn pruning_rates(&self) -> Result<LayerRates, sprig_mask::MaskError> {
        let mut rates = self.pruning.clone().unwrap_or_default().rates;
        for (pattern, rate) in self.rules.iter().flat_map(|r| &r.rates) {
            rates.set_for_pattern(pattern, *rate)?;
        }
        Ok(rates)
    }

    /// The data split's name where the data set has several (FSDD).
    pub fn split_name(&self) -> Option<String> {
        let audio = self
            .audio
            .as_ref()
            .filter(|_| self.dataset == Dataset::Fsdd)?;
        Some(match &audio.split {
            FsddSplit::Official => "official".into(),
            FsddSplit::Speaker(s) => format!("speaker:{s}"),
        })
    }

    /// Whether this is a budgeted run as Sprig runs it by default (the evaluation's round
    /// policy, learning-rate schedule, late rewinding to [`crate::defaults::late_rewind`],
    /// and the sparse products where the model computes with them, as `sprig prune` does),
    /// not an ablation.
    pub fn is_default(&self) -> bool {
        self.method == Method::Budgeted
            && self.policy == Some(crate::defaults::budgeted_policy())
            && self.train.sparse_products == self.model.computes_sparsely()
            && self.train.schedule == sprig_prune::classifier::LrSchedule::default()
            && self.rewind_iteration == crate::defaults::late_rewind(self.model.modality())
            && self.final_start.is_none()
            && self.distill.is_none()
    }

    /// The option of `sprig prune` that this run adds to the default budgeted method, if it
    /// is the default but for one that `--method auto` may choose.
    pub fn default_option(&self) -> Option<DefaultOption> {
        let without = Experiment {
            final_start: None,
            // A final training that resumes the last ranking never uses the rewind point.
            rewind_iteration: crate::defaults::late_rewind(self.model.modality()),
            ..self.clone()
        };
        (self.final_start == Some(FinalStart::LastRanking) && without.is_default())
            .then_some(DefaultOption::FinalResumes)
    }

    /// The budgeted experiment whose ticket a random control reuses.
    pub fn ticket_source(&self) -> Experiment {
        Experiment {
            method: Method::Budgeted,
            imp: None,
            ..self.clone()
        }
    }
}

/// A short name for a round policy, for tables.
pub fn policy_label(policy: &BuiltinPolicy) -> String {
    match policy {
        BuiltinPolicy::Convergence(c) => {
            let mut label = if c.final_share > 0.0 {
                format!("final-heavy {}", c.final_share)
            } else {
                "equal trainings".into()
            };
            if let Some(overlap) = c.ranking_overlap {
                label.push_str(&format!(", early-bird {overlap}"));
            }
            if let Some(agreement) = c.ranking_agreement {
                label.push_str(&format!(", early-bird {agreement} of the removals"));
            }
            let ranking = if c.ranking_resumes {
                ", resumed ranking"
            } else {
                ", ranking"
            };
            match c.ranking_share {
                Some(share) => label.push_str(&format!("{ranking} {share} j*")),
                None if c.ranking_resumes => label.push_str(ranking),
                None => {}
            }
            if let Some(share) = c.dense_cooldown {
                label.push_str(&format!(", dense cool-down {share} j*"));
            }
            if let Some(cap) = c.final_cap {
                label.push_str(&format!(", final at most {cap} j*"));
                if c.final_takes_rest {
                    label.push_str(" in the plans, then all the time left");
                }
            }
            if c.gentle_rate != ConvergencePolicy::DEFAULT_GENTLE_RATE {
                label.push_str(&format!(", rounds up to {} per round", c.gentle_rate));
            }
            label
        }
        BuiltinPolicy::Fixed(f) => format!("{} rounds", f.0),
        BuiltinPolicy::Max(_) => "max rounds".into(),
    }
}

/// A budgeted LeNet-300-100 run on MNIST (120 s, 90 %, seed 1, on flex): the experiment
/// the crate's tests vary.
#[cfg(test)]
pub(crate) fn lenet_for_tests() -> Experiment {
    Experiment {
        // What `sprig prune` would run, but the library's policy and rewind point (θ0).
        policy: None,
        rewind_iteration: None,
        ..crate::defaults::single(
            Dataset::Mnist,
            Architecture::Lenet300100,
            Method::Budgeted,
            1,
            sprig_backend::Backend::Flex,
            120.0,
            0.9,
        )
        .expect("LeNet-300-100 takes MNIST's images")
    }
}

#[cfg(test)]
mod tests {
    use super::lenet_for_tests as lenet;
    use super::*;
    use sprig_prune::classifier::LrSchedule;

    #[test]
    fn run_dir_names_the_configuration() {
        let a = lenet();
        let dir = a.run_dir();
        assert_eq!(dir, lenet().run_dir(), "stable");
        let text = dir.to_string_lossy();
        assert!(
            text.starts_with("mnist-lenet-300-100/budgeted-120s-s0.9-linear_decay-seed1-flex-")
        );
        let mut b = lenet();
        b.train.schedule = LrSchedule::Constant;
        assert_ne!(a.run_dir(), b.run_dir());
        let mut c = lenet();
        c.train.learning_rate = 1e-3;
        assert_ne!(
            a.hash(),
            c.hash(),
            "every field counts, even unnamed in the folder"
        );
    }

    /// What `sprig prune --method budgeted` runs for `model` on `dataset` (120 s, 0.964).
    fn budgeted_as_sprig_prunes(model: Architecture, dataset: Dataset) -> Experiment {
        crate::defaults::single(
            dataset,
            model,
            Method::Budgeted,
            0,
            sprig_backend::Backend::Flex,
            120.0,
            0.964,
        )
        .expect("the model takes the data set")
    }

    #[test]
    fn only_the_default_with_one_choosable_option_names_that_option() {
        let check = |change: &dyn Fn(&mut Experiment), expected: Option<DefaultOption>| {
            let mut e = budgeted_as_sprig_prunes(Architecture::Lenet300100, Dataset::Mnist);
            change(&mut e);
            assert_eq!(e.default_option(), expected, "{:?}", e.variant());
        };
        let resumed = |e: &mut Experiment| e.final_start = Some(FinalStart::LastRanking);
        check(&|_| {}, None);
        check(&resumed, Some(DefaultOption::FinalResumes));
        // A final training that resumes never uses the rewind point, θ0 or late.
        check(
            &|e| {
                resumed(e);
                e.rewind_iteration = None;
            },
            Some(DefaultOption::FinalResumes),
        );
        // With a second change the row is an ablation, not the default plus one option.
        check(
            &|e| {
                resumed(e);
                e.distill = Some(Distillation::DEFAULT);
            },
            None,
        );
        check(
            &|e| {
                resumed(e);
                e.method = Method::Gmp;
            },
            None,
        );
        check(&|e| e.final_start = Some(FinalStart::RewindPoint), None);
        // LeNet's default computes with the sparse products, as `sprig prune` does.
        check(
            &|e| {
                resumed(e);
                e.train.sparse_products = false;
            },
            None,
        );
    }

    #[test]
    fn the_default_is_what_sprig_prune_runs() {
        let check = |(model, dataset), change: &dyn Fn(&mut Experiment), expected: bool| {
            let mut e = budgeted_as_sprig_prunes(model, dataset);
            change(&mut e);
            assert_eq!(e.is_default(), expected, "{:?}", e.variant());
        };
        let lenet = (Architecture::Lenet300100, Dataset::Mnist);
        let textcnn = (Architecture::TextCnn, Dataset::Trec);
        check(lenet, &|_| {}, true);
        check(lenet, &|e| e.train.sparse_products = false, false);
        check(textcnn, &|_| {}, true);
        check(textcnn, &|e| e.train.sparse_products = true, false);
        check(lenet, &|e| e.method = Method::Gmp, false);
        // Image models' default rewinds late; text models' to θ0.
        check(lenet, &|e| e.rewind_iteration = None, false);
        check(lenet, &|e| e.rewind_iteration = Some(100), false);
        check(textcnn, &|e| e.rewind_iteration = Some(100), false);
    }

    #[test]
    fn the_variant_names_every_setting_that_sets_a_row_apart() {
        let check = |change: &dyn Fn(&mut Experiment), expected: Option<&str>| {
            let mut e = lenet();
            change(&mut e);
            assert_eq!(e.variant().as_deref(), expected);
        };
        check(&|_| {}, None);
        let layerwise = Pruning {
            scope: Scope::Layerwise,
            rates: LayerRates::uniform(),
        };
        check(
            &|e| e.pruning = Some(layerwise.clone()),
            Some("layerwise pruning"),
        );
        check(&|e| e.pruning = Some(Pruning::default()), None);
        check(
            &|e| {
                e.pruning = Some(Pruning {
                    rates: LayerRates::lth(),
                    ..Pruning::default()
                })
            },
            Some("global pruning at per-kind rates"),
        );
        check(
            &|e| e.rewind_iteration = Some(500),
            Some("rewound to iteration 500"),
        );
        check(
            &|e| {
                e.policy = Some(BuiltinPolicy::Convergence(ConvergencePolicy::default()));
                e.rewind_iteration = Some(500);
            },
            Some("equal trainings; rewound to iteration 500"),
        );
        check(
            &|e| e.final_start = Some(FinalStart::LastRanking),
            Some("final training resumes the last ranking"),
        );
        check(
            &|e| e.distill = Some(Distillation::DEFAULT),
            Some("distilled from the dense training (T 4, weight 0.5)"),
        );
        // Text ranks each tensor on its own by default; IMP always uses the LTH paper's.
        check(
            &|e| {
                e.dataset = Dataset::Trec;
                e.model = Architecture::TextCnn;
                e.train.sparse_products = false;
                e.pruning = Some(layerwise.clone());
            },
            None,
        );
        check(
            &|e| {
                e.method = Method::TruncatedImp;
                e.pruning = Some(crate::defaults::lth_pruning());
            },
            None,
        );
        // Truncated IMP's rounds follow from the budget: the rounds column gives them.
        check(
            &|e| {
                e.method = Method::TruncatedImp;
                e.policy = Some(BuiltinPolicy::Fixed(sprig_budget::FixedRounds(19)));
            },
            None,
        );
        // A random control names the ticket it reuses: on LeNet, whose default rewinds
        // late, the default policy's θ0 ticket; on a text model the default ticket.
        let control = |e: &mut Experiment| {
            e.method = Method::RandomPrune;
            e.policy = Some(crate::defaults::budgeted_policy());
        };
        check(&control, Some("of the θ0 ticket"));
        check(
            &|e| {
                control(e);
                e.dataset = Dataset::Trec;
                e.model = Architecture::TextCnn;
                e.train.sparse_products = false;
                e.pruning = Some(crate::defaults::text_pruning());
            },
            Some("of the default ticket"),
        );
        // `sprig prune` computes LeNet's late rounds with the surviving weights alone, and
        // other models densely.
        check(&|e| e.train.sparse_products = false, Some("dense products"));
        check(
            &|e| {
                e.model = Architecture::Conv2;
                e.dataset = Dataset::Cifar10;
                e.train.sparse_products = true;
            },
            Some("sparse products"),
        );
        check(
            &|e| {
                e.policy = Some(crate::defaults::cooled(
                    crate::defaults::resumed_ranking(0.1, 0.9),
                    0.5,
                ))
            },
            Some(
                "final-heavy 0.5, early-bird 0.9, resumed ranking 0.25 j*, dense cool-down 0.5 \
                 j*, rounds up to 0.1 per round",
            ),
        );
        check(
            &|e| e.policy = Some(crate::defaults::resumed_ranking_by_removals(0.1, 0.9)),
            Some(
                "final-heavy 0.5, early-bird 0.9 of the removals, resumed ranking 0.25 j*, \
                 rounds up to 0.1 per round",
            ),
        );
        check(
            &|e| {
                e.method = Method::RandomReinit;
                e.policy = Some(BuiltinPolicy::Convergence(ConvergencePolicy::default()));
            },
            Some("equal trainings"),
        );
    }

    /// Every committed run folder is the one its configuration names: a finished run is
    /// found again (none silently re-run) and no other configuration can take it.
    #[test]
    fn committed_run_folders_are_named_by_their_configuration() {
        let runs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/results/runs");
        let mut checked = 0;
        for group in std::fs::read_dir(&runs).unwrap() {
            let group = group.unwrap().path();
            if !group.is_dir() {
                continue; // the folder's own notes
            }
            for run in std::fs::read_dir(&group).unwrap() {
                let run = run.unwrap().path();
                let config = run.join("config.json");
                let Ok(text) = std::fs::read(&config) else {
                    continue; // a folder without a configuration is no run
                };
                let experiment: Experiment = serde_json::from_slice(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", config.display()));
                assert_eq!(
                    runs.join(experiment.run_dir()),
                    run,
                    "{} names another folder",
                    config.display()
                );
                checked += 1;
            }
        }
        assert!(checked > 0, "no run folder under {}", runs.display());
    }

    #[test]
    fn controls_point_at_the_budgeted_ticket() {
        let mut control = lenet();
        control.method = Method::RandomReinit;
        assert!(control.method.needs_ticket());
        assert_eq!(control.ticket_source(), lenet());
    }
}
