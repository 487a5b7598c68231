//! A loaded model: layers with their weights in the chosen form, shapes checked once.

use alloc::vec::Vec;

use crate::RuntimeError;
use crate::conv::{ConvShape, Convolution};
use crate::encoding::{Decoded, TensorSize};
use crate::error::shape;
use crate::features::LogMel;
use crate::format::read_file;
use crate::graph::{Graph, Layer, Preprocess};
use crate::kernels::{
    CscMatrix, CsrMatrix, DenseMatrix, Matrix, embed, embed_mean, global_avg_pool, global_max_pool,
    max_pool,
};

/// How weight matrices are held and multiplied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Execution {
    /// Only non-zeros, in CSR: work in proportion to the weights kept (the default).
    #[default]
    Sparse,
    /// Every weight, zeros included: what a dense runtime does, for comparison.
    Dense,
}

/// The shape of the activations between two layers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Activations {
    Image([usize; 3]),
    Flat(usize),
}

impl Activations {
    fn len(self) -> usize {
        match self {
            Activations::Image([c, h, w]) => c * h * w,
            Activations::Flat(n) => n,
        }
    }
}

/// A layer ready to run.
#[derive(Debug, Clone, PartialEq)]
enum Op {
    Linear { weights: Matrix, bias: Vec<f32> },
    Conv { conv: Convolution, bias: Vec<f32> },
    MaxPool { input: [usize; 3], size: usize },
    GlobalAvgPool { input: [usize; 3] },
    GlobalMaxPool { input: [usize; 3] },
    Relu,
    Flatten,
    Embedding { table: Matrix, mean: bool },
    Save(usize),
    Load(usize),
    ConcatAfter(usize),
    AddFrom(usize),
}

/// The activations a [`Layer::Save`] keeps, by slot (256 at most).
type Slots = Vec<Option<Activations>>;

/// An exported model, loaded and checked, ready for inference.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    graph: Graph,
    ops: Vec<Op>,
    sizes: Vec<TensorSize>,
    execution: Execution,
    /// The longest activation vector, for the two working buffers.
    widest: usize,
    /// Sparse execution of a model that starts flatten → linear on pixels: that layer with
    /// the pixel normalisation folded in (`W·diag(scale)` and `b + W·offset`), so it runs
    /// on raw pixels and skips the zero ones (the background of most images).
    folded: Option<Op>,
    /// For a model whose input is token ids: the vocabulary size (ids are below it).
    vocabulary: Option<usize>,
    /// Slots the branches use.
    slots: usize,
    /// For a model whose input is a spectrogram: the extractor that makes it from PCM.
    log_mel: Option<LogMel>,
}

