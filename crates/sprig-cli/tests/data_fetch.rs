//! `sprig data fetch` against a real HTTP server on 127.0.0.1 that serves copies of the
//! staged data sets and misbehaves on purpose: every fault ends in the right result or a
//! clear error, and nothing corrupt is ever left under a final name.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

#[path = "../../sprig-data/tests/common/real_data.rs"]
mod real_data;

use real_data::with_real_data;

/// How the server answers a request for one file.
#[derive(Debug, Clone)]
enum Serve {
    /// The bytes, honouring `Range: bytes=N-` with 206 as file servers do.
    Whole(Vec<u8>),
    /// The first `times` requests announce the whole length but the connection closes
    /// after `after` bytes; later requests are served whole.
    CutOff {
        bytes: Vec<u8>,
        after: usize,
        times: usize,
    },
}

/// Each request's path and `Range` header, in order.
type Log = Mutex<Vec<(String, Option<String>)>>;

/// A file server on 127.0.0.1. The fault injection needs control of the bytes on the wire
/// (a body cut off mid-transfer), which HTTP server crates take care never to produce, so
/// it speaks HTTP/1.1 itself: one request per connection, `Connection: close`.
struct Server {
    url: String,
    requests: Arc<Log>,
}

impl Server {
    fn start(files: HashMap<String, Serve>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let files = Arc::new(Mutex::new(files));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = answer(stream, &files, &log);
            }
        });
        Self { url, requests }
    }

    fn requests(&self) -> Vec<(String, Option<String>)> {
        self.requests.lock().unwrap().clone()
    }
}

fn answer(
    mut stream: TcpStream,
    files: &Mutex<HashMap<String, Serve>>,
    log: &Log,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_owned();
    let mut range = None;
    loop {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        if header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("range")
        {
            range = Some(value.trim().to_owned());
        }
    }
    log.lock().unwrap().push((path.clone(), range.clone()));
    let name = path.trim_start_matches('/');
    let serve = files.lock().unwrap().get(name).cloned();
    let (bytes, cut) = match serve {
        None => {
            let body = b"not found";
            write!(
                stream,
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            )?;
            return stream.write_all(body);
        }
        Some(Serve::Whole(bytes)) => (bytes, None),
        Some(Serve::CutOff {
            bytes,
            after,
            times,
        }) => {
            if times > 0 {
                files.lock().unwrap().insert(
                    name.to_owned(),
                    Serve::CutOff {
                        bytes: bytes.clone(),
                        after,
                        times: times - 1,
                    },
                );
                (bytes, Some(after))
            } else {
                (bytes, None)
            }
        }
    };
    let from = range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<usize>().ok())
        .filter(|&from| from <= bytes.len());
    let head = match from {
        Some(from) => format!(
            "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes {from}-{}/{}\r\n",
            bytes.len().saturating_sub(1),
            bytes.len()
        ),
        None => "HTTP/1.1 200 OK\r\n".to_owned(),
    };
    let body = &bytes[from.unwrap_or(0)..];
    write!(
        stream,
        "{head}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )?;
    let sent = cut.map_or(body.len(), |after| after.min(body.len()));
    stream.write_all(&body[..sent])?;
    stream.flush()
}

fn sprig(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sprig"))
        .args(args)
        .env("RUST_LOG", "error")
        .env_remove("SPRIG_DATA")
        .output()
        .expect("the sprig binary runs")
}

