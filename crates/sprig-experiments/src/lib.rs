//! Sprig's experiment runner: typed experiments whose canonical form names their run
//! folder (so a finished experiment is never redone), the ticket files each run leaves,
//! and the suites behind `cargo xtask eval DOMAIN`.
//!
//! ```
//! use sprig_experiments::{Dataset, Method, suite};
//! use sprig_models::Architecture;
//!
//! let run = suite::single(
//!     Dataset::Mnist, Architecture::Lenet300100, Method::Budgeted, 0, "flex", 90.0, 0.9,
//! ).unwrap();
//! // The canonical form names the run folder: the same run, the same folder.
//! let dir = run.run_dir();
//! assert!(dir.starts_with("mnist-lenet-300-100"));
//! assert_eq!(dir, suite::single(
//!     Dataset::Mnist, Architecture::Lenet300100, Method::Budgeted, 0, "flex", 90.0, 0.9,
//! ).unwrap().run_dir());
//! // A text model on images is refused, with the models that fit.
//! let wrong = suite::single(Dataset::Mnist, Architecture::TextCnn, Method::Budgeted, 0, "flex", 90.0, 0.9);
//! assert!(wrong.unwrap_err().to_string().contains("lenet-300-100"));
//! ```

pub mod advice;
pub mod checkpoint;
pub mod config;
pub mod edge;
pub mod logging;
pub mod machine;
pub mod probe;
pub mod runner;
pub mod suite;
pub mod ticket;

pub use config::{DataFolder, Dataset, Experiment, ImpSchedule, Method, Pruning};
pub use runner::Runner;
pub use suite::Mode;
