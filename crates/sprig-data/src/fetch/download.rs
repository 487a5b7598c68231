//! One file over HTTP(S) into `NAME.part`, resumed where a previous attempt stopped, and
//! checked against its published hash before anyone may use it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use md5::Md5;
use sha2::{Digest, Sha256};

use super::catalog::{Check, Download};
use super::{Event, FetchError};
use crate::vision::checksum::hex;

/// Times an interrupted transfer is resumed from the same server before the next one is
/// tried.
const RESUMES: usize = 3;
/// Bytes read between two progress events.
const CHUNK: usize = 1 << 16;

/// The HTTP client: one agent, so connections to a server are reused across its files.
#[derive(Debug)]
pub(crate) struct Http {
    agent: ureq::Agent,
}

/// Why one request did not deliver the whole file.
enum Attempt {
    /// The body stopped early; what arrived is kept in the `.part` file.
    Interrupted(String),
    /// The server could not be reached or refused the file: try the next one.
    Refused(String),
    /// Writing on this machine failed: no other server can help.
    Local(FetchError),
}

impl Http {
    pub(crate) fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_response(Some(Duration::from_secs(60)))
            // A stalled transfer ends as an interruption (and is resumed) instead of
            // hanging; an hour lets CIFAR-10's 170 MB through a slow link.
            .timeout_recv_body(Some(Duration::from_secs(3600)))
            // Statuses are read here: 206 and 416 answer a resumed request.
            .http_status_as_error(false)
            .user_agent(concat!("sprig/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.new_agent(),
        }
    }

    /// Downloads `d` into `dir/FILE.part` from `bases` in order, and returns that file
    /// once its bytes match the published hash (the caller moves it into place).
    ///
    /// # Errors
    /// [`FetchError::Download`] listing what every server answered (a partial transfer
    /// stays in `.part`, so running again resumes it); [`FetchError::Io`] when writing
    /// here fails.
    pub(crate) fn fetch(
        &self,
        d: &Download,
        bases: &[&str],
        dir: &Path,
        progress: &mut dyn FnMut(Event<'_>),
    ) -> Result<PathBuf, FetchError> {
        let part = dir.join(format!("{}.part", d.file));
        let mut failures = Vec::new();
        for base in bases {
            let url = d.url(base);
            let mut resumes = 0;
            loop {
                let resumed = part.exists();
                let outcome = self.get(&url, d.file, &part, progress);
                let reason = match outcome {
                    Ok(()) => match verify(&part, d.check) {
                        Ok(()) => {
                            progress(Event::Verified { file: d.file });
                            return Ok(part);
                        }
                        Err(mismatch) => {
                            remove(&part)?;
                            if resumed {
                                // The kept bytes may have come from another version of
                                // the file: once more, from the start.
                                progress(Event::Retrying {
                                    url: &url,
                                    reason: &mismatch,
                                });
                                continue;
                            }
                            format!("{mismatch} (the download was deleted)")
                        }
                    },
                    Err(Attempt::Interrupted(why)) if resumes < RESUMES => {
                        resumes += 1;
                        progress(Event::Retrying {
                            url: &url,
                            reason: &why,
                        });
                        continue;
                    }
                    Err(Attempt::Interrupted(why)) => why,
                    Err(Attempt::Refused(why)) => why,
                    Err(Attempt::Local(e)) => return Err(e),
                };
                progress(Event::Retrying {
                    url: &url,
                    reason: &reason,
                });
                failures.push(format!("{url}: {reason}"));
                break;
            }
        }
        let kept = part
            .metadata()
            .ok()
            .filter(|m| m.len() > 0)
            .map(|m| (part.clone(), m.len()));
        Err(FetchError::Download {
            file: d.file.to_owned(),
            failures,
            kept,
        })
    }

    /// One GET of `url` into `part`, continuing from the bytes already there.
    fn get(
        &self,
        url: &str,
        file: &str,
        part: &Path,
        progress: &mut dyn FnMut(Event<'_>),
    ) -> Result<(), Attempt> {
        let offset = part.metadata().map_or(0, |m| m.len());
        let mut request = self.agent.get(url);
        if offset > 0 {
            request = request.header("Range", format!("bytes={offset}-"));
        }
        let response = request
            .call()
            .map_err(|e| Attempt::Refused(e.to_string()))?;
        let status = response.status().as_u16();
        let content_length = response.body().content_length();
        let start = match status {
            200 => 0,
            206 if content_range_start(&response) == Some(offset) => offset,
            206 => {
                return Err(Attempt::Refused(
                    "answered a resumed request with another range".into(),
                ));
            }
            // Nothing left to send: the kept bytes are the whole file (the hash will tell).
            416 if offset > 0 => return Ok(()),
            _ => return Err(Attempt::Refused(format!("HTTP status {status}"))),
        };
        let total = content_length.map(|n| n + start);
        progress(Event::Started {
            file,
            url,
            from: start,
            total,
        });
        let mut out = open_part(part, start).map_err(Attempt::Local)?;
        let mut body = response.into_body().into_reader();
        let mut done = start;
        let mut buf = vec![0; CHUNK];
        loop {
            let n = match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) => {
                    out.flush()
                        .map_err(|e| Attempt::Local(FetchError::io(part, e)))?;
                    return Err(Attempt::Interrupted(format!(
                        "interrupted after {} ({e})",
                        of_total(done, total)
                    )));
                }
            };
            out.write_all(&buf[..n])
                .map_err(|e| Attempt::Local(FetchError::io(part, e)))?;
            done += n as u64;
            progress(Event::Progress { file, done, total });
        }
        out.sync_all()
            .map_err(|e| Attempt::Local(FetchError::io(part, e)))?;
        match total {
            Some(total) if done < total => Err(Attempt::Interrupted(format!(
                "the connection closed after {}",
                of_total(done, Some(total))
            ))),
            _ => Ok(()),
        }
    }
}

