//! The staged real data sets for tests (shared by the test crates that read them): a test
//! that needs one fails when it is missing, unless `SPRIG_SKIP_REAL_DATA` is set, which
//! skips it and says so.

use std::path::{Path, PathBuf};

/// Set (to anything) on a machine without the staged data to skip the real-data tests.
pub const SKIP: &str = "SPRIG_SKIP_REAL_DATA";

/// Runs `test` with the data directory holding the data set folder `name` (`mnist`,
/// `cifar10`, `trec`, `mr`, `fsdd`): `$SPRIG_DATA`, else the staged `shared/data` beside
/// the repository. Without it the test fails naming what to set, unless [`SKIP`] is set.
pub fn with_real_data(name: &str, test: impl FnOnce(PathBuf)) {
    let beside = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    let found = [
        std::env::var_os("SPRIG_DATA").map(PathBuf::from),
        Some(beside),
    ]
    .into_iter()
    .flatten()
    .find(|dir| dir.join(name).is_dir());
    match found {
        Some(dir) => test(dir),
        None if std::env::var_os(SKIP).is_some() => {
            eprintln!("SKIPPED: no staged `{name}` data set, and {SKIP} is set");
        }
        None => panic!(
            "no staged `{name}` data set: set SPRIG_DATA to the data directory \
             (or {SKIP}=1 to skip the tests on real data)"
        ),
    }
}
