//! The one place in Sprig that names a Burn backend.
//!
//! Burn 0.22 model code has no backend type parameter: a [`Device`] carries the backend,
//! and the backends are cargo features of `burn`. Sprig keeps every backend name, every
//! backend feature and every `#[allow(deprecated)]` (burn-ndarray and burn-tch are
//! deprecated upstream in favour of burn-flex) inside this crate, so the rest of the
//! workspace asks for a backend *by name* at run time:
//!
//! ```
//! use sprig_backend::Backend;
//!
//! let backend: Backend = "flex".parse().expect("flex is the default backend");
//! let device = backend.train_device().expect("flex needs nothing installed");
//! assert!(device.is_autodiff());
//! assert_eq!(backend.to_string(), "flex");
//! ```
//!
//! | name | crate | notes |
//! |---|---|---|
//! | `flex` | burn-flex | default: pure Rust, fastest pure-Rust CPU backend measured here, `no_std`-capable |
//! | `ndarray` | burn-ndarray | pure Rust; fine for MLPs, pathologically slow convolution backward (seconds per Conv-2 step: `docs/results/backends.md`) |
//! | `tch-cpu` | burn-tch | LibTorch on the CPU; needs `cargo xtask setup-libtorch` |
//! | `tch-cuda[:N]` | burn-tch | LibTorch on CUDA device N (default 0) when a CUDA LibTorch and GPU are present |
//!
//! A run may also ask for `auto` ([`BackendChoice`]): the fastest compiled CPU backend on
//! its own model, timed when it starts.

mod choice;
mod conv_stage;
mod denormals;
mod host_update;
#[cfg(feature = "tch")]
mod libtorch_malloc;
mod names;
pub mod sparse;
mod sparse_linear;
mod threads;

use std::fmt;
use std::str::FromStr;

pub use burn::tensor::Device;
pub use choice::BackendChoice;
pub use conv_stage::{ConvStageOps, StageConv, conv_stage};
pub use denormals::{denormals_flushed, flush_denormals_to_zero};
pub use host_update::{HostUpdates, host_updates_on_this_thread, update_on_host};
pub use names::{BACKEND_NAMES, compiled_backends};
use serde::{Deserialize, Serialize};
pub use sparse_linear::{SparseLinearOps, SparseWeight, sparse_matmul};
pub use threads::{StepThreads, on_one_thread, runs_on_rayon};

/// A tensor backend Sprig can run on, chosen by name at run time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Backend {
    /// burn-flex: pure-Rust CPU backend (the default).
    Flex,
    /// burn-ndarray: pure-Rust CPU backend (slow convolutions).
    NdArray,
    /// burn-tch on the CPU (LibTorch).
    TchCpu,
    /// burn-tch on a CUDA device (LibTorch), by index.
    TchCuda(usize),
}

/// What can go wrong when choosing a backend.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BackendError {
    /// The name is not one Sprig knows.
    #[error(
        "unknown backend `{name}`: known backends are {known}; compiled into this build: {compiled}"
    )]
    Unknown {
        /// The name that was asked for.
        name: String,
        /// Every name Sprig understands.
        known: String,
        /// The names usable in this build.
        compiled: String,
    },
    /// The backend is known but this build does not include it.
    #[error(
        "backend `{name}` is not compiled into this build (rebuild with `--features {feature}`); compiled: {compiled}"
    )]
    NotCompiled {
        /// The backend asked for.
        name: String,
        /// The cargo feature of `sprig-backend` that adds it.
        feature: &'static str,
        /// The names usable in this build.
        compiled: String,
    },
    /// CUDA was asked for but LibTorch sees no CUDA device.
    #[error(
        "backend `{name}` needs a CUDA build of LibTorch and a GPU; LibTorch reports no CUDA device"
    )]
    CudaUnavailable {
        /// The backend asked for.
        name: String,
    },
}

impl Backend {
    /// Whether its training steps run `sparse_matmul` on the kept weights alone (flex);
    /// elsewhere the extension is the dense product.
    pub fn has_sparse_products(self) -> bool {
        matches!(self, Backend::Flex)
    }

    /// The backend used when the user names none: the first compiled of flex, ndarray, tch-cpu.
    pub fn default_compiled() -> Backend {
        compiled_backends()
            .first()
            .copied()
            .expect("sprig-backend is built with at least one backend feature")
    }