fn fetch(server: &Server, data: &Path, sets: &[&str]) -> Output {
    let mut args = vec!["data", "fetch"];
    args.extend(sets);
    args.extend([
        "--mirror",
        &server.url,
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    sprig(&args)
}

/// The files of a data-set folder, sorted (hidden staging folders included).
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn staged(data: &Path, set: &str, file: &str) -> Vec<u8> {
    std::fs::read(data.join(set).join(file)).unwrap()
}

/// FSDD's release archive rebuilt from the staged recordings, in the layout GitHub serves
/// (`free-spoken-digit-dataset-1.0.10/recordings/*.wav`, plus a file that is not kept).
fn fsdd_release_zip(data: &Path) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    let top = "free-spoken-digit-dataset-1.0.10";
    zip.start_file(format!("{top}/README.md"), stored).unwrap();
    zip.write_all(b"# Free Spoken Digit Dataset\n").unwrap();
    let recordings = data.join("fsdd/recordings");
    for name in listing(&recordings) {
        zip.start_file(format!("{top}/recordings/{name}"), stored)
            .unwrap();
        zip.write_all(&std::fs::read(recordings.join(&name)).unwrap())
            .unwrap();
    }
    zip.finish().unwrap().into_inner()
}

const MNIST_FILES: [&str; 4] = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
];

/// The fetcher fills an empty data directory from a server holding copies of the staged
/// MNIST and FSDD files, `data list` calls them verified, and `sprig prune` reads them.
#[test]
fn fetched_data_sets_are_verified_and_pruned_on() {
    with_real_data("mnist", |mnist| {
        with_real_data("fsdd", |fsdd| {
            let mut files: HashMap<String, Serve> = MNIST_FILES
                .iter()
                .map(|f| (f.to_string(), Serve::Whole(staged(&mnist, "mnist", f))))
                .collect();
            files.insert("v1.0.10.zip".into(), Serve::Whole(fsdd_release_zip(&fsdd)));
            let server = Server::start(files);
            let data = tempfile::tempdir().unwrap();

            let output = fetch(&server, data.path(), &["mnist", "fsdd"]);
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(output.status.success(), "{output:?}");
            assert_eq!(
                listing(&data.path().join("mnist")),
                [
                    "t10k-images-idx3-ubyte.gz",
                    "t10k-labels-idx1-ubyte.gz",
                    "train-images-idx3-ubyte.gz",
                    "train-labels-idx1-ubyte.gz"
                ]
            );
            assert_eq!(
                listing(&data.path().join("fsdd")),
                ["SHA256SUMS", "recordings"]
            );
            assert_eq!(
                std::fs::read(data.path().join("fsdd/SHA256SUMS")).unwrap(),
                staged(&fsdd, "fsdd", "SHA256SUMS"),
                "the written list is the release's"
            );
            assert!(stdout.contains("mnist    verified"), "{stdout}");
            assert!(stdout.contains("fsdd     verified"), "{stdout}");

            let list = sprig(&["data", "list", "--data-dir", data.path().to_str().unwrap()]);
            let list = String::from_utf8_lossy(&list.stdout);
            assert!(list.contains("mnist    verified"), "{list}");
            assert!(list.contains("trec     missing"), "{list}");
            assert!(list.contains("sprig data fetch trec mr cifar10"), "{list}");

            // Fetching again downloads nothing.
            let before = server.requests().len();
            assert!(fetch(&server, data.path(), &["mnist"]).status.success());
            assert_eq!(server.requests().len(), before);

            let out = data.path().join("ticket");
            let pruned = sprig(&[
                "prune",
                "--model",
                "lenet-300-100",
                "--dataset",
                "mnist",
                "--budget",
                "15s",
                "--sparsity",
                "0.5",
                "--data-dir",
                data.path().to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ]);
            assert!(pruned.status.success(), "{pruned:?}");
            assert!(out.join("result.json").is_file());
        })
    });
}

/// What a fault leads to: success or an error with these words, and what the data
/// set's folder holds afterwards.
struct Expect {
    ok: bool,
    stderr: &'static [&'static str],
    files: &'static [&'static str],
}

