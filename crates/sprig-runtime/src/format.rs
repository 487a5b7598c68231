//! The file: a fixed header (magic, version, body length, CRC-32) and a body holding the
//! graph and the tensors. `docs/sparse-format.md` is the byte-level specification.

use alloc::vec::Vec;

use crate::RuntimeError;
use crate::bytes::{Reader, Writer};
use crate::encoding::{Decoded, EncodeOptions, TensorSize, read_tensor, write_tensor};
use crate::error::invalid;
use crate::features::LogMelConfig;
use crate::graph::{ConvGeometry, Graph, Layer, Preprocess, TensorSpec};

/// The first eight bytes of every file.
pub const MAGIC: [u8; 8] = *b"SPRIGTKT";

/// The format version this runtime writes and reads.
pub const FORMAT_VERSION: u16 = 1;

/// The most values one input may have (a 3 × 2048 × 2048 image is 12.6 million): every
/// buffer a forward pass needs is sized from the input, so a damaged shape must not ask
/// for gigabytes.
const MAX_INPUT_VALUES: usize = 1 << 24;

/// Magic, version, reserved, body length, CRC-32.
const HEADER_LEN: usize = 8 + 2 + 2 + 8 + 4;

/// A written model: its bytes and what each tensor costs.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFile {
    /// The whole file.
    pub bytes: Vec<u8>,
    /// One entry per tensor, in file order.
    pub tensors: Vec<TensorSize>,
}

impl ModelFile {
    /// Bytes not spent on tensors: header, graph and metadata.
    pub fn overhead_bytes(&self) -> usize {
        self.bytes.len() - self.tensors.iter().map(|t| t.bytes).sum::<usize>()
    }
}

/// Encodes `graph` and `tensors` (which the layers name by index) into a file.
///
/// # Errors
/// [`RuntimeError::Invalid`] if a layer names a tensor that does not exist, a tensor's
/// shape does not hold its values, or a value is not finite. Shapes that do not chain
/// are found when the file is loaded ([`Model::load`](crate::Model::load)).
pub fn write_model(
    graph: &Graph,
    tensors: &[TensorSpec],
    options: &EncodeOptions,
) -> Result<ModelFile, RuntimeError> {
    check_refs(&graph.layers, tensors.len())?;
    let count = |n: usize, what: &str| {
        u16::try_from(n).map_err(|_| invalid(alloc::format!("more than 65,535 {what}")))
    };
    let mut w = Writer::default();
    w.str(&graph.architecture);
    for d in graph.input {
        w.u32(u32::try_from(d).map_err(|_| invalid("an input dimension over 2^32"))?);
    }
    w.u32(u32::try_from(graph.classes).map_err(|_| invalid("more than 2^32 classes"))?);
    match &graph.preprocess {
        Preprocess::None => w.u8(0),
        Preprocess::PixelAffine { scale, offset } => {
            if scale.len() != graph.input[0] || offset.len() != graph.input[0] {
                return Err(invalid(
                    "pixel preprocessing needs one scale and offset per channel",
                ));
            }
            w.u8(1);
            for (s, o) in scale.iter().zip(offset) {
                w.f32(*s);
                w.f32(*o);
            }
        }
        Preprocess::LogMel {
            features,
            mean,
            inv_std,
        } => {
            features.check()?;
            let bands = features.mels;
            if mean.len() != bands || inv_std.len() != bands {
                return Err(invalid(
                    "log-mel preprocessing needs one mean and scale per band",
                ));
            }
            if graph.input != [1, features.frames(), bands] {
                return Err(invalid(alloc::format!(
                    "log-mel settings give [1, {}, {bands}], not the input {:?}",
                    features.frames(),
                    graph.input
                )));
            }
            let small =
                |v: usize| u32::try_from(v).map_err(|_| invalid("a log-mel setting over 2^32"));
            w.u8(2);
            w.u32(features.sample_rate);
            w.u32(features.duration_ms);
            w.u32(small(features.window)?);
            w.u32(small(features.hop)?);
            w.u32(small(bands)?);
            w.f32(features.fmin);
            w.f32(features.fmax);
            for (m, k) in mean.iter().zip(inv_std) {
                w.f32(*m);
                w.f32(*k);
            }
        }
    }
    w.u16(count(graph.metadata.len(), "metadata entries")?);
    for (k, v) in &graph.metadata {
        w.str(k);
        w.str(v);
    }
    w.u16(count(graph.layers.len(), "layers")?);
    for layer in &graph.layers {
        write_layer(&mut w, layer)?;
    }
    w.u16(count(tensors.len(), "tensors")?);
    let mut sizes = Vec::with_capacity(tensors.len());
    for t in tensors {
        sizes.push(write_tensor(&mut w, t, options)?);
    }
    let body = w.bytes;
    let mut file = Writer::default();
    file.bytes.extend_from_slice(&MAGIC);
    file.u16(FORMAT_VERSION);
    file.u16(0);
    file.u64(body.len() as u64);
    file.u32(crc32fast::hash(&body));
    file.bytes.extend_from_slice(&body);
    Ok(ModelFile {
        bytes: file.bytes,
        tensors: sizes,
    })
}