impl Model {
    /// Loads a file written by [`write_model`](crate::write_model), holding the weights in
    /// the `execution` form.
    ///
    /// # Errors
    /// [`RuntimeError::NotAModel`], [`RuntimeError::Version`], [`RuntimeError::Truncated`],
    /// [`RuntimeError::Checksum`] or [`RuntimeError::Invalid`] for a bad file;
    /// [`RuntimeError::Shape`] if the layers' shapes do not chain from the input to the
    /// class count.
    pub fn load(bytes: &[u8], execution: Execution) -> Result<Self, RuntimeError> {
        let (graph, tensors) = read_file(bytes)?;
        let sizes = tensors.iter().map(|t| t.size.clone()).collect();
        let mut ops = Vec::with_capacity(graph.layers.len());
        let mut act = Activations::Image(graph.input);
        let mut widest = act.len();
        let mut slots: Slots = alloc::vec![None; 256];
        for (i, layer) in graph.layers.iter().enumerate() {
            if i > 0 && matches!(layer, Layer::Embedding { .. } | Layer::EmbeddingMean { .. }) {
                return Err(shape(alloc::format!(
                    "layer {i} ({layer:?}): an embedding takes the input's token ids, so it \
                     comes first"
                )));
            }
            let (op, next) = build(i, *layer, act, &tensors, execution, &mut slots)?;
            ops.push(op);
            act = next;
            widest = widest.max(act.len());
        }
        if act.len() != graph.classes {
            return Err(shape(alloc::format!(
                "the last layer gives {} values for {} classes",
                act.len(),
                graph.classes
            )));
        }
        let folded = fold_pixels(&graph, &ops);
        let vocabulary = match ops.first() {
            Some(Op::Embedding { table, .. }) => Some(table.rows()),
            _ => None,
        };
        let slots = graph
            .layers
            .iter()
            .filter_map(|l| match *l {
                Layer::Save { slot } => Some(usize::from(slot) + 1),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        let log_mel = match &graph.preprocess {
            Preprocess::LogMel { features, .. } => Some(LogMel::new(*features)?),
            _ => None,
        };
        Ok(Self {
            graph,
            ops,
            sizes,
            execution,
            widest,
            folded,
            vocabulary,
            slots,
            log_mel,
        })
    }

    /// What the file describes.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Each tensor's size in the file.
    pub fn tensor_sizes(&self) -> &[TensorSize] {
        &self.sizes
    }

    /// The form the weights are held in.
    pub fn execution(&self) -> Execution {
        self.execution
    }

    /// Values one input has.
    pub fn input_len(&self) -> usize {
        self.graph.input.iter().product()
    }

    /// Multiply–adds of one forward pass in this execution form.
    pub fn multiply_adds(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op {
                Op::Linear { weights, .. } => weights.multiply_adds(),
                Op::Conv { conv, .. } => conv.multiply_adds(),
                _ => 0,
            })
            .sum()
    }

    /// The model's input from raw 8-bit pixels (planar by channel), as training
    /// normalised them.
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if the model takes no pixels or `pixels` has the wrong
    /// length.
    pub fn preprocess(&self, pixels: &[u8]) -> Result<Vec<f32>, RuntimeError> {
        let Preprocess::PixelAffine { scale, offset } = &self.graph.preprocess else {
            return Err(shape("this model's input is not pixels"));
        };
        self.check_input(pixels.len())?;
        let plane = self.graph.input[1] * self.graph.input[2];
        Ok(pixels
            .chunks_exact(plane.max(1))
            .zip(scale.iter().zip(offset))
            .flat_map(|(chan, (&s, &o))| chan.iter().map(move |&p| f32::from(p) * s + o))
            .collect())
    }

    /// The logits for one input (already preprocessed; for a text model, its
    /// [`Model::input_len`] token ids as `f32`, see [`Model::forward_tokens`]).
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if `input` does not have [`Model::input_len`] values, or,
    /// for a text model, holds a value that is not a token id of its vocabulary.
    pub fn forward(&self, input: &[f32]) -> Result<Vec<f32>, RuntimeError> {
        self.check_input(input.len())?;
        if let Some(vocabulary) = self.vocabulary
            && let Some(bad) = input
                .iter()
                .position(|&id| !(id >= 0.0 && id < vocabulary as f32 && id == (id as u32) as f32))
        {
            return Err(shape(alloc::format!(
                "input {bad} is {}, not a token id below the vocabulary's {vocabulary}",
                input[bad]
            )));
        }
        Ok(self.run(&self.ops, input))
    }

    /// Whether the input is token ids (a text model): how many ids its vocabulary has.
    pub fn vocabulary(&self) -> Option<usize> {
        self.vocabulary
    }

    /// The logits for a text: its token ids (`docs/sparse-format.md` says how text becomes
    /// ids), padded with 0 (`<pad>`) or cut to [`Model::input_len`] as training did.
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if the model does not take token ids or an id is not in
    /// its vocabulary.
    pub fn forward_tokens(&self, ids: &[u32]) -> Result<Vec<f32>, RuntimeError> {
        let Some(vocabulary) = self.vocabulary else {
            return Err(shape("this model's input is not token ids"));
        };
        // Checked before they become floats, which hold every id exactly only below 2^24.
        let used = &ids[..ids.len().min(self.input_len())];
        if let Some(bad) = used.iter().position(|&id| id as usize >= vocabulary) {
            return Err(shape(alloc::format!(
                "input {bad} is {}, not a token id below the vocabulary's {vocabulary}",
                used[bad]
            )));
        }
        let mut input: Vec<f32> = ids
            .iter()
            .take(self.input_len())
            .map(|&i| i as f32)
            .collect();
        input.resize(self.input_len(), 0.0);
        self.forward(&input)
    }

    /// The model's input from mono PCM samples in [-1, 1] at the rate its spectrogram
    /// settings name (cut or padded with silence to their clip length): the normalised
    /// log-mel spectrogram `[1, frames, mels]`, as training computed it.
    ///
    /// # Errors
    /// [`RuntimeError::Shape`] if the model does not take a spectrogram.
    pub fn preprocess_pcm(&self, samples: &[f32]) -> Result<Vec<f32>, RuntimeError> {
        let (Some(log_mel), Preprocess::LogMel { mean, inv_std, .. }) =
            (&self.log_mel, &self.graph.preprocess)
        else {
            return Err(shape("this model's input is not a spectrogram"));
        };
        let mut features = Vec::with_capacity(self.input_len());
        log_mel.extend(samples, &mut features);
        for frame in features.chunks_exact_mut(mean.len().max(1)) {
            for (x, (m, k)) in frame.iter_mut().zip(mean.iter().zip(inv_std)) {
                *x = (*x - m) * k;
            }
        }
        Ok(features)
    }

    /// The logits for mono PCM samples ([`Model::preprocess_pcm`], then the model).
    ///
    /// # Errors
    /// As [`Model::preprocess_pcm`].
    pub fn forward_pcm(&self, samples: &[f32]) -> Result<Vec<f32>, RuntimeError> {
        self.forward(&self.preprocess_pcm(samples)?)
    }

    /// The logits for raw 8-bit pixels (planar by channel), preprocessing included. In
    /// sparse execution a model that starts flatten → linear skips the zero pixels (see
    /// [`Model::preprocess`] for the map).
    ///
    /// # Errors
    /// As [`Model::preprocess`].
    pub fn forward_pixels(&self, pixels: &[u8]) -> Result<Vec<f32>, RuntimeError> {
        match &self.folded {
            Some(first) => {
                self.check_input(pixels.len())?;
                let x: Vec<f32> = pixels.iter().map(|&p| f32::from(p)).collect();
                let ops = core::iter::once(first).chain(&self.ops[2..]);
                Ok(self.run(ops, &x))
            }
            None => self.forward(&self.preprocess(pixels)?),
        }
    }

    /// Runs `ops` on `input`, ping-ponging between two buffers.
    fn run<'a>(&'a self, ops: impl IntoIterator<Item = &'a Op>, input: &[f32]) -> Vec<f32> {
        let mut a = Vec::with_capacity(self.widest);
        a.extend_from_slice(input);
        let mut b = alloc::vec![0.0; self.widest];
        let mut slots: Vec<Vec<f32>> = alloc::vec![Vec::new(); self.slots];
        for op in ops {
            match op {
                Op::Linear { weights, bias } => {
                    let out = &mut b[..weights.rows()];
                    weights.matvec(&a, out);
                    for (o, b) in out.iter_mut().zip(bias) {
                        *o += b;
                    }
                    swap(&mut a, &mut b, weights.rows());
                }
                Op::Conv { conv, bias } => {
                    let n = conv.shape().output.iter().product();
                    conv.run(bias, &a, &mut b[..n]);
                    swap(&mut a, &mut b, n);
                }
                Op::MaxPool { input, size } => {
                    let n = input[0] * (input[1] / size) * (input[2] / size);
                    max_pool(&a, *input, *size, &mut b[..n]);
                    swap(&mut a, &mut b, n);
                }
                Op::GlobalAvgPool { input } => {
                    global_avg_pool(&a, *input, &mut b[..input[0]]);
                    swap(&mut a, &mut b, input[0]);
                }
                Op::GlobalMaxPool { input } => {
                    global_max_pool(&a, *input, &mut b[..input[0]]);
                    swap(&mut a, &mut b, input[0]);
                }
                Op::Relu => a.iter_mut().for_each(|v| *v = v.max(0.0)),
                Op::Flatten => {}
                Op::Embedding { table, mean } => {
                    let n = if *mean {
                        table.cols()
                    } else {
                        table.cols() * a.len()
                    };
                    if *mean {
                        embed_mean(table, &a, &mut b[..n]);
                    } else {
                        embed(table, &a, &mut b[..n]);
                    }
                    swap(&mut a, &mut b, n);
                }
                Op::Save(slot) => {
                    slots[*slot].clear();
                    slots[*slot].extend_from_slice(&a);
                }
                Op::Load(slot) => {
                    a.clear();
                    a.extend_from_slice(&slots[*slot]);
                }
                Op::AddFrom(slot) => {
                    for (x, kept) in a.iter_mut().zip(&slots[*slot]) {
                        *x += kept;
                    }
                }
                Op::ConcatAfter(slot) => {
                    let (kept, n) = (slots[*slot].len(), slots[*slot].len() + a.len());
                    b[..kept].copy_from_slice(&slots[*slot]);
                    b[kept..n].copy_from_slice(&a);
                    swap(&mut a, &mut b, n);
                }
            }
        }
        a
    }

