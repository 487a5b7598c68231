//! What the `sprig` command does: typed experiments whose canonical form names their run
//! folder (so a finished experiment is never redone), the runner that trains one into its
//! ticket folder within its budget (resumable from a checkpoint), the plan of a run before
//! it starts, the method the committed tables advise, and the ticket's export.
//!
//! ```
//! use sprig_backend::Backend;
//! use sprig_models::Architecture;
//! use sprig_run::{Dataset, Method, defaults};
//!
//! let run = defaults::single(
//!     Dataset::Mnist, Architecture::Lenet300100, Method::Budgeted, 0, Backend::Flex, 90.0, 0.9,
//! ).unwrap();
//! // The canonical form names the run folder: the same run, the same folder.
//! let dir = run.run_dir();
//! assert!(dir.starts_with("mnist-lenet-300-100"));
//! assert_eq!(dir, defaults::single(
//!     Dataset::Mnist, Architecture::Lenet300100, Method::Budgeted, 0, Backend::Flex, 90.0, 0.9,
//! ).unwrap().run_dir());
//! // A text model on images is refused, with the models that fit.
//! let wrong = defaults::single(
//!     Dataset::Mnist, Architecture::TextCnn, Method::Budgeted, 0, Backend::Flex, 90.0, 0.9,
//! );
//! assert!(wrong.unwrap_err().to_string().contains("lenet-300-100"));
//! ```

pub mod advice;
pub mod checkpoint;
pub mod config;
pub mod defaults;
pub mod export;
pub mod logging;
pub mod probe;
pub mod runner;
pub mod ticket;

pub use config::{DataFolder, Dataset, Domain, Experiment, ImpSchedule, Method, Pruning};
pub use runner::Runner;