/// TREC's training file served with each fault (its test file served whole).
#[test]
fn download_faults_end_in_the_file_or_a_clear_error_and_nothing_corrupt() {
    with_real_data("trec", |staging| {
        let train = staged(&staging, "trec", "train_5500.label");
        let mut truncated = train.clone();
        truncated.truncate(train.len() / 2);
        let mut altered = train.clone();
        altered[1000] ^= 0x20;
        let cut = |times| Serve::CutOff {
            bytes: train.clone(),
            after: 50_000,
            times,
        };
        const BOTH: &[&str] = &["TREC_10.label", "train_5500.label"];
        let cases: Vec<(&str, Option<Serve>, Expect)> = vec![
            (
                "whole",
                Some(Serve::Whole(train.clone())),
                Expect {
                    ok: true,
                    stderr: &[],
                    files: BOTH,
                },
            ),
            (
                "not found",
                None,
                Expect {
                    ok: false,
                    stderr: &["train_5500.label: HTTP status 404"],
                    files: &[],
                },
            ),
            (
                "truncated",
                Some(Serve::Whole(truncated)),
                Expect {
                    ok: false,
                    stderr: &[
                        "sha256 of the 167929 bytes received is",
                        "the download was deleted",
                    ],
                    files: &[],
                },
            ),
            (
                "one byte changed",
                Some(Serve::Whole(altered)),
                Expect {
                    ok: false,
                    stderr: &["the published sha256 is 9e4c8bdc"],
                    files: &[],
                },
            ),
            (
                "cut off once, resumed",
                Some(cut(1)),
                Expect {
                    ok: true,
                    stderr: &[],
                    files: BOTH,
                },
            ),
            (
                "cut off every time",
                Some(cut(usize::MAX)),
                Expect {
                    ok: false,
                    stderr: &[
                        "after 200000 of 335858 bytes",
                        "bytes are kept in",
                        "run the same command again to resume",
                    ],
                    files: &["train_5500.label.part"],
                },
            ),
        ];
        for (case, serve, expect) in cases {
            let mut files = HashMap::from([(
                "TREC_10.label".to_string(),
                Serve::Whole(staged(&staging, "trec", "TREC_10.label")),
            )]);
            if let Some(serve) = serve {
                files.insert("train_5500.label".into(), serve);
            }
            let server = Server::start(files);
            let data = tempfile::tempdir().unwrap();
            let output = fetch(&server, data.path(), &["trec"]);
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert_eq!(output.status.success(), expect.ok, "{case}: {stderr}");
            assert!(!stderr.contains("panicked"), "{case}: {stderr}");
            for phrase in expect.stderr {
                assert!(
                    stderr.contains(phrase),
                    "{case}: `{phrase}` not in {stderr}"
                );
            }
            assert_eq!(listing(&data.path().join("trec")), expect.files, "{case}");
            if expect.ok {
                assert_eq!(
                    staged(data.path(), "trec", "train_5500.label"),
                    train,
                    "{case}"
                );
            }
        }
    });
}

/// A transfer cut off every time keeps its bytes in `.part`; the next fetch asks only for
/// the rest and completes the file.
#[test]
fn an_interrupted_download_resumes_where_it_stopped() {
    with_real_data("trec", |staging| {
        let train = staged(&staging, "trec", "train_5500.label");
        let test = staged(&staging, "trec", "TREC_10.label");
        let broken = Server::start(HashMap::from([
            ("TREC_10.label".to_string(), Serve::Whole(test.clone())),
            (
                "train_5500.label".to_string(),
                Serve::CutOff {
                    bytes: train.clone(),
                    after: 50_000,
                    times: usize::MAX,
                },
            ),
        ]));
        let data = tempfile::tempdir().unwrap();
        assert!(!fetch(&broken, data.path(), &["trec"]).status.success());
        let part = data.path().join("trec/train_5500.label.part");
        assert_eq!(
            std::fs::metadata(&part).unwrap().len(),
            200_000,
            "four attempts of 50,000 bytes, each resuming the last"
        );

        let healthy = Server::start(HashMap::from([
            ("TREC_10.label".to_string(), Serve::Whole(test)),
            ("train_5500.label".to_string(), Serve::Whole(train.clone())),
        ]));
        let output = fetch(&healthy, data.path(), &["trec"]);
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            healthy.requests()[0],
            (
                "/train_5500.label".to_string(),
                Some("bytes=200000-".to_string())
            )
        );
        assert_eq!(staged(data.path(), "trec", "train_5500.label"), train);
        assert!(!part.exists());
    });
}
