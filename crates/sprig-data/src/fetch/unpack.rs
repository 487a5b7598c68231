//! Archives into the layout the loaders read. Each is unpacked into a temporary folder
//! beside its destination, checked there, and only then renamed into place, so a broken
//! archive leaves nothing behind.

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::GzDecoder;
use tempfile::TempDir;

use super::FetchError;
use super::catalog::{FSDD_RECORDINGS, FSDD_SUMS_SHA256, MR_FILES};
use crate::vision::checksum::sha256_hex;
use crate::vision::cifar_bin::{
    CIFAR10_BIN_SUBDIR, CIFAR10_FILE_LEN, CIFAR10_META_FILE, CIFAR10_TEST_FILE, CIFAR10_TRAIN_FILES,
};

/// FSDD's folder of WAV files, in the release and in the data directory.
pub(crate) const FSDD_RECORDINGS_DIR: &str = "recordings";
/// The list of the recordings' hashes the audio loader checks them against.
const FSDD_SUMS_FILE: &str = "SHA256SUMS";

/// `cifar-10-binary.tar.gz` → `dir/cifar-10-batches-bin/` (six batches and the class
/// names), each batch checked for its size.
pub(crate) fn cifar_binary(archive: &Path, dir: &Path) -> Result<(), FetchError> {
    let wanted: Vec<&str> = CIFAR10_TRAIN_FILES
        .iter()
        .copied()
        .chain([CIFAR10_TEST_FILE, CIFAR10_META_FILE])
        .collect();
    let staging = staging(dir)?;
    let out = staging.path().join(CIFAR10_BIN_SUBDIR);
    std::fs::create_dir(&out).map_err(|e| FetchError::io(&out, e))?;
    each_tar_member(archive, |member, reader| {
        let Some(name) = under(member, CIFAR10_BIN_SUBDIR) else {
            return Ok(());
        };
        if wanted.contains(&name) {
            copy_to(reader, &out.join(name))?;
        }
        Ok(())
    })?;
    for name in CIFAR10_TRAIN_FILES.iter().chain([&CIFAR10_TEST_FILE]) {
        let len = out.join(name).metadata().map_or(0, |m| m.len());
        if len != CIFAR10_FILE_LEN as u64 {
            return Err(archive_error(
                archive,
                format!("{CIFAR10_BIN_SUBDIR}/{name}: {len} bytes, expected {CIFAR10_FILE_LEN}"),
            ));
        }
    }
    replace(&out, &dir.join(CIFAR10_BIN_SUBDIR))
}

/// `rt-polaritydata.tar.gz` → `dir/rt-polarity.{pos,neg}`, re-encoded from Windows-1252
/// to UTF-8 and checked against the hashes the MR loader knows.
pub(crate) fn mr(archive: &Path, dir: &Path) -> Result<(), FetchError> {
    let staging = staging(dir)?;
    each_tar_member(archive, |member, reader| {
        let Some(name) = under(member, "rt-polaritydata") else {
            return Ok(());
        };
        if let Some(known) = MR_FILES.iter().find(|k| k.name == name) {
            let mut bytes = Vec::new();
            reader
                .read_to_end(&mut bytes)
                .map_err(|e| archive_error(archive, format!("{member}: {e}")))?;
            let (text, _) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(&bytes);
            let actual = sha256_hex(text.as_bytes());
            if actual != known.sha256 {
                return Err(archive_error(
                    archive,
                    format!(
                        "{member} in UTF-8 has sha256 {actual}, expected {}",
                        known.sha256
                    ),
                ));
            }
            let path = staging.path().join(name);
            std::fs::write(&path, text.as_bytes()).map_err(|e| FetchError::io(&path, e))?;
        }
        Ok(())
    })?;
    for known in MR_FILES {
        let from = staging.path().join(known.name);
        if !from.is_file() {
            return Err(archive_error(
                archive,
                format!("no rt-polaritydata/{}", known.name),
            ));
        }
        replace(&from, &dir.join(known.name))?;
    }
    Ok(())
}

/// FSDD's release zip → `dir/recordings/*.wav` and `dir/SHA256SUMS`, the recordings
/// checked as a whole against the release's list of hashes.
pub(crate) fn fsdd(archive: &Path, dir: &Path) -> Result<(), FetchError> {
    let staging = staging(dir)?;
    let recordings = staging.path().join(FSDD_RECORDINGS_DIR);
    std::fs::create_dir(&recordings).map_err(|e| FetchError::io(&recordings, e))?;
    let file = File::open(archive).map_err(|e| FetchError::io(archive, e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| archive_error(archive, e.to_string()))?;
    for i in 0..zip.len() {
        let mut entry = zip
            .by_index(i)
            .map_err(|e| archive_error(archive, e.to_string()))?;
        let member = entry.name().to_owned();
        // `free-spoken-digit-dataset-1.0.10/recordings/0_george_0.wav`
        let name = member
            .split_once(&format!("/{FSDD_RECORDINGS_DIR}/"))
            .map(|(_, name)| name);
        if let Some(name) = name.filter(|n| n.ends_with(".wav") && !n.contains('/')) {
            copy_to(&mut entry, &recordings.join(name))
                .map_err(|e| archive_error(archive, format!("{member}: {e}")))?;
        }
    }
    let sums = sums_of(&recordings).map_err(|e| FetchError::io(&recordings, e))?;
    let count = sums.lines().count();
    let actual = sha256_hex(sums.as_bytes());
    if actual != FSDD_SUMS_SHA256 {
        return Err(archive_error(
            archive,
            format!(
                "its {count} recordings (release v1.0.10 has {FSDD_RECORDINGS}) have a list of \
                 hashes with sha256 {actual}, expected {FSDD_SUMS_SHA256}"
            ),
        ));
    }
    replace(&recordings, &dir.join(FSDD_RECORDINGS_DIR))?;
    let sums_path = staging.path().join(FSDD_SUMS_FILE);
    std::fs::write(&sums_path, &sums).map_err(|e| FetchError::io(&sums_path, e))?;
    replace(&sums_path, &dir.join(FSDD_SUMS_FILE))
}

/// `HASH  recordings/NAME.wav` lines, sorted by name: the format of FSDD's `SHA256SUMS`
/// (what `sha256sum recordings/*.wav` prints).
pub(crate) fn sums_of(recordings: &Path) -> std::io::Result<String> {
    let mut names: Vec<String> = std::fs::read_dir(recordings)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".wav"))
        .collect();
    names.sort();
    let mut sums = String::new();
    for name in names {
        let bytes = std::fs::read(recordings.join(&name))?;
        sums.push_str(&format!(
            "{}  {FSDD_RECORDINGS_DIR}/{name}\n",
            sha256_hex(&bytes)
        ));
    }
    Ok(sums)
}

