//! Sprig's evaluation harness: the suites behind `cargo xtask eval DOMAIN` (which
//! experiments each table runs), the edge benchmark of exported tickets, the tables'
//! interleaved timer, and the machine a table was measured on. Each experiment runs through `sprig-run`, as `sprig prune`
//! runs it.

pub mod edge;
pub mod machine;
pub mod suite;
pub mod timing;

pub use suite::Mode;