    /// The predicted class: the first index of the largest logit.
    ///
    /// # Errors
    /// As [`Model::forward`].
    pub fn predict(&self, input: &[f32]) -> Result<usize, RuntimeError> {
        let logits = self.forward(input)?;
        Ok(argmax(&logits))
    }

    /// The predicted class of raw pixels ([`Model::forward_pixels`]).
    ///
    /// # Errors
    /// As [`Model::preprocess`].
    pub fn predict_pixels(&self, pixels: &[u8]) -> Result<usize, RuntimeError> {
        Ok(argmax(&self.forward_pixels(pixels)?))
    }

    fn check_input(&self, len: usize) -> Result<(), RuntimeError> {
        if len == self.input_len() {
            Ok(())
        } else {
            Err(shape(alloc::format!(
                "the model takes {} values ({:?}), not {len}",
                self.input_len(),
                self.graph.input
            )))
        }
    }
}

/// The index of the first largest value (0 for an empty slice).
pub(crate) fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, v) in values.iter().enumerate() {
        if *v > values[best] {
            best = i;
        }
    }
    best
}

/// Makes the first `n` values of `b` the current activations.
fn swap(a: &mut Vec<f32>, b: &mut Vec<f32>, n: usize) {
    core::mem::swap(a, b);
    let cap = b.len().max(a.len());
    a.truncate(n);
    b.resize(cap, 0.0);
}

