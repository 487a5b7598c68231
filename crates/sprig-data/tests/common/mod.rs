//! Fixture writers shared by the integration tests. Every fixture is written
//! by the test itself into a fresh temporary directory.

#![allow(dead_code)] // each test binary uses a different subset

pub mod real_data;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use flate2::Compression;
use flate2::write::GzEncoder;

/// A directory under the system temp dir, removed on drop.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!(
            "sprig-data-{tag}-{}-{n}-{nanos}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }

    pub fn join(&self, p: impl AsRef<Path>) -> PathBuf {
        self.0.join(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

pub fn write(path: &Path, bytes: &[u8]) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(path, bytes).unwrap();
}

/// The message of an error, asserting it contains every one of `needles`.
pub fn assert_msg<E: std::fmt::Display>(err: E, needles: &[&str]) -> String {
    let msg = err.to_string();
    println!("error message: {msg}");
    for n in needles {
        assert!(msg.contains(n), "error message {msg:?} lacks {n:?}");
    }
    msg
}

/// A smooth, image-dependent RGB pattern (interleaved HWC, w and h ≤ 32),
/// easy on JPEG: no value wraps around, so there are no sharp edges.
pub fn smooth_rgb(seed: usize, w: usize, h: usize) -> Vec<u8> {
    let (r0, g0, b0) = (seed * 13 % 60, seed * 29 % 80, seed * 7 % 30);
    let mut v = Vec::with_capacity(w * h * 3);
    for y in 0..h {
        for x in 0..w {
            v.push((30 + r0 + 4 * x) as u8);
            v.push((20 + g0 + 3 * y) as u8);
            v.push((220 - b0 - 2 * x - 2 * y) as u8);
        }
    }
    v
}

/// A baseline JPEG of interleaved RGB, 4:4:4 at high quality so the decode
/// lands within a few levels of the source.
pub fn jpeg(rgb: &[u8], w: usize, h: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = jpeg_encoder::Encoder::new(&mut out, 95);
    enc.set_sampling_factor(jpeg_encoder::SamplingFactor::R_4_4_4);
    enc.encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .unwrap();
    out
}

/// Tar members: `(name, bytes)`, in archive order.
pub type Members = Vec<(String, Vec<u8>)>;

/// A gzipped ustar archive of `(name, bytes)` members, in order.
pub fn tar_gz(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (name, bytes) in members {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        builder.append_data(&mut header, name, &bytes[..]).unwrap();
    }
    gzip(&builder.into_inner().unwrap())
}

/// The class names the fixtures write, the same list the loader falls back to.
pub use sprig_data::vision::cifar_bin::CIFAR10_CLASSES as CLASSES;

/// Members `{prefix}/NNNNN_L_name.jpg` for the given labels, with the RGB
/// source of each (interleaved, 32×32).
pub fn jpeg_members(prefix: &str, labels: &[usize]) -> (Members, Vec<Vec<u8>>) {
    let mut members = Vec::new();
    let mut sources = Vec::new();
    for (i, &l) in labels.iter().enumerate() {
        let rgb = smooth_rgb(i + 10 * prefix.len(), 32, 32);
        members.push((
            format!("{prefix}/{i:05}_{l}_{}.jpg", CLASSES[l]),
            jpeg(&rgb, 32, 32),
        ));
        sources.push(rgb);
    }
    (members, sources)
}
