//! `sprig data fetch` and `sprig data list`: the data sets, downloaded from their official
//! locations and checked against the published hashes.

use std::path::PathBuf;

use anyhow::{Result, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use sprig_data::fetch::{DataSet, Event, FetchOptions, fetch, status};

use crate::progress::{Mode, SharedBar};

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Download data sets from where their authors publish them into the data directory,
    /// checked against the published hashes (an interrupted download resumes when run
    /// again; a data set already there is left alone).
    Fetch {
        /// mnist, cifar10, trec, mr, fsdd, or all.
        #[arg(required = true, value_name = "NAME")]
        sets: Vec<String>,
        /// Where the data sets go (default: $SPRIG_DATA, then ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// A server holding the published files under their original names (a lab's copy),
        /// used instead of the official locations.
        #[arg(long, value_name = "URL")]
        mirror: Option<String>,
        /// Download again even when the data set is there.
        #[arg(long)]
        force: bool,
    },
    /// Show which data sets the data directory holds, checked against the published hashes.
    List {
        /// The data directory (default: $SPRIG_DATA, then ./data).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

pub fn run(command: DataCommand, display: Mode, bar: SharedBar) -> Result<()> {
    match command {
        DataCommand::Fetch {
            sets,
            data_dir,
            mirror,
            force,
        } => {
            let data_dir = sprig_data::data_dir(data_dir);
            let options = FetchOptions { mirror, force };
            for set in parse_sets(&sets)? {
                let mut shown = Shown::new(display, bar.clone());
                let got = fetch(set, &data_dir, &options, &mut |event| shown.show(event));
                shown.finish();
                println!("{}", got?);
            }
            Ok(())
        }
        DataCommand::List { data_dir } => {
            let data_dir = sprig_data::data_dir(data_dir);
            let mut absent = Vec::new();
            for set in DataSet::ALL {
                let s = status(set, &data_dir);
                if !s.state.is_present() {
                    absent.push(set.name());
                }
                println!("{s}");
            }
            if !absent.is_empty() {
                println!(
                    "to download what is missing: sprig data fetch {} --data-dir {}",
                    absent.join(" "),
                    data_dir.display()
                );
            }
            Ok(())
        }
    }
}

/// The names on the command line, in order, each once; `all` is every data set.
fn parse_sets(names: &[String]) -> Result<Vec<DataSet>> {
    let mut sets = Vec::new();
    for name in names {
        let named = if name.eq_ignore_ascii_case("all") {
            DataSet::ALL.to_vec()
        } else {
            match name.parse::<DataSet>() {
                Ok(set) => vec![set],
                Err(e) => bail!(e),
            }
        };
        for set in named {
            if !sets.contains(&set) {
                sets.push(set);
            }
        }
    }
    Ok(sets)
}

/// A fetch's progress: a byte bar on a terminal, log lines otherwise.
struct Shown {
    display: Mode,
    bar: SharedBar,
    current: Option<ProgressBar>,
}

impl Shown {
    fn new(display: Mode, bar: SharedBar) -> Self {
        Self {
            display,
            bar,
            current: None,
        }
    }

    fn show(&mut self, event: Event<'_>) {
        match event {
            Event::Present { set, detail } => {
                tracing::info!(%set, "already there, not downloaded: {detail}");
            }
            Event::Started {
                file,
                url,
                from,
                total,
            } => {
                tracing::info!(file, url, resumed_at = from, bytes = total, "downloading");
                if self.display == Mode::Bar {
                    self.start_bar(file, from, total);
                }
            }
            Event::Progress { done, .. } => {
                if let Some(bar) = &self.current {
                    bar.set_position(done);
                }
            }
            Event::Retrying { url, reason } => {
                tracing::warn!(url, "{reason}; trying again");
            }
            Event::Verified { file } => {
                self.finish();
                tracing::info!(file, "checksum matches the published one");
            }
        }
    }

    fn start_bar(&mut self, file: &str, from: u64, total: Option<u64>) {
        self.finish();
        let bar = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
        let style = ProgressStyle::with_template(
            "{msg} {wide_bar} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} eta {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_message(file.to_owned());
        bar.set_position(from);
        self.bar.set(Some(bar.clone()));
        self.current = Some(bar);
    }

    fn finish(&mut self) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
            self.bar.set(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_and_repeats_name_each_set_once_in_order() {
        let names = |list: &[&str]| -> Result<Vec<&'static str>> {
            let owned: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            Ok(parse_sets(&owned)?.into_iter().map(DataSet::name).collect())
        };
        assert_eq!(
            names(&["mnist", "MNIST", "trec"]).unwrap(),
            ["mnist", "trec"]
        );
        assert_eq!(
            names(&["fsdd", "all"]).unwrap(),
            ["fsdd", "trec", "mr", "mnist", "cifar10"]
        );
        let err = names(&["mnist", "svhn"]).unwrap_err().to_string();
        assert!(err.starts_with("unknown data set \"svhn\""), "{err}");
    }
}
