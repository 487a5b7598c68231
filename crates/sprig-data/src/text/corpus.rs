//! Readers of the raw text files: each gives `(text, label name)` pairs and names the
//! file and line of anything malformed.

use std::path::Path;

use crate::DataError;
use crate::vision::checksum::{self, ChecksumPolicy, KnownFile};
use crate::vision::fsio::read_file;

/// One labelled example before encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawExample {
    /// The text as written.
    pub text: String,
    /// The label's name.
    pub label: String,
}

/// Which TREC labels to learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TrecLabels {
    /// The 6 coarse classes (TREC-6).
    #[default]
    Coarse,
    /// The 50 fine classes (TREC-50), named `COARSE:fine`.
    Fine,
}

/// Reads `path`, checking it against its published hash when `known` has one.
fn read_checked(
    path: &Path,
    list: &[KnownFile],
    policy: ChecksumPolicy,
) -> Result<Vec<u8>, DataError> {
    let bytes = read_file(path)?;
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    checksum::verify(path, &bytes, checksum::known(list, name), policy)?;
    Ok(bytes)
}

/// UTF-8 if it is, else Latin-1 (TREC's training file has one 0xF0 byte; the original
/// MR release is Windows-1252, whose letters Latin-1 maps close enough for tokens).
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A TREC file: one question per line, `COARSE:fine question words …`.
///
/// # Errors
/// A missing file, a checksum mismatch, or a line without a `COARSE:fine` label (named
/// by file and line).
pub fn read_trec(
    path: &Path,
    labels: TrecLabels,
    policy: ChecksumPolicy,
) -> Result<Vec<RawExample>, DataError> {
    let text = decode(&read_checked(path, &checksum::TREC, policy)?);
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            continue;
        }
        let bad = || {
            DataError::line(
                path,
                n as u64 + 1,
                format!("expected `COARSE:fine question …`, found `{line}`"),
            )
        };
        let (label, question) = line.split_once(' ').ok_or_else(bad)?;
        let (coarse, fine) = label.split_once(':').ok_or_else(bad)?;
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric());
        if !valid(coarse) || !valid(fine) || question.trim().is_empty() {
            return Err(bad());
        }
        out.push(RawExample {
            text: question.to_owned(),
            label: match labels {
                TrecLabels::Coarse => coarse.to_owned(),
                TrecLabels::Fine => label.to_owned(),
            },
        });
    }
    Ok(out)
}

/// MR: `rt-polarity.pos` and `rt-polarity.neg`, one snippet per line, labelled `pos`
/// and `neg`.
///
/// # Errors
/// A missing file or a checksum mismatch, named.
pub fn read_mr(dir: &Path, policy: ChecksumPolicy) -> Result<Vec<RawExample>, DataError> {
    let mut out = Vec::new();
    for label in ["neg", "pos"] {
        let path = dir.join(format!("rt-polarity.{label}"));
        let text = decode(&read_checked(&path, &checksum::MR, policy)?);
        out.extend(
            text.lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.trim().is_empty())
                .map(|l| RawExample {
                    text: l.to_owned(),
                    label: label.to_owned(),
                }),
        );
    }
    Ok(out)
}

/// A text-classification CSV in the layout of Zhang, Zhao & LeCun (2015) (AG News,
/// DBpedia, Yelp, …): no header, the first field the 1-based class index, the other
/// fields (title, text) joined by a space; quoted fields may hold commas, `""` quotes
/// and line breaks, and the literal `\n` of those files reads as a space. Labels are the
/// class index as text (`"1"`, `"2"`, …).
///
/// # Errors
/// A missing file, a malformed record or a class index that is not a positive integer,
/// named by file and line.
pub fn read_class_csv(path: &Path) -> Result<Vec<RawExample>, DataError> {
    let bytes = read_file(path)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes.as_slice());
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line, csv::Position::line);
                return Err(DataError::line(path, line, format!("not valid CSV: {e}")));
            }
        }
        let line = record.position().map_or(line, csv::Position::line);
        let class = record.get(0).unwrap_or("").trim();
        match class.parse::<u32>() {
            Ok(k) if k >= 1 => {}
            _ => {
                return Err(DataError::line(
                    path,
                    line,
                    format!("the first field must be a class index 1, 2, …, not `{class}`"),
                ));
            }
        }
        if record.len() < 2 {
            return Err(DataError::line(
                path,
                line,
                "expected a class index and at least one text field",
            ));
        }
        let text = record
            .iter()
            .skip(1)
            .map(|f| f.replace("\\n", " "))
            .collect::<Vec<_>>()
            .join(" ");
        out.push(RawExample {
            text,
            label: class.to_owned(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, content: &[u8]) -> std::path::PathBuf {
        let path = dir.join(name);
        std::fs::write(&path, content).unwrap();
        path
    }

    #[test]
    fn trec_lines_and_their_errors() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = write(
            dir,
            "mini.label",
            b"DESC:manner How did serfdom develop ?\nNUM:date When was \xf0 it ?\n\n",
        );
        let coarse = read_trec(&path, TrecLabels::Coarse, ChecksumPolicy::Verify).unwrap();
        assert_eq!(coarse.len(), 2);
        assert_eq!(coarse[0].label, "DESC");
        assert_eq!(coarse[0].text, "How did serfdom develop ?");
        assert_eq!(coarse[1].text, "When was \u{f0} it ?");
        let fine = read_trec(&path, TrecLabels::Fine, ChecksumPolicy::Verify).unwrap();
        assert_eq!(fine[1].label, "NUM:date");

        let bad = write(dir, "bad.label", b"DESC:manner fine\nno label here\n");
        let err = read_trec(&bad, TrecLabels::Coarse, ChecksumPolicy::Verify).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("bad.label:2"), "{message}");
        let missing = read_trec(
            &dir.join("none"),
            TrecLabels::Coarse,
            ChecksumPolicy::Verify,
        );
        assert!(missing.unwrap_err().to_string().contains("none"));
        // A file with a published name must have the published content.
        let fake = write(dir, "TREC_10.label", b"DESC:manner fine\n");
        let err = read_trec(&fake, TrecLabels::Coarse, ChecksumPolicy::Verify).unwrap_err();
        assert!(err.to_string().contains("sha256"), "{err}");
        assert!(read_trec(&fake, TrecLabels::Coarse, ChecksumPolicy::Skip).is_ok());
    }

    #[test]
    fn class_csv_quotes_commas_escapes_and_errors() {
        let scratch = tempfile::tempdir().unwrap();
        let dir = scratch.path();
        let path = write(
            dir,
            "train.csv",
            b"\"3\",\"Wall St. Bears\",\"Short-sellers, Wall Street's \"\"dwindling\"\" band\"\n\
              \"1\",\"Title\",\"line one\\nline two\"\n\
              2,\"multi\nline\",text\n",
        );
        let rows = read_class_csv(&path).unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].label, "3");
        assert_eq!(
            rows[0].text,
            "Wall St. Bears Short-sellers, Wall Street's \"dwindling\" band"
        );
        assert_eq!(rows[1].text, "Title line one line two");
        assert_eq!(rows[2].text, "multi\nline text");

        for (content, line) in [
            (&b"\"1\",\"ok\"\n\"x\",\"bad class\"\n"[..], ":2:"),
            (&b"\"1\",\"ok\"\n\"0\",\"zero class\"\n"[..], ":2:"),
            (&b"\"1\"\n"[..], ":1:"),
        ] {
            let bad = write(dir, "bad.csv", content);
            let message = read_class_csv(&bad).unwrap_err().to_string();
            assert!(message.contains(&format!("bad.csv{line}")), "{message}");
        }
    }
}