/// A temporary folder inside `dir`, so the final renames stay on one file system.
fn staging(dir: &Path) -> Result<TempDir, FetchError> {
    tempfile::Builder::new()
        .prefix(".unpacking-")
        .tempdir_in(dir)
        .map_err(|e| FetchError::io(dir, e))
}

/// Calls `f` with each member's path and contents, in archive order.
fn each_tar_member(
    archive: &Path,
    mut f: impl FnMut(&str, &mut dyn Read) -> Result<(), FetchError>,
) -> Result<(), FetchError> {
    let file = File::open(archive).map_err(|e| FetchError::io(archive, e))?;
    let mut tar = tar::Archive::new(GzDecoder::new(file));
    let entries = tar
        .entries()
        .map_err(|e| archive_error(archive, format!("not a tar.gz archive: {e}")))?;
    for entry in entries {
        let mut entry =
            entry.map_err(|e| archive_error(archive, format!("not a tar.gz archive: {e}")))?;
        let member = entry
            .path()
            .map_err(|e| archive_error(archive, e.to_string()))?
            .to_string_lossy()
            .into_owned();
        f(&member, &mut entry)?;
    }
    Ok(())
}

/// The file name of `member` when it sits directly in `folder` (any leading `./`).
fn under<'a>(member: &'a str, folder: &str) -> Option<&'a str> {
    let rest = member.trim_start_matches("./").strip_prefix(folder)?;
    let name = rest.strip_prefix('/')?;
    (!name.is_empty() && !name.contains('/')).then_some(name)
}

fn copy_to(reader: &mut dyn Read, path: &Path) -> Result<(), FetchError> {
    let mut out = File::create(path).map_err(|e| FetchError::io(path, e))?;
    std::io::copy(reader, &mut out).map_err(|e| FetchError::io(path, e))?;
    out.flush().map_err(|e| FetchError::io(path, e))
}

/// Renames `from` to `to`, replacing a file or folder left at `to` by an earlier fetch.
fn replace(from: &Path, to: &Path) -> Result<(), FetchError> {
    if to.is_dir() {
        std::fs::remove_dir_all(to).map_err(|e| FetchError::io(to, e))?;
    }
    std::fs::rename(from, to).map_err(|e| FetchError::io(to, e))
}

fn archive_error(archive: &Path, message: String) -> FetchError {
    FetchError::Archive {
        path: PathBuf::from(archive),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_count_only_directly_inside_their_folder() {
        let cases = [
            (
                "cifar-10-batches-bin/data_batch_1.bin",
                Some("data_batch_1.bin"),
            ),
            (
                "./cifar-10-batches-bin/test_batch.bin",
                Some("test_batch.bin"),
            ),
            ("cifar-10-batches-bin/", None),
            ("cifar-10-batches-bin/x/../../etc/passwd", None),
            ("other/data_batch_1.bin", None),
            ("cifar-10-batches-binx/data_batch_1.bin", None),
        ];
        for (member, expected) in cases {
            assert_eq!(under(member, CIFAR10_BIN_SUBDIR), expected, "{member}");
        }
    }

    #[test]
    fn windows_1252_punctuation_becomes_utf8() {
        // MR's snippets carry curly quotes and dashes as single bytes.
        let (text, _) =
            encoding_rs::WINDOWS_1252.decode_without_bom_handling(b"\x93it\x94 \x96 ok");
        assert_eq!(text, "\u{201c}it\u{201d} \u{2013} ok");
    }

    #[test]
    fn sums_list_the_recordings_sorted_as_sha256sum_does() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["1_b_0.wav", "0_a_10.wav", "0_a_1.wav", "notes.txt"] {
            std::fs::write(dir.path().join(name), name).unwrap();
        }
        let sums = sums_of(dir.path()).unwrap();
        let names: Vec<&str> = sums.lines().map(|l| &l[66..]).collect();
        assert_eq!(
            names,
            [
                "recordings/0_a_1.wav",
                "recordings/0_a_10.wav",
                "recordings/1_b_0.wav"
            ]
        );
        assert!(sums.starts_with(&format!("{}  ", sha256_hex(b"0_a_1.wav"))));
    }
}
