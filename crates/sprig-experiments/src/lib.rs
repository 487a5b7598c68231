//! Sprig's experiment runner: typed experiments whose canonical form names their run
//! folder (so a finished experiment is never redone), the ticket files each run leaves,
//! and the suites behind `cargo xtask eval DOMAIN`.

pub mod checkpoint;
pub mod config;
pub mod edge;
pub mod machine;
pub mod probe;
pub mod runner;
pub mod suite;
pub mod ticket;

pub use config::{DataFolder, Dataset, Experiment, ImpSchedule, Method, Pruning};
pub use runner::Runner;
pub use suite::Mode;
