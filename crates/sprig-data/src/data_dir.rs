//! Where the project's data lives: `--data-dir`, else `$SPRIG_DATA`, else `./data`.

use std::path::PathBuf;

/// Environment variable naming the data directory when no flag is given.
pub const DATA_DIR_ENV: &str = "SPRIG_DATA";
/// Data directory used when neither the flag nor the variable is set.
pub const DEFAULT_DATA_DIR: &str = "./data";

/// The data directory: `flag` (from `--data-dir`) if given, else the
/// `SPRIG_DATA` environment variable if set and non-empty, else `./data`.
///
/// Only picks the path; whether it holds anything is the loaders' business,
/// so their "not found" error can list what was expected there.
pub fn data_dir(flag: Option<PathBuf>) -> PathBuf {
    data_dir_from(flag, std::env::var_os(DATA_DIR_ENV))
}

/// [`data_dir`] with the variable's value passed in (testable without
/// touching the process environment).
fn data_dir_from(flag: Option<PathBuf>, env: Option<std::ffi::OsString>) -> PathBuf {
    flag.or_else(|| env.filter(|v| !v.is_empty()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_beats_env_beats_default() {
        let f = Some(PathBuf::from("/flag"));
        let e = Some("/env".into());
        assert_eq!(data_dir_from(f.clone(), e.clone()), PathBuf::from("/flag"));
        assert_eq!(data_dir_from(None, e), PathBuf::from("/env"));
        assert_eq!(
            data_dir_from(None, Some("".into())),
            PathBuf::from("./data")
        );
        assert_eq!(data_dir_from(None, None), PathBuf::from("./data"));
    }
}
