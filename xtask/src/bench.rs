//! `cargo xtask bench`: times a training iteration of every zoo model on every compiled
//! backend (and in PyTorch with `--vs-pytorch`) and writes `docs/results/backends.*`.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, libtorch};

/// Arguments of `cargo xtask bench`.
#[derive(Debug, clap::Args)]
pub struct BenchArgs {
    /// Also time the same iterations in PyTorch (`benches/pytorch/train_step.py`), with
    /// the interpreter in `$SPRIG_PYTHON`, else `target/pytorch-venv/bin/python`, else
    /// `python3`.
    #[arg(long)]
    vs_pytorch: bool,
    /// Short measurements: a smoke run, not a table to keep.
    #[arg(long)]
    quick: bool,
    /// Rounds: each a fresh PyTorch process (with `--vs-pytorch`) then a fresh
    /// `sprig-backends` process; the table holds the medians over them (1 with `--quick`).
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Data folder (default: $SPRIG_DATA, then ./data), for the planned rounds on MNIST.
    #[arg(long)]
    data_dir: Option<String>,
}

/// Builds and runs `sprig-backends`.
pub fn run(args: &BenchArgs) -> Result<()> {
    // The test build has the tests' feature set: nothing of Burn is compiled again.
    cargo::build()?;
    let root = libtorch::workspace_root();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut command_line = "cargo xtask bench".to_string();
    if args.vs_pytorch {
        command_line.push_str(" --vs-pytorch");
    }
    if args.quick {
        command_line.push_str(" --quick");
    }
    let rounds = if args.quick { 1 } else { args.rounds.max(1) };
    if rounds != 3 && !args.quick {
        command_line.push_str(&format!(" --rounds {rounds}"));
    }
    let binary = crate::cargo::test_build_binary("sprig-backends");
    let work = root.join("target/bench-rounds");
    std::fs::create_dir_all(&work).with_context(|| format!("creating {}", work.display()))?;
    let mut pytorch = Vec::new();
    let mut folders = Vec::new();
    for round in 0..rounds {
        eprintln!("xtask: bench round {} of {rounds}", round + 1);
        if args.vs_pytorch {
            for allocator in PyTorchAllocator::ALL {
                let path = work.join(format!("pytorch-{round}-{}.json", allocator.file_name()));
                if pytorch_timings(&root, threads, args.quick, allocator, &path)? {
                    pytorch.push(path);
                }
            }
        }
        let folder = work.join(format!("round-{round}"));
        let mut cmd = Command::new(&binary);
        cmd.current_dir(&root)
            .args(["--runs", "1", "--results"])
            .arg(&folder);
        if args.quick {
            cmd.arg("--quick");
        }
        if let Some(dir) = &args.data_dir {
            cmd.args(["--data-dir", dir]);
        }
        cargo::runner_env(&mut cmd, &root)?;
        cargo::run(cmd)?;
        folders.push(folder);
    }
    let mut cmd = Command::new(&binary);
    cmd.current_dir(&root).args([
        "--runs",
        "1",
        "--command-line",
        &command_line,
        "--commit",
        &cargo::commit(&root),
        "--merge",
    ]);
    cmd.args(&folders);
    for path in &pytorch {
        cmd.arg("--pytorch").arg(path);
    }
    if args.quick {
        cmd.arg("--results").arg(root.join("target/backends-quick"));
    }
    cargo::runner_env(&mut cmd, &root)?;
    cargo::run(cmd)
}

/// The allocators the PyTorch yardstick runs under, each round; each model's yardstick is
/// the faster (`sprig-backends` picks it), so Sprig is compared with PyTorch at its best
/// under the settings Sprig itself uses.
#[derive(Debug, Clone, Copy)]
enum PyTorchAllocator {
    /// mimalloc preloaded: what every Sprig binary uses for its own allocations.
    Mimalloc,
    /// glibc's malloc with the settings `sprig-backend` gives LibTorch in Sprig's process
    /// (`crates/sprig-backend/src/libtorch_malloc.rs`: keep these numbers equal).
    GlibcTuned,
}

impl PyTorchAllocator {
    const ALL: [PyTorchAllocator; 2] = [PyTorchAllocator::Mimalloc, PyTorchAllocator::GlibcTuned];

    fn file_name(self) -> &'static str {
        match self {
            PyTorchAllocator::Mimalloc => "mimalloc",
            PyTorchAllocator::GlibcTuned => "glibc-tuned",
        }
    }
}

/// Runs the PyTorch yardstick with `threads` threads under `allocator` and writes its
/// output to `path`; false if that allocator is not installed.
fn pytorch_timings(
    root: &std::path::Path,
    threads: usize,
    quick: bool,
    allocator: PyTorchAllocator,
    path: &std::path::Path,
) -> Result<bool> {
    let python = std::env::var_os("SPRIG_PYTHON")
        .map(PathBuf::from)
        .or_else(|| {
            let venv = root.join("target/pytorch-venv/bin/python");
            venv.exists().then_some(venv)
        })
        .unwrap_or_else(|| PathBuf::from("python3"));
    let script = root.join("benches/pytorch/train_step.py");
    let mut cmd = Command::new(&python);
    cmd.arg(&script).args(["--threads", &threads.to_string()]);
    if quick {
        cmd.args(["--scale", "0.1"]);
    }
    match allocator {
        PyTorchAllocator::Mimalloc => {
            // glibc's default malloc makes small models up to 3× slower (docs/backend-notes.md).
            let mimalloc = std::env::var_os("SPRIG_MIMALLOC_SO")
                .map(PathBuf::from)
                .or_else(|| {
                    let debian = PathBuf::from("/usr/lib/x86_64-linux-gnu/libmimalloc.so.2");
                    debian.exists().then_some(debian)
                });
            match &mimalloc {
                Some(so) => {
                    cmd.env("LD_PRELOAD", so)
                        .args(["--allocator", "mimalloc (LD_PRELOAD)"]);
                }
                None => {
                    eprintln!(
                        "xtask: no libmimalloc.so found (apt install libmimalloc2.0, or set \
                         SPRIG_MIMALLOC_SO): PyTorch's mimalloc run is skipped"
                    );
                    return Ok(false);
                }
            }
        }
        PyTorchAllocator::GlibcTuned => {
            cmd.env("MALLOC_MMAP_THRESHOLD_", (32u64 << 20).to_string())
                .env("MALLOC_TRIM_THRESHOLD_", (1u64 << 30).to_string())
                .env("MALLOC_TOP_PAD_", (256u64 << 20).to_string())
                .args(["--allocator", "glibc malloc with Sprig's LibTorch settings"]);
        }
    }
    eprintln!("xtask: timing PyTorch with {}", python.display());
    let output = cmd
        .output()
        .with_context(|| format!("could not start {}", python.display()))?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("No module named 'torch'") {
            bail!(
                "{} cannot import torch: install PyTorch 2.9.0 for it (e.g. `python3 -m venv \
                 target/pytorch-venv && target/pytorch-venv/bin/pip install torch==2.9.0`, \
                 6.8 GB) or point $SPRIG_PYTHON at an interpreter that has it",
                python.display()
            );
        }
        bail!("{} failed: {stderr}", script.display());
    }
    std::fs::write(path, &output.stdout).with_context(|| format!("writing {}", path.display()))?;
    Ok(true)
}
