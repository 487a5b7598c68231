//! Which backends this build has, and how each one's device is made.
//!
//! The deprecated constructors (`Device::ndarray`, `Device::libtorch*`) are called here and
//! nowhere else in the workspace; the `allow(deprecated)` is scoped to those calls.

use crate::{Backend, BackendError, Device};

/// Every backend name Sprig understands, compiled in or not.
pub const BACKEND_NAMES: &[&str] = &["flex", "ndarray", "tch-cpu", "tch-cuda"];

/// The backends compiled into this build, fastest pure-Rust first (the default is the first).
pub fn compiled_backends() -> &'static [Backend] {
    const ALL: &[Backend] = &[
        #[cfg(feature = "flex")]
        Backend::Flex,
        #[cfg(feature = "ndarray")]
        Backend::NdArray,
        #[cfg(feature = "tch")]
        Backend::TchCpu,
    ];
    ALL
}

pub(crate) fn compiled_list() -> String {
    let mut names: Vec<String> = compiled_backends().iter().map(|b| b.to_string()).collect();
    if cfg!(feature = "tch") {
        names.push("tch-cuda".into());
    }
    if names.is_empty() {
        "none".into()
    } else {
        names.join(", ")
    }
}

/// Builds the device of a backend that [`Backend::is_compiled`] said is present.
pub(crate) fn make_device(backend: Backend) -> Result<Device, BackendError> {
    match backend {
        #[cfg(feature = "flex")]
        Backend::Flex => Ok(Device::flex()),
        #[cfg(feature = "ndarray")]
        #[allow(deprecated)]
        Backend::NdArray => Ok(Device::ndarray()),
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        Backend::TchCpu => {
            crate::libtorch_malloc::tune_for_libtorch();
            Ok(Device::libtorch())
        }
        #[cfg(feature = "tch")]
        #[allow(deprecated)]
        Backend::TchCuda(index) => {
            if tch::Cuda::is_available() {
                crate::libtorch_malloc::tune_for_libtorch();
                Ok(Device::libtorch_cuda(index))
            } else {
                Err(BackendError::CudaUnavailable {
                    name: backend.to_string(),
                })
            }
        }
        #[allow(unreachable_patterns)]
        other => Err(BackendError::NotCompiled {
            name: other.to_string(),
            feature: other.feature(),
            compiled: compiled_list(),
        }),
    }
}
