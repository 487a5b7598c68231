//! The one error type of the crate.
//!
//! Every public function that can be handed bad input returns
//! [`Result<T, MaskError>`](Result) instead of panicking. Messages name the
//! tensor involved and say what was expected, because the caller usually
//! juggles dozens of parameters and "length mismatch" alone is useless.

use thiserror::Error;

/// Placeholder tensor name used by [`Mask`](crate::Mask)-level operations,
/// which do not know which parameter they belong to. Containers
/// ([`MaskSet`](crate::MaskSet), [`Snapshot`](crate::Snapshot)) replace it
/// with the real name via [`MaskError::with_tensor`].
pub const UNNAMED: &str = "<unnamed>";

/// Shorthand for `Result<T, MaskError>`.
pub type Result<T, E = MaskError> = std::result::Result<T, E>;

/// Everything that can go wrong in `sprig-mask`.
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum MaskError {
    /// A flat buffer has the wrong number of elements for its tensor.
    #[error("tensor `{tensor}`: expected {expected} values, found {found}")]
    LengthMismatch {
        /// Parameter path, e.g. `fc1.weight`.
        tensor: String,
        /// Element count implied by the mask or shape.
        expected: usize,
        /// Element count actually supplied.
        found: usize,
    },
    /// A mask and a parameter disagree on shape.
    #[error("tensor `{tensor}`: expected shape {expected:?}, found {found:?}")]
    ShapeMismatch {
        /// Parameter path.
        tensor: String,
        /// Shape of the parameter (the reference).
        expected: Vec<usize>,
        /// Shape of the mask.
        found: Vec<usize>,
    },
    /// The product of the shape's dimensions overflows `usize`.
    #[error("tensor `{tensor}`: shape {shape:?} has more elements than fit in usize")]
    ShapeOverflow {
        /// Parameter path.
        tensor: String,
        /// The offending shape.
        shape: Vec<usize>,
    },
    /// An element index past the end of a mask.
    #[error("tensor `{tensor}`: index {index} is out of bounds for {len} elements")]
    IndexOutOfBounds {
        /// Parameter path.
        tensor: String,
        /// Requested index.
        index: usize,
        /// Number of elements in the mask.
        len: usize,
    },
    /// A mask names a parameter that does not exist.
    #[error("mask `{tensor}` has no matching parameter")]
    UnknownTensor {
        /// Parameter path carried by the mask.
        tensor: String,
    },
    /// A parameter that should be pruned has no mask.
    #[error("prunable parameter `{tensor}` (shape {shape:?}) has no mask")]
    MissingMask {
        /// Parameter path.
        tensor: String,
        /// Its shape.
        shape: Vec<usize>,
    },
    /// Pruning was asked for, but no scores were supplied for a masked tensor.
    #[error("tensor `{tensor}`: no scores supplied (expected {expected} scores)")]
    MissingScores {
        /// Parameter path.
        tensor: String,
        /// Number of scores needed.
        expected: usize,
    },
    /// The same parameter path was given twice.
    #[error("tensor `{tensor}` appears more than once")]
    DuplicateTensor {
        /// Parameter path.
        tensor: String,
    },
    /// Serialised mask data is inconsistent.
    #[error("tensor `{tensor}`: corrupt mask data: {reason}")]
    CorruptMask {
        /// Parameter path.
        tensor: String,
        /// What is wrong, including what was expected.
        reason: String,
    },
    /// Two masks said to be prunes of a third keep weights it does not (or mask other
    /// tensors).
    #[error("a mask keeps weights the mask it was said to be pruned from does not")]
    NotAPrune,
    /// A numeric argument (rate, fraction, target sparsity) is out of range.
    #[error("{name} = {value} is invalid: expected {expected}")]
    InvalidValue {
        /// Argument name, e.g. `target_sparsity`.
        name: &'static str,
        /// The value received.
        value: f64,
        /// Human-readable valid range.
        expected: &'static str,
    },
    /// A per-layer-kind rate multiplier is negative or not finite.
    #[error("rate multiplier for layer kind `{kind}` is {value}: expected a finite value >= 0")]
    InvalidMultiplier {
        /// Layer kind, e.g. `conv`.
        kind: String,
        /// The value received.
        value: f64,
    },
    /// A round count of zero where at least one round is needed.
    #[error("rounds = {rounds} is invalid: expected at least 1")]
    InvalidRounds {
        /// The value received.
        rounds: u32,
    },
    /// The requested sparsity cannot be reached with the given rates.
    #[error("target sparsity {target} is unreachable: {reason}")]
    Unreachable {
        /// The requested sparsity.
        target: f64,
        /// Why it cannot be reached.
        reason: String,
    },
    /// A pruning scope by a name that is none.
    #[error("unknown pruning scope `{name}`: known scopes are global, layerwise")]
    UnknownScope {
        /// The name given.
        name: String,
    },
}

impl MaskError {
    /// Replaces the tensor name in an error raised by a name-less operation
    /// (one that carries [`UNNAMED`]). Errors that already name a tensor are
    /// left unchanged, as are errors that concern no tensor.
    #[must_use]
    pub fn with_tensor(mut self, name: &str) -> Self {
        match &mut self {
            Self::LengthMismatch { tensor, .. }
            | Self::ShapeMismatch { tensor, .. }
            | Self::ShapeOverflow { tensor, .. }
            | Self::IndexOutOfBounds { tensor, .. }
            | Self::UnknownTensor { tensor }
            | Self::MissingMask { tensor, .. }
            | Self::MissingScores { tensor, .. }
            | Self::DuplicateTensor { tensor }
            | Self::CorruptMask { tensor, .. } => {
                if tensor == UNNAMED {
                    *tensor = name.to_owned();
                }
            }
            Self::InvalidValue { .. }
            | Self::InvalidMultiplier { .. }
            | Self::InvalidRounds { .. }
            | Self::Unreachable { .. }
            | Self::UnknownScope { .. }
            | Self::NotAPrune => {}
        }
        self
    }
}

/// Checks that `value` is finite and within `[lo, hi]`.
pub(crate) fn check_range(
    name: &'static str,
    value: f64,
    lo: f64,
    hi: f64,
    expected: &'static str,
) -> Result<()> {
    if value.is_finite() && value >= lo && value <= hi {
        Ok(())
    } else {
        Err(MaskError::InvalidValue {
            name,
            value,
            expected,
        })
    }
}

/// Number of elements of `shape`, or [`MaskError::ShapeOverflow`].
pub(crate) fn numel(shape: &[usize]) -> Result<usize> {
    shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| MaskError::ShapeOverflow {
            tensor: UNNAMED.to_owned(),
            shape: shape.to_vec(),
        })
}