/// Decodes a file, checking magic, version, length and CRC-32 before reading the body,
/// and every index in it.
pub(crate) fn read_file(bytes: &[u8]) -> Result<(Graph, Vec<Decoded>), RuntimeError> {
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(RuntimeError::NotAModel);
    }
    let mut head = Reader::new(bytes, 0);
    head.take(MAGIC.len(), "magic")?;
    let version = head.u16("format version")?;
    if version != FORMAT_VERSION {
        return Err(RuntimeError::Version {
            found: version,
            supported: FORMAT_VERSION,
        });
    }
    head.u16("reserved")?;
    let body_len = head.u64("body length")?;
    let expected = head.u32("checksum")?;
    let body_len = usize::try_from(body_len).map_err(|_| invalid("body length over usize"))?;
    let body = &bytes[HEADER_LEN.min(bytes.len())..];
    if body.len() < body_len {
        return Err(RuntimeError::Truncated {
            what: "the body",
            at: HEADER_LEN,
            needed: body_len,
        });
    }
    if body.len() > body_len {
        return Err(invalid(alloc::format!(
            "{} bytes follow the body",
            body.len() - body_len
        )));
    }
    let found = crc32fast::hash(body);
    if found != expected {
        return Err(RuntimeError::Checksum { expected, found });
    }
    let mut r = Reader::new(body, HEADER_LEN);
    let architecture = r.str("architecture")?;
    let mut input = [0usize; 3];
    for d in &mut input {
        *d = r.u32("input shape")? as usize;
    }
    let values = input.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
    if !values.is_some_and(|n| (1..=MAX_INPUT_VALUES).contains(&n)) {
        return Err(invalid(alloc::format!(
            "input shape {input:?}: 1 to {MAX_INPUT_VALUES} values expected"
        )));
    }
    let classes = r.u32("class count")? as usize;
    let preprocess = match r.u8("preprocessing")? {
        0 => Preprocess::None,
        1 => {
            let pairs = r.many(input[0], 8, "preprocessing constants", |r| {
                Ok((r.f32("scale")?, r.f32("offset")?))
            })?;
            let (scale, offset) = pairs.into_iter().unzip();
            Preprocess::PixelAffine { scale, offset }
        }
        2 => {
            let features = LogMelConfig {
                sample_rate: r.u32("sample rate")?,
                duration_ms: r.u32("clip length")?,
                window: r.u32("window")? as usize,
                hop: r.u32("hop")? as usize,
                mels: r.u32("mel bands")? as usize,
                fmin: r.f32("lowest frequency")?,
                fmax: r.f32("highest frequency")?,
            };
            features.check()?;
            if input != [1, features.frames(), features.mels] {
                return Err(invalid(alloc::format!(
                    "log-mel settings give [1, {}, {}], not the input {input:?}",
                    features.frames(),
                    features.mels
                )));
            }
            let pairs = r.many(features.mels, 8, "band normalisation", |r| {
                Ok((r.f32("band mean")?, r.f32("band scale")?))
            })?;
            let (mean, inv_std) = pairs.into_iter().unzip();
            Preprocess::LogMel {
                features,
                mean,
                inv_std,
            }
        }
        t => return Err(invalid(alloc::format!("unknown preprocessing {t}"))),
    };
    let n = usize::from(r.u16("metadata count")?);
    let metadata = r.many(n, 4, "metadata", |r| {
        Ok((r.str("metadata key")?, r.str("metadata value")?))
    })?;
    let n = usize::from(r.u16("layer count")?);
    let layers = r.many(n, 1, "layers", read_layer)?;
    let n = usize::from(r.u16("tensor count")?);
    let tensors: Vec<Decoded> = r.many(n, 8, "tensors", read_tensor)?;
    if !r.is_at_end() {
        return Err(invalid("bytes left after the last tensor"));
    }
    check_refs(&layers, tensors.len())?;
    let graph = Graph {
        architecture,
        input,
        classes,
        preprocess,
        metadata,
        layers,
    };
    Ok((graph, tensors))
}

