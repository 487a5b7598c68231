//! A CPU-only LibTorch for `burn-tch`, cut from PyPI wheels.
//!
//! burn-tch wants LibTorch 2.9.0 and, without `LIBTORCH`, tries to download it from a
//! host this machine cannot reach. PyPI only has the CUDA build of the torch wheel, so we
//! take its headers and the CPU libraries, plus the two small CUDA runtime libraries that
//! `libtorch_cpu.so` links against, and leave `libtorch_cuda.so` out: burn-tch then links
//! the CPU path only (docs/backend-notes.md).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::cargo;

const TORCH_VERSION: &str = "2.9.0";
const WHEELS: &[&str] = &[
    "torch==2.9.0",
    "nvidia-cuda-runtime-cu12==12.8.90",
    "nvidia-cuda-cupti-cu12==12.8.90",
];
/// (wheel file prefix, member path inside the wheel, path inside the LibTorch folder).
const LIBRARIES: &[(&str, &str, &str)] = &[
    ("torch-", "torch/lib/libtorch_cpu.so", "lib/libtorch_cpu.so"),
    ("torch-", "torch/lib/libtorch.so", "lib/libtorch.so"),
    ("torch-", "torch/lib/libc10.so", "lib/libc10.so"),
    ("torch-", "torch/lib/libgomp.so.1", "lib/libgomp.so.1"),
    (
        "nvidia_cuda_runtime_cu12-",
        "nvidia/cuda_runtime/lib/libcudart.so.12",
        "lib/libcudart.so.12",
    ),
    (
        "nvidia_cuda_cupti_cu12-",
        "nvidia/cuda_cupti/lib/libcupti.so.12",
        "lib/libcupti.so.12",
    ),
];

/// The workspace root (the folder of the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one folder below the workspace root")
        .to_path_buf()
}

fn default_dir() -> PathBuf {
    workspace_root().join("target").join("libtorch")
}

fn is_complete(dir: &Path) -> bool {
    dir.join("include/torch/csrc/api/include/torch/torch.h")
        .is_file()
        && LIBRARIES
            .iter()
            .all(|(_, _, dest)| dir.join(dest).is_file())
}

/// The LibTorch folder to use: `LIBTORCH` if set (it must exist), else the one
/// `setup-libtorch` made, else none.
pub fn find() -> Result<Option<PathBuf>> {
    if let Some(dir) = std::env::var_os("LIBTORCH") {
        let dir = PathBuf::from(dir);
        if !dir.join("lib").is_dir() {
            bail!(
                "LIBTORCH={} has no lib/ folder: point it at a LibTorch {TORCH_VERSION} folder or run `cargo xtask setup-libtorch`",
                dir.display()
            );
        }
        return Ok(Some(dir));
    }
    let dir = default_dir();
    Ok(is_complete(&dir).then_some(dir))
}

/// The environment a build and run against `dir` needs.
pub fn env(dir: &Path) -> Vec<(&'static str, String)> {
    let lib = dir.join("lib").display().to_string();
    let ld = match std::env::var("LD_LIBRARY_PATH") {
        Ok(old) if !old.is_empty() => format!("{lib}:{old}"),
        _ => lib,
    };
    vec![
        ("LIBTORCH", dir.display().to_string()),
        ("LD_LIBRARY_PATH", ld),
    ]
}

/// Shell lines a user pastes to build and run with this LibTorch.
pub fn exports(dir: &Path) -> String {
    let lib = dir.join("lib");
    format!(
        "export LIBTORCH={}\nexport LD_LIBRARY_PATH={}:$LD_LIBRARY_PATH",
        dir.display(),
        lib.display()
    )
}