/// The first byte a 206 answer carries, from `Content-Range: bytes FIRST-LAST/TOTAL`.
fn content_range_start(response: &ureq::http::Response<ureq::Body>) -> Option<u64> {
    let value = response.headers().get("content-range")?.to_str().ok()?;
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

fn of_total(done: u64, total: Option<u64>) -> String {
    match total {
        Some(total) => format!("{done} of {total} bytes"),
        None => format!("{done} bytes"),
    }
}

fn open_part(part: &Path, start: u64) -> Result<File, FetchError> {
    let mut options = OpenOptions::new();
    options.create(true);
    if start == 0 {
        options.write(true).truncate(true);
    } else {
        options.append(true);
    }
    options.open(part).map_err(|e| FetchError::io(part, e))
}

fn remove(path: &Path) -> Result<(), FetchError> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(FetchError::io(path, e)),
        _ => Ok(()),
    }
}

/// Whether the file at `path` hashes to what `check` says; the message names both hashes.
pub(crate) fn verify(path: &Path, check: Check) -> Result<(), String> {
    let (algorithm, expected, actual) = match check {
        Check::Sha256(expected) => ("sha256", expected, digest::<Sha256>(path)?),
        Check::Md5(expected) => ("md5", expected, digest::<Md5>(path)?),
        Check::Unpacked => return Ok(()),
    };
    if actual == expected {
        Ok(())
    } else {
        let size = path.metadata().map_or(0, |m| m.len());
        Err(format!(
            "{algorithm} of the {size} bytes received is {actual}, the published {algorithm} is {expected}"
        ))
    }
}

/// Hex digest of a file, read in pieces (CIFAR-10's archive is 170 MB).
pub(crate) fn digest<D: Digest + Write>(path: &Path) -> Result<String, String> {
    let mut hasher = D::new();
    let mut file = File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    std::io::copy(&mut file, &mut hasher).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(hex(&hasher.finalize()))
}