/// Layer tags, in the file.
const LINEAR: u8 = 0;
const CONV2D: u8 = 1;
const MAX_POOL: u8 = 2;
const RELU: u8 = 3;
const FLATTEN: u8 = 4;
/// A convolution with any stride, padding and grouping (tag 1 stays for the others, so
/// their files are unchanged).
const CONV2D_GENERAL: u8 = 5;
const GLOBAL_AVG_POOL: u8 = 6;
const GLOBAL_MAX_POOL: u8 = 7;
const EMBEDDING: u8 = 8;
const EMBEDDING_MEAN: u8 = 9;
const SAVE: u8 = 10;
const LOAD: u8 = 11;
const CONCAT_AFTER: u8 = 12;
const ADD_FROM: u8 = 13;
/// "No bias".
const NONE: u16 = u16::MAX;

fn write_layer(w: &mut Writer, layer: &Layer) -> Result<(), RuntimeError> {
    let index = |i: usize| {
        u16::try_from(i)
            .ok()
            .filter(|&i| i != NONE)
            .ok_or_else(|| invalid("a tensor index over 65,534"))
    };
    let bias = |b: Option<usize>| b.map_or(Ok(NONE), index);
    let small = |v: usize, what: &str| {
        u8::try_from(v).map_err(|_| invalid(alloc::format!("{what} {v} is over 255")))
    };
    match *layer {
        Layer::Linear { weight, bias: b } => {
            w.u8(LINEAR);
            w.u16(index(weight)?);
            w.u16(bias(b)?);
        }
        Layer::Conv2d {
            weight,
            bias: b,
            geometry,
        } => match geometry.uniform_padding() {
            Some(padding) => {
                w.u8(CONV2D);
                w.u16(index(weight)?);
                w.u16(bias(b)?);
                w.u8(small(padding, "padding")?);
            }
            None => {
                w.u8(CONV2D_GENERAL);
                w.u16(index(weight)?);
                w.u16(bias(b)?);
                for s in geometry.stride {
                    w.u8(small(s, "stride")?);
                }
                for p in geometry.padding {
                    w.u8(small(p, "padding")?);
                }
                w.u16(
                    u16::try_from(geometry.groups)
                        .map_err(|_| invalid("more than 65,535 channel groups"))?,
                );
            }
        },
        Layer::MaxPool2d { size } => {
            w.u8(MAX_POOL);
            w.u8(small(size, "pool size")?);
        }
        Layer::GlobalAvgPool => w.u8(GLOBAL_AVG_POOL),
        Layer::GlobalMaxPool => w.u8(GLOBAL_MAX_POOL),
        Layer::Relu => w.u8(RELU),
        Layer::Flatten => w.u8(FLATTEN),
        Layer::Embedding { table } => {
            w.u8(EMBEDDING);
            w.u16(index(table)?);
        }
        Layer::EmbeddingMean { table } => {
            w.u8(EMBEDDING_MEAN);
            w.u16(index(table)?);
        }
        Layer::Save { slot } => {
            w.u8(SAVE);
            w.u8(slot);
        }
        Layer::Load { slot } => {
            w.u8(LOAD);
            w.u8(slot);
        }
        Layer::ConcatAfter { slot } => {
            w.u8(CONCAT_AFTER);
            w.u8(slot);
        }
        Layer::AddFrom { slot } => {
            w.u8(ADD_FROM);
            w.u8(slot);
        }
    }
    Ok(())
}