    /// The cargo feature of `sprig-backend` that compiles this backend in.
    pub fn feature(self) -> &'static str {
        match self {
            Backend::Flex => "flex",
            Backend::NdArray => "ndarray",
            Backend::TchCpu | Backend::TchCuda(_) => "tch",
        }
    }

    /// Whether this build includes the backend.
    pub fn is_compiled(self) -> bool {
        compiled_backends()
            .iter()
            .any(|b| b.feature() == self.feature())
    }

    /// The device for inference (no autodiff graph).
    pub fn device(self) -> Result<Device, BackendError> {
        if !self.is_compiled() {
            return Err(BackendError::NotCompiled {
                name: self.to_string(),
                feature: self.feature(),
                compiled: names::compiled_list(),
            });
        }
        names::make_device(self)
    }

    /// The device for training: the inference device with autodiff switched on.
    pub fn train_device(self) -> Result<Device, BackendError> {
        Ok(self.device()?.autodiff())
    }
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Backend::Flex => f.write_str("flex"),
            Backend::NdArray => f.write_str("ndarray"),
            Backend::TchCpu => f.write_str("tch-cpu"),
            Backend::TchCuda(0) => f.write_str("tch-cuda"),
            Backend::TchCuda(i) => write!(f, "tch-cuda:{i}"),
        }
    }
}

impl FromStr for Backend {
    type Err = BackendError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        let lower = name.trim().to_ascii_lowercase();
        let unknown = || BackendError::Unknown {
            name: name.to_string(),
            known: BACKEND_NAMES.join(", "),
            compiled: names::compiled_list(),
        };
        match lower.as_str() {
            "flex" => Ok(Backend::Flex),
            "ndarray" => Ok(Backend::NdArray),
            "tch-cpu" | "tch" => Ok(Backend::TchCpu),
            "tch-cuda" => Ok(Backend::TchCuda(0)),
            other => match other.strip_prefix("tch-cuda:") {
                Some(index) => index.parse().map(Backend::TchCuda).map_err(|_| unknown()),
                None => Err(unknown()),
            },
        }
    }
}

impl TryFrom<String> for Backend {
    type Error = BackendError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        value.parse()
    }
}

impl From<Backend> for String {
    fn from(value: Backend) -> Self {
        value.to_string()
    }
}

/// Re-exported so [`global_allocator!`] works without the caller naming mimalloc.
#[doc(hidden)]
pub use mimalloc as __mimalloc;

/// Sets mimalloc as the process's global allocator. Every Sprig binary, bench and eval
/// runner calls this once at its crate root: with glibc's default malloc Burn is up to 3×
/// slower on small models, so timings would depend on how the process was launched.
///
/// ```ignore
/// sprig_backend::global_allocator!();
/// ```
#[macro_export]
macro_rules! global_allocator {
    () => {
        #[global_allocator]
        static GLOBAL: $crate::__mimalloc::MiMalloc = $crate::__mimalloc::MiMalloc;
    };
}

/// Waits until every queued operation on `device` has finished, so a timer stopped after
/// it measures the work and not just its submission.
pub fn sync(device: &Device) {
    // A failed sync means the backend already failed the work; the caller's next tensor
    // read reports that error with context, so timing code need not.
    let _ = device.sync();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["flex", "ndarray", "tch-cpu", "tch-cuda", "tch-cuda:2"] {
            let backend: Backend = name.parse().unwrap();
            assert_eq!(backend.to_string(), name);
        }
    }

    #[test]
    fn unknown_name_lists_known_and_compiled() {
        let err = "wgpu".parse::<Backend>().unwrap_err().to_string();
        assert!(err.contains("unknown backend `wgpu`"), "{err}");
        assert!(err.contains("flex, ndarray, tch-cpu, tch-cuda"), "{err}");
        assert!(err.contains("compiled into this build"), "{err}");
    }

    #[test]
    fn missing_backend_names_its_feature() {
        if let Some(missing) = [Backend::Flex, Backend::NdArray, Backend::TchCpu]
            .into_iter()
            .find(|b| !b.is_compiled())
        {
            let err = missing.device().unwrap_err().to_string();
            assert!(
                err.contains(&format!("--features {}", missing.feature())),
                "{err}"
            );
        }
    }

    #[test]
    fn default_is_flex_when_compiled() {
        if Backend::Flex.is_compiled() {
            assert_eq!(Backend::default_compiled(), Backend::Flex);
        }
    }

    #[test]
    fn serde_uses_the_name() {
        let json = serde_json_like(Backend::TchCuda(1));
        assert_eq!(json, "tch-cuda:1");
        assert_eq!(Backend::try_from(json).unwrap(), Backend::TchCuda(1));
    }

    fn serde_json_like(b: Backend) -> String {
        String::from(b)
    }
}