/// A layer's op and the activations after it.
fn build(
    index: usize,
    layer: Layer,
    act: Activations,
    tensors: &[Decoded],
    execution: Execution,
    slots: &mut Slots,
) -> Result<(Op, Activations), RuntimeError> {
    let fail =
        |why: alloc::string::String| shape(alloc::format!("layer {index} ({layer:?}): {why}"));
    let bias_of = |bias: Option<usize>, n: usize| -> Result<Vec<f32>, RuntimeError> {
        let Some(b) = bias else {
            return Ok(alloc::vec![0.0; n]);
        };
        let t = &tensors[b];
        if t.shape != [n] {
            return Err(fail(alloc::format!(
                "bias `{}` has shape {:?}, expected [{n}]",
                t.name,
                t.shape
            )));
        }
        Ok(t.dense())
    };
    Ok(match layer {
        Layer::Linear { weight, bias } => {
            let t = &tensors[weight];
            let Activations::Flat(n) = act else {
                return Err(fail(alloc::format!(
                    "takes a flat vector, got {act:?} (flatten first)"
                )));
            };
            if t.shape.len() != 2 || t.cols != n {
                return Err(fail(alloc::format!(
                    "weight `{}` has shape {:?}, expected [out, {n}]",
                    t.name,
                    t.shape
                )));
            }
            let weights = match matrix(t, execution) {
                Matrix::Sparse(csr) => Matrix::SparseColumns(CscMatrix::from_csr(&csr)),
                dense => dense,
            };
            let op = Op::Linear {
                weights,
                bias: bias_of(bias, t.rows)?,
            };
            (op, Activations::Flat(t.rows))
        }
        Layer::Conv2d {
            weight,
            bias,
            geometry,
        } => {
            let t = &tensors[weight];
            let Activations::Image([c, h, w]) = act else {
                return Err(fail(alloc::format!("takes an image, got {act:?}")));
            };
            let groups = geometry.groups;
            // A 1-D convolution's weight `[out, in, kw]` (Burn's `Conv1d`, over time) is a
            // 2-D one with one row.
            let (o, i, kh, kw) = match *t.shape.as_slice() {
                [o, i, kh, kw] => (o, i, kh, kw),
                [o, i, kw] => (o, i, 1, kw),
                _ => {
                    return Err(fail(alloc::format!(
                        "weight `{}` has shape {:?}, expected [out, in / groups, kh, kw] \
                         or [out, in, kw]",
                        t.name,
                        t.shape
                    )));
                }
            };
            if groups == 0 || c % groups != 0 || o % groups != 0 {
                return Err(fail(alloc::format!(
                    "{groups} groups do not divide {c} input and {o} output channels"
                )));
            }
            if i != c / groups {
                return Err(fail(alloc::format!(
                    "weight `{}` takes {i} channels per group, the input has {c} in {groups} group(s)",
                    t.name
                )));
            }
            let Some([oh, ow]) = geometry.output([h, w], [kh, kw]) else {
                return Err(fail(alloc::format!(
                    "a {kh}×{kw} kernel with {geometry:?} does not fit {h}×{w}"
                )));
            };
            let shape = ConvShape {
                input: [c, h, w],
                kernel: [kh, kw],
                geometry,
                output: [o, oh, ow],
            };
            let op = Op::Conv {
                conv: Convolution::new(matrix(t, execution), shape),
                bias: bias_of(bias, o)?,
            };
            (op, Activations::Image([o, oh, ow]))
        }
        Layer::GlobalAvgPool => {
            let Activations::Image([c, h, w]) = act else {
                return Err(fail(alloc::format!("takes an image, got {act:?}")));
            };
            (Op::GlobalAvgPool { input: [c, h, w] }, Activations::Flat(c))
        }
        Layer::MaxPool2d { size } => {
            let Activations::Image([c, h, w]) = act else {
                return Err(fail(alloc::format!("takes an image, got {act:?}")));
            };
            if h < size || w < size {
                return Err(fail(alloc::format!(
                    "a {size}×{size} pool does not fit {h}×{w}"
                )));
            }
            let op = Op::MaxPool {
                input: [c, h, w],
                size,
            };
            (op, Activations::Image([c, h / size, w / size]))
        }
        Layer::GlobalMaxPool => {
            let Activations::Image([c, h, w]) = act else {
                return Err(fail(alloc::format!("takes an image, got {act:?}")));
            };
            (Op::GlobalMaxPool { input: [c, h, w] }, Activations::Flat(c))
        }
        Layer::Relu => (Op::Relu, act),
        Layer::Flatten => (Op::Flatten, Activations::Flat(act.len())),
        Layer::Embedding { table } | Layer::EmbeddingMean { table } => {
            let t = &tensors[table];
            let Activations::Image([1, 1, length]) = act else {
                return Err(fail(alloc::format!(
                    "takes token ids [1, 1, length], got {act:?}"
                )));
            };
            if t.shape.len() != 2 || t.rows == 0 {
                return Err(fail(alloc::format!(
                    "table `{}` has shape {:?}, expected [vocabulary, dim]",
                    t.name,
                    t.shape
                )));
            }
            let mean = matches!(layer, Layer::EmbeddingMean { .. });
            let next = if mean {
                Activations::Flat(t.cols)
            } else {
                Activations::Image([t.cols, 1, length])
            };
            let table = matrix(t, execution);
            (Op::Embedding { table, mean }, next)
        }
        Layer::Save { slot } => {
            slots[usize::from(slot)] = Some(act);
            (Op::Save(usize::from(slot)), act)
        }
        Layer::Load { slot } | Layer::ConcatAfter { slot } | Layer::AddFrom { slot } => {
            let Some(kept) = slots[usize::from(slot)] else {
                return Err(fail(alloc::format!("slot {slot} was never saved")));
            };
            let slot = usize::from(slot);
            match layer {
                Layer::Load { .. } => (Op::Load(slot), kept),
                Layer::AddFrom { .. } if kept != act => {
                    return Err(fail(alloc::format!(
                        "adds {kept:?} from slot {slot} to {act:?}: the shapes differ"
                    )));
                }
                Layer::AddFrom { .. } => (Op::AddFrom(slot), act),
                _ => (
                    Op::ConcatAfter(slot),
                    Activations::Flat(kept.len() + act.len()),
                ),
            }
        }
    })
}

