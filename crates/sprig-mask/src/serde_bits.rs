//! Compact serialisation of [`Mask`] and [`MaskSet`].
//!
//! Format (shown as JSON):
//!
//! ```text
//! Mask:    {"shape": [2, 3], "bits": "LQ=="}
//! MaskSet: {"fc1.weight": {"kind": "linear", "shape": [2, 3], "bits": "LQ=="}, ...}
//! ```
//!
//! `bits` are the bytes of [`Mask::to_packed_bytes`] (element `i` in bit
//! `i % 8` of byte `i / 8`): a standard, padded base64 string in
//! human-readable formats, raw bytes in binary ones. A mask costs one bit
//! per weight instead of a JSON `true`/`false` per weight.
//!
//! Deserialisation trusts nothing: base64, byte count against the shape,
//! stray bits past the last element and unknown fields are all checked, and
//! errors (naming the tensor) are returned, never panics.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use serde::{Deserialize, Serialize};

use crate::error::{MaskError, UNNAMED};
use crate::mask::Mask;
use crate::mask_set::{MaskEntry, MaskSet};

/// Packed bits as they appear in a serialised document.
#[derive(Debug)]
enum PackedBits {
    /// From a binary format, or a sequence of byte values.
    Raw(Vec<u8>),
    /// From a human-readable format; decoded once the tensor name is known.
    Base64(String),
}

/// Serialises already-packed bytes as base64 or raw bytes.
#[derive(Debug)]
struct BitsOut(Vec<u8>);

impl Serialize for BitsOut {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            serializer.serialize_str(&STANDARD.encode(&self.0))
        } else {
            serializer.serialize_bytes(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for PackedBits {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if deserializer.is_human_readable() {
            deserializer.deserialize_str(BitsVisitor)
        } else {
            deserializer.deserialize_bytes(BitsVisitor)
        }
    }
}

#[derive(Debug)]
struct BitsVisitor;

impl<'de> Visitor<'de> for BitsVisitor {
    type Value = PackedBits;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bit-packed mask bytes (a base64 string or a byte array)")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<PackedBits, E> {
        Ok(PackedBits::Base64(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<PackedBits, E> {
        Ok(PackedBits::Base64(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<PackedBits, E> {
        Ok(PackedBits::Raw(v.to_vec()))
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<PackedBits, E> {
        Ok(PackedBits::Raw(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PackedBits, A::Error> {
        // Cap the pre-allocation: the size hint comes from untrusted input.
        let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 16));
        while let Some(b) = seq.next_element::<u8>()? {
            bytes.push(b);
        }
        Ok(PackedBits::Raw(bytes))
    }
}

/// Rebuilds and validates a mask; errors name `tensor`.
fn decode(tensor: &str, shape: &[usize], bits: PackedBits) -> Result<Mask, MaskError> {
    let bytes = match bits {
        PackedBits::Raw(bytes) => bytes,
        PackedBits::Base64(text) => {
            STANDARD
                .decode(text.as_bytes())
                .map_err(|e| MaskError::CorruptMask {
                    tensor: tensor.to_owned(),
                    reason: format!("`bits` is not valid base64: {e}"),
                })?
        }
    };
    Mask::from_packed_bytes(shape, &bytes).map_err(|e| e.with_tensor(tensor))
}

#[derive(Serialize)]
struct MaskOut<'a> {
    shape: &'a [usize],
    bits: BitsOut,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MaskIn {
    shape: Vec<usize>,
    bits: PackedBits,
}

#[derive(Serialize)]
struct EntryOut<'a> {
    kind: &'a str,
    shape: &'a [usize],
    bits: BitsOut,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntryIn {
    kind: String,
    shape: Vec<usize>,
    bits: PackedBits,
}

impl Serialize for Mask {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        MaskOut {
            shape: self.shape(),
            bits: BitsOut(self.to_packed_bytes()),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Mask {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = MaskIn::deserialize(deserializer)?;
        decode(UNNAMED, &raw.shape, raw.bits).map_err(de::Error::custom)
    }
}

impl Serialize for MaskSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(name, e)| {
            let out = EntryOut {
                kind: &e.kind,
                shape: e.mask.shape(),
                bits: BitsOut(e.mask.to_packed_bytes()),
            };
            (name, out)
        }))
    }
}

impl<'de> Deserialize<'de> for MaskSet {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = BTreeMap::<String, EntryIn>::deserialize(deserializer)?;
        let mut entries = BTreeMap::new();
        for (name, e) in raw {
            let mask = decode(&name, &e.shape, e.bits).map_err(de::Error::custom)?;
            entries.insert(name, MaskEntry { kind: e.kind, mask });
        }
        Ok(Self { entries })
    }
}
