//! Downloads the data sets from their official locations into the data directory, in the
//! layout the loaders read (`sprig data fetch`; feature `fetch`).
//!
//! Nothing unchecked reaches a loader: a file arrives as `NAME.part`, is resumed from
//! there when a transfer breaks, and only takes its final name once its bytes match the
//! published hash (for archives with no stable hash, the unpacked files are checked
//! instead). A failed fetch leaves the data directory as it was, apart from the `.part`
//! file a later fetch resumes.
//!
//! ```no_run
//! use sprig_data::fetch::{DataSet, FetchOptions, fetch};
//!
//! let status = fetch(DataSet::Mnist, "data".as_ref(), &FetchOptions::default(), &mut |_| {})?;
//! println!("{status}");
//! # Ok::<(), sprig_data::fetch::FetchError>(())
//! ```

mod catalog;
mod download;
mod status;
mod unpack;

use std::path::{Path, PathBuf};

pub use catalog::{Check, DataSet, Download, Layout, Source, source};
pub use status::{State, Status, status};

use catalog::Layout as L;

/// How to fetch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FetchOptions {
    /// A server holding the published files under their original names (a lab's copy, or
    /// a test server), used instead of the official locations.
    pub mirror: Option<String>,
    /// Download again even when the data set is present.
    pub force: bool,
}

/// What a fetch is doing, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event<'a> {
    /// The data set is already there; nothing is downloaded.
    Present {
        /// Which.
        set: DataSet,
        /// What was found.
        detail: &'a str,
    },
    /// A transfer began (`from > 0`: resumed).
    Started {
        /// The file.
        file: &'a str,
        /// From where.
        url: &'a str,
        /// Bytes already here.
        from: u64,
        /// The whole file's size, when the server says.
        total: Option<u64>,
    },
    /// Bytes arrived.
    Progress {
        /// The file.
        file: &'a str,
        /// Bytes here so far.
        done: u64,
        /// The whole file's size, when the server says.
        total: Option<u64>,
    },
    /// An attempt failed; the next one (a resume, or the next server) follows.
    Retrying {
        /// The URL that failed.
        url: &'a str,
        /// Why.
        reason: &'a str,
    },
    /// A download matched its published hash.
    Verified {
        /// The file.
        file: &'a str,
    },
}

/// Why a fetch failed. The data directory holds no file under a final name that did not
/// pass its check.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// No server delivered the file intact.
    #[error(
        "could not download {file}:\n  {}{}",
        failures.join("\n  "),
        kept.as_ref().map_or(String::new(), |(path, n)| format!(
            "\n{n} bytes are kept in {}: run the same command again to resume",
            path.display()
        ))
    )]
    Download {
        /// The file.
        file: String,
        /// Each server's URL and answer.
        failures: Vec<String>,
        /// The partial file a later fetch resumes, and its length.
        kept: Option<(PathBuf, u64)>,
    },
    /// Reading or writing a local file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A downloaded archive is not what the data set's publisher ships.
    #[error("{}: {message} (the archive was deleted; run again to download it anew)", path.display())]
    Archive {
        /// The archive.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

impl FetchError {
    fn io(path: &Path, source: std::io::Error) -> Self {
        Self::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Downloads `set` into `data_dir/NAME/` unless it is already there (see
/// [`FetchOptions::force`]), and returns what is there afterwards.
///
/// # Errors
/// [`FetchError`] naming the file and every server's answer; nothing corrupt is left
/// under a final name.
pub fn fetch(
    set: DataSet,
    data_dir: &Path,
    options: &FetchOptions,
    progress: &mut dyn FnMut(Event<'_>),
) -> Result<Status, FetchError> {
    let before = status(set, data_dir);
    if before.state.is_present() && !options.force {
        progress(Event::Present {
            set,
            detail: &before.detail,
        });
        return Ok(before);
    }
    let dir = data_dir.join(set.name());
    std::fs::create_dir_all(&dir).map_err(|e| FetchError::io(&dir, e))?;
    let http = download::Http::new();
    let source = source(set);
    for d in source.downloads {
        let bases: Vec<&str> = match &options.mirror {
            Some(mirror) => vec![mirror.as_str()],
            None => d.bases.to_vec(),
        };
        let part = http.fetch(d, &bases, &dir, progress)?;
        let unpacked = match source.layout {
            L::Files => {
                let to = dir.join(d.file);
                std::fs::rename(&part, &to).map_err(|e| FetchError::io(&to, e))
            }
            L::CifarBinary => unpack::cifar_binary(&part, &dir),
            L::MrArchive => unpack::mr(&part, &dir),
            L::FsddArchive => unpack::fsdd(&part, &dir),
        };
        if source.layout != L::Files {
            // Checked and unpacked, or found wrong: either way the archive has done its job.
            std::fs::remove_file(&part).map_err(|e| FetchError::io(&part, e))?;
        }
        unpacked?;
    }
    Ok(status(set, data_dir))
}
