//! A `sprig` built against LibTorch (the `tch` backend) finds LibTorch's libraries where
//! the build found them, without `LD_LIBRARY_PATH`.
//!
//! The run path is written as DT_RPATH (`--disable-new-dtags`), not DT_RUNPATH: the
//! loader then also searches it for the libraries LibTorch's own libraries need
//! (`libc10.so`, `libgomp.so.1`, …), which carry no run path of their own.

fn main() {
    println!("cargo:rerun-if-env-changed=LIBTORCH");
    let Some(dir) = std::env::var_os("LIBTORCH") else {
        return;
    };
    // Absolute, so the installed binary does not depend on where it is started from.
    let Ok(lib) = std::fs::canonicalize(std::path::Path::new(&dir).join("lib")) else {
        return;
    };
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!(
            "cargo:rustc-link-arg-bins=-Wl,--disable-new-dtags,-rpath,{}",
            lib.display()
        );
    }
}