fn read_layer(r: &mut Reader<'_>) -> Result<Layer, RuntimeError> {
    let bias = |b: u16| (b != NONE).then_some(usize::from(b));
    Ok(match r.u8("layer tag")? {
        LINEAR => Layer::Linear {
            weight: usize::from(r.u16("weight index")?),
            bias: bias(r.u16("bias index")?),
        },
        CONV2D => Layer::Conv2d {
            weight: usize::from(r.u16("weight index")?),
            bias: bias(r.u16("bias index")?),
            geometry: ConvGeometry::padded(usize::from(r.u8("padding")?)),
        },
        CONV2D_GENERAL => {
            let weight = usize::from(r.u16("weight index")?);
            let bias = bias(r.u16("bias index")?);
            let mut stride = [0; 2];
            for s in &mut stride {
                *s = usize::from(r.u8("stride")?);
            }
            let mut padding = [0; 4];
            for p in &mut padding {
                *p = usize::from(r.u8("padding")?);
            }
            let groups = usize::from(r.u16("groups")?);
            if stride.contains(&0) || groups == 0 {
                return Err(invalid("a convolution with a stride or group count of 0"));
            }
            Layer::Conv2d {
                weight,
                bias,
                geometry: ConvGeometry {
                    stride,
                    padding,
                    groups,
                },
            }
        }
        GLOBAL_AVG_POOL => Layer::GlobalAvgPool,
        MAX_POOL => {
            let size = usize::from(r.u8("pool size")?);
            if size == 0 {
                return Err(invalid("a pool of size 0"));
            }
            Layer::MaxPool2d { size }
        }
        GLOBAL_MAX_POOL => Layer::GlobalMaxPool,
        RELU => Layer::Relu,
        FLATTEN => Layer::Flatten,
        EMBEDDING => Layer::Embedding {
            table: usize::from(r.u16("table index")?),
        },
        EMBEDDING_MEAN => Layer::EmbeddingMean {
            table: usize::from(r.u16("table index")?),
        },
        SAVE => Layer::Save {
            slot: r.u8("slot")?,
        },
        LOAD => Layer::Load {
            slot: r.u8("slot")?,
        },
        CONCAT_AFTER => Layer::ConcatAfter {
            slot: r.u8("slot")?,
        },
        ADD_FROM => Layer::AddFrom {
            slot: r.u8("slot")?,
        },
        t => return Err(invalid(alloc::format!("unknown layer tag {t}"))),
    })
}

/// Every tensor index a layer names exists.
fn check_refs(layers: &[Layer], tensors: usize) -> Result<(), RuntimeError> {
    for (i, layer) in layers.iter().enumerate() {
        if let Some(bad) = layer
            .tensors()
            .into_iter()
            .flatten()
            .find(|&t| t >= tensors)
        {
            return Err(invalid(alloc::format!(
                "layer {i} names tensor {bad}, but there are {tensors}"
            )));
        }
    }
    Ok(())
}

/// The graph and per-tensor sizes of a file, without building the model.
///
/// # Errors
/// As [`Model::load`](crate::Model::load).
pub fn read_model(bytes: &[u8]) -> Result<(Graph, Vec<TensorSize>), RuntimeError> {
    let (graph, tensors) = read_file(bytes)?;
    Ok((graph, tensors.into_iter().map(|t| t.size).collect()))
}
