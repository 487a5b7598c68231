//! A ticket as a standard ONNX model, for users who deploy with ONNX tooling (tract,
//! onnxruntime, converters to TFLite): the runtime's graph lowered to ONNX operators
//! (opset 13), every weight a dense initializer with the pruned ones stored as zeros — the
//! form every ONNX runtime reads (sparse initializers are an optional part of the standard
//! that runtimes do not agree on).

use prost::Message;
use sprig_runtime::{Execution, Graph, Layer, Model, Preprocess, TensorSpec, write_model};

use crate::ExportError;
use crate::onnx_proto::{
    ATTRIBUTE_INT, ATTRIBUTE_INTS, AttributeProto, Dimension, FLOAT, GraphProto, ModelProto,
    NodeProto, OperatorSetIdProto, StringStringEntryProto, TensorProto, TensorShapeProto,
    TensorTypeProto, TypeProto, ValueInfoProto,
};

/// The operator set the nodes are written for.
pub const ONNX_OPSET: i64 = 13;
/// The IR version of the file (ONNX 1.10's, the one that introduced nothing we need but
/// every maintained runtime reads).
const IR_VERSION: i64 = 8;
/// The model's input: raw pixel values as floats (0–255) for a model with pixel
/// preprocessing, else the input as the model takes it.
pub const ONNX_INPUT: &str = "input";
/// The model's output, `[1, classes]`.
pub const ONNX_OUTPUT: &str = "logits";

/// `graph` with `tensors` as an ONNX model: input [`ONNX_INPUT`] of shape
/// `[1, channels, height, width]`, output [`ONNX_OUTPUT`] of shape `[1, classes]`. Pixel
/// preprocessing becomes a per-channel `Mul` and `Add` in front, so the model takes raw
/// pixel values as the `.sprig` file's `forward_pixels` does; the graph's metadata become
/// the model's `metadata_props`.
///
/// # Errors
/// [`ExportError::Format`] if the graph and tensors do not make a model the runtime
/// would load (they are checked by loading them).
pub fn onnx_model(graph: &Graph, tensors: &[TensorSpec]) -> Result<Vec<u8>, ExportError> {
    // The runtime's loader checks every shape chains from the input to the classes.
    let file = write_model(graph, tensors, &Default::default())?;
    Model::load(&file.bytes, Execution::Dense)?;
    let mut lowering = Lowering::default();
    let [c, h, w] = graph.input;
    let mut x = ONNX_INPUT.to_string();
    if let Preprocess::PixelAffine { scale, offset } = &graph.preprocess {
        let shape = [1, scale.len(), 1, 1];
        let s = lowering.constant("preprocess.scale", &shape, scale);
        let o = lowering.constant("preprocess.offset", &shape, offset);
        x = lowering.node("Mul", &[&x, &s], vec![]);
        x = lowering.node("Add", &[&x, &o], vec![]);
    }
    // The loader checked that every slot read was saved before.
    let mut kept = vec![String::new(); 256];
    for layer in &graph.layers {
        x = match *layer {
            Layer::Linear { weight, bias } => {
                let inputs = lowering.weighted(&x, &tensors[weight], bias.map(|b| &tensors[b]));
                lowering.node("Gemm", &inputs, vec![int("transB", 1)])
            }
            Layer::Conv2d {
                weight,
                bias,
                geometry,
            } => {
                let t = &tensors[weight];
                let kernel = [t.shape[2], t.shape[3]];
                let inputs = lowering.weighted(&x, t, bias.map(|b| &tensors[b]));
                let attributes = vec![
                    ints("kernel_shape", &kernel),
                    ints("strides", &geometry.stride),
                    // ONNX's order is [top, left, bottom, right] too.
                    ints("pads", &geometry.padding),
                    int("group", geometry.groups),
                ];
                lowering.node("Conv", &inputs, attributes)
            }
            Layer::MaxPool2d { size } => lowering.node(
                "MaxPool",
                &[&x],
                vec![
                    ints("kernel_shape", &[size, size]),
                    ints("strides", &[size, size]),
                ],
            ),
            Layer::GlobalAvgPool => {
                let pooled = lowering.node("GlobalAveragePool", &[&x], vec![]);
                lowering.node("Flatten", &[&pooled], vec![int("axis", 1)])
            }
            Layer::Relu => lowering.node("Relu", &[&x], vec![]),
            Layer::Flatten => lowering.node("Flatten", &[&x], vec![int("axis", 1)]),
            Layer::GlobalMaxPool => {
                let pooled = lowering.node("GlobalMaxPool", &[&x], vec![]);
                lowering.node("Flatten", &[&pooled], vec![int("axis", 1)])
            }
            // A slot is a name: the value it kept feeds the nodes that read it.
            Layer::Save { slot } => {
                kept[usize::from(slot)] = x.clone();
                x
            }
            Layer::Load { slot } => kept[usize::from(slot)].clone(),
            Layer::AddFrom { slot } => {
                lowering.node("Add", &[&x, &kept[usize::from(slot)]], vec![])
            }
            Layer::ConcatAfter { slot } => lowering.node(
                "Concat",
                &[&kept[usize::from(slot)], &x],
                vec![int("axis", 1)],
            ),
            Layer::Embedding { .. } | Layer::EmbeddingMean { .. } => {
                return Err(ExportError::NoOnnxLowering {
                    layer: format!("{layer:?}"),
                });
            }
        };
    }
    // The last node's output is the logits.
    if let Some(last) = lowering.nodes.last_mut() {
        last.output = vec![ONNX_OUTPUT.to_string()];
    }
    let model = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: ONNX_OPSET,
        }],
        producer_name: "sprig".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        doc_string: format!("{}: a Sprig ticket", graph.architecture),
        graph: Some(GraphProto {
            node: lowering.nodes,
            name: graph.architecture.clone(),
            initializer: lowering.initializers,
            input: vec![value_info(ONNX_INPUT, &[1, c, h, w])],
            output: vec![value_info(ONNX_OUTPUT, &[1, graph.classes])],
        }),
        metadata_props: graph
            .metadata
            .iter()
            .map(|(key, value)| StringStringEntryProto {
                key: key.clone(),
                value: value.clone(),
            })
            .collect(),
    };
    Ok(model.encode_to_vec())
}