/// Makes `target/libtorch` (unless it is already complete and `force` is off).
pub fn setup(force: bool, build_meanwhile: bool) -> Result<PathBuf> {
    let dir = default_dir();
    if is_complete(&dir) && !force {
        eprintln!(
            "xtask: LibTorch {TORCH_VERSION} (CPU) already at {}",
            dir.display()
        );
        return Ok(dir);
    }
    let started = Instant::now();
    let target = workspace_root().join("target");
    // Only into a folder that does not exist yet: a build reading its headers while the
    // old folder is replaced would mix two LibTorch versions.
    let build_log = target.join("build-before-libtorch.log");
    let mut build = BuildBeside(if build_meanwhile && !dir.exists() {
        fs::create_dir_all(&target).with_context(|| format!("creating {}", target.display()))?;
        Some(cargo::start_build_before_libtorch(&dir, &build_log)?)
    } else {
        None
    });
    let wheels = target.join("libtorch-wheels");
    download(&wheels)?;
    let downloaded = started.elapsed();

    // Unpack beside the final folder and rename at the end, so an interrupted run never
    // leaves a folder that looks complete.
    let partial = target.join("libtorch.partial");
    remove_if_present(&partial)?;
    unpack(&wheels, &partial)?;
    fs::write(
        partial.join("build-version"),
        format!("{TORCH_VERSION}+cpu\n"),
    )
    .context("writing build-version")?;
    remove_if_present(&dir)?;
    fs::rename(&partial, &dir)
        .with_context(|| format!("moving {} to {}", partial.display(), dir.display()))?;
    // The wheels are 0.9 GB; pip keeps its own cache, so drop our copy.
    remove_if_present(&wheels)?;
    eprintln!(
        "xtask: LibTorch {TORCH_VERSION} (CPU) ready at {} (download {:.1} s, total {:.1} s)",
        dir.display(),
        downloaded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    if let Some(mut build) = build.0.take() {
        let status = build
            .wait()
            .context("waiting for the build beside the download")?;
        // It stops at torch-sys's build script when that runs before LibTorch is unpacked,
        // and builds everything when it runs after; a failure of any other crate shows
        // again in the lint step, which builds what is left.
        eprintln!(
            "xtask: the build beside the download ended after {:.1} s ({status}); the lint \
             step builds what is left (its log: {})",
            started.elapsed().as_secs_f64(),
            build_log.display()
        );
    }
    Ok(dir)
}

/// The build started beside the download: stopped if the download fails, so that no cargo
/// outlives the command.
struct BuildBeside(Option<Child>);

impl Drop for BuildBeside {
    fn drop(&mut self) {
        if let Some(mut build) = self.0.take() {
            // Best effort on the error path: the error being returned is the one to report.
            let _ = build.kill();
            let _ = build.wait();
        }
    }
}

fn download(wheels: &Path) -> Result<()> {
    fs::create_dir_all(wheels).with_context(|| format!("creating {}", wheels.display()))?;
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    eprintln!(
        "xtask: downloading {} from PyPI (≈0.9 GB)",
        WHEELS.join(" ")
    );
    let status = Command::new(&python)
        .args(["-m", "pip", "download", "--no-deps", "--quiet", "-d"])
        .arg(wheels)
        .args(WHEELS)
        .status()
        .with_context(|| {
            format!("setup-libtorch needs `{python} -m pip` to download the PyTorch wheels")
        })?;
    if !status.success() {
        bail!(
            "`{python} -m pip download {}` failed with {status}",
            WHEELS.join(" ")
        );
    }
    Ok(())
}

fn find_wheel(wheels: &Path, prefix: &str) -> Result<PathBuf> {
    for entry in fs::read_dir(wheels).with_context(|| format!("reading {}", wheels.display()))? {
        let path = entry?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.starts_with(prefix) && name.ends_with(".whl") {
            return Ok(path);
        }
    }
    bail!("no wheel `{prefix}*.whl` in {}", wheels.display())
}

fn unpack(wheels: &Path, dest: &Path) -> Result<()> {
    let torch = find_wheel(wheels, "torch-")?;
    let mut archive = open_wheel(&torch)?;
    // Headers: everything under torch/include/.
    for index in 0..archive.len() {
        let mut member = archive.by_index(index)?;
        let Some(relative) = member
            .enclosed_name()
            .and_then(|p| p.strip_prefix("torch").ok().map(Path::to_path_buf))
        else {
            continue;
        };
        if !relative.starts_with("include") || member.is_dir() {
            continue;
        }
        write_member(&mut member, &dest.join(relative))?;
    }
    for (prefix, member_path, relative) in LIBRARIES {
        let wheel = find_wheel(wheels, prefix)?;
        let mut archive = open_wheel(&wheel)?;
        let mut member = archive
            .by_name(member_path)
            .with_context(|| format!("{} has no {member_path}", wheel.display()))?;
        write_member(&mut member, &dest.join(relative))?;
    }
    Ok(())
}

fn open_wheel(path: &Path) -> Result<zip::ZipArchive<fs::File>> {
    let file = fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    zip::ZipArchive::new(file).with_context(|| format!("{} is not a valid wheel", path.display()))
}

fn write_member(member: &mut zip::read::ZipFile<'_, fs::File>, path: &Path) -> Result<()> {
    if let Some(parent) = path.parent() {
        fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut out = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    io::copy(member, &mut out).with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn remove_if_present(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("removing {}", path.display()))
        }
        _ => Ok(()),
    }
}