fn matrix(t: &Decoded, execution: Execution) -> Matrix {
    match execution {
        Execution::Sparse => Matrix::Sparse(CsrMatrix::from_parts(
            t.rows,
            t.cols,
            t.row_ptr.clone(),
            t.col_idx.clone(),
            t.values.clone(),
        )),
        Execution::Dense => Matrix::Dense(
            DenseMatrix::new(t.rows, t.cols, t.dense())
                .expect("a decoded tensor holds rows × cols values"),
        ),
    }
}

/// The first linear layer with the pixel normalisation folded in, when the model is
/// flatten → linear on pixels in sparse execution: `W x + b` with `x = p·scale[c] +
/// offset[c]` is `(W·diag(scale)) p + (b + W·offset)`.
fn fold_pixels(graph: &Graph, ops: &[Op]) -> Option<Op> {
    let Preprocess::PixelAffine { scale, offset } = &graph.preprocess else {
        return None;
    };
    let [Op::Flatten, Op::Linear { weights, bias }, ..] = ops else {
        return None;
    };
    let Matrix::SparseColumns(w) = weights else {
        return None;
    };
    let plane = (graph.input[1] * graph.input[2]).max(1);
    let per_column = |v: &[f32]| -> Vec<f32> {
        (0..graph.input.iter().product::<usize>())
            .map(|c| v[c / plane])
            .collect()
    };
    let shift = w.times(&per_column(offset));
    let scales = per_column(scale);
    let csc = w.scaled(&scales);
    Some(Op::Linear {
        weights: Matrix::SparseColumns(csc),
        bias: bias.iter().zip(&shift).map(|(b, s)| b + s).collect(),
    })
}