/// The nodes and initializers written so far.
#[derive(Default)]
struct Lowering {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
}

impl Lowering {
    /// Adds a node reading `inputs`; returns the name of its output.
    fn node(
        &mut self,
        op: &str,
        inputs: &[impl AsRef<str>],
        attribute: Vec<AttributeProto>,
    ) -> String {
        let output = format!("{}_{}", op.to_lowercase(), self.nodes.len());
        self.nodes.push(NodeProto {
            input: inputs.iter().map(|s| s.as_ref().to_string()).collect(),
            output: vec![output.clone()],
            name: output.clone(),
            op_type: op.into(),
            attribute,
        });
        output
    }

    /// A weighted layer's inputs: `x`, then its weight and bias added as initializers.
    fn weighted(&mut self, x: &str, weight: &TensorSpec, bias: Option<&TensorSpec>) -> Vec<String> {
        let mut inputs = vec![x.to_string(), self.initializer(weight)];
        inputs.extend(bias.map(|b| self.initializer(b)));
        inputs
    }

    /// Adds `t` as an initializer named by its parameter path; returns the name.
    fn initializer(&mut self, t: &TensorSpec) -> String {
        self.constant(&t.name, &t.shape, &t.values)
    }

    fn constant(&mut self, name: &str, shape: &[usize], values: &[f32]) -> String {
        self.initializers.push(TensorProto {
            dims: shape.iter().map(|&d| d as i64).collect(),
            data_type: FLOAT,
            name: name.into(),
            raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        });
        name.into()
    }
}

fn int(name: &str, value: usize) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: value as i64,
        ints: vec![],
        r#type: ATTRIBUTE_INT,
    }
}

fn ints(name: &str, values: &[usize]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        i: 0,
        ints: values.iter().map(|&v| v as i64).collect(),
        r#type: ATTRIBUTE_INTS,
    }
}

/// A float tensor's name, type and fixed shape.
fn value_info(name: &str, shape: &[usize]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        r#type: Some(TypeProto {
            tensor_type: Some(TensorTypeProto {
                elem_type: FLOAT,
                shape: Some(TensorShapeProto {
                    dim: shape
                        .iter()
                        .map(|&d| Dimension {
                            dim_value: d as i64,
                        })
                        .collect(),
                }),
            }),
        }),
    }
}
