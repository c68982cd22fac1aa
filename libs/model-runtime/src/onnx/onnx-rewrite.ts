import { ONNX_FIELD, stringField } from './onnx-graph-read';
import { readProtoFields, type ProtoField } from './protobuf-reader';
import { ProtoWriter } from './protobuf-writer';

const MODEL_GRAPH = ONNX_FIELD.model.graph;
const {
  node: GRAPH_NODE,
  initializer: GRAPH_INITIALIZER,
  input: GRAPH_INPUT,
  output: GRAPH_OUTPUT,
} = ONNX_FIELD.graph;
// TensorProto fields.
const TENSOR_RAW_DATA = 9;
const TENSOR_EXTERNAL_DATA = 13;
const TENSOR_DATA_LOCATION = 14;

/** Re-emits one decoded field (ONNX's messages here use only varint and length-delimited fields). */
export function copyField(w: ProtoWriter, f: ProtoField): void {
  if (f.wire === 0) w.int(f.field, f.value);
  else if (f.wire === 2) w.bytes(f.field, f.value);
  else throw new Error(`unexpected fixed-width field ${f.field} in an ONNX message`);
}

/**
 * Rebuilds a message field by field: `edit` writes its own replacement into `w` and returns true,
 * or returns false to keep the field as it was.
 */
export function rewrite(buf: Uint8Array, edit: (f: ProtoField, w: ProtoWriter) => boolean): ProtoWriter {
  const w = new ProtoWriter();
  for (const f of readProtoFields(buf)) if (!edit(f, w)) copyField(w, f);
  return w;
}

/** Rewrites the graph of a `ModelProto`; `tail` may append fields after the existing ones. */
export function rewriteGraph(
  model: Uint8Array,
  edit: (f: ProtoField, w: ProtoWriter) => boolean,
  tail: (g: ProtoWriter) => void = () => undefined,
): Buffer {
  return rewrite(model, (f, w) => {
    if (f.field !== MODEL_GRAPH || f.wire !== 2) return false;
    const g = rewrite(f.value, edit);
    tail(g);
    w.message(MODEL_GRAPH, g);
    return true;
  }).toBuffer();
}

/**
 * Moves every initializer of at least `minBytes` out of the graph into one external-data file
 * (ONNX's `data_location = EXTERNAL` with `location`/`offset`/`length` entries), as exporters do
 * for models past protobuf's 2 GB limit. Returns the new graph and the data file's bytes.
 */
export function externalizeInitializers(
  model: Uint8Array,
  location: string,
  minBytes = 1024,
): { model: Buffer; data: Buffer } {
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const entry = (k: string, v: string): ProtoWriter => new ProtoWriter().string(1, k).string(2, v);
  const out = rewriteGraph(model, (g, w) => {
    if (g.field !== GRAPH_INITIALIZER || g.wire !== 2) return false;
    const fields = readProtoFields(g.value);
    const raw = fields.find((x) => x.field === TENSOR_RAW_DATA && x.wire === 2)?.value as
      Uint8Array | undefined;
    if (!raw || raw.length < minBytes) return false;
    const t = new ProtoWriter();
    for (const x of fields) if (x.field !== TENSOR_RAW_DATA) copyField(t, x);
    t.message(TENSOR_EXTERNAL_DATA, entry('location', location));
    t.message(TENSOR_EXTERNAL_DATA, entry('offset', String(offset)));
    t.message(TENSOR_EXTERNAL_DATA, entry('length', String(raw.length)));
    t.int(TENSOR_DATA_LOCATION, 1);
    chunks.push(raw);
    offset += raw.length;
    w.message(GRAPH_INITIALIZER, t);
    return true;
  });
  return { model: out, data: Buffer.concat(chunks) };
}

/** Appends serialised nodes, inputs and outputs to a model's graph. */
export function appendToGraph(
  model: Uint8Array,
  add: { nodes?: ProtoWriter[]; inputs?: ProtoWriter[]; outputs?: ProtoWriter[] },
): Buffer {
  return rewriteGraph(
    model,
    () => false,
    (g) => {
      for (const n of add.nodes ?? []) g.message(GRAPH_NODE, n);
      for (const i of add.inputs ?? []) g.message(GRAPH_INPUT, i);
      for (const o of add.outputs ?? []) g.message(GRAPH_OUTPUT, o);
    },
  );
}

/** Changes the declared element type of the named graph inputs and outputs (not the computation). */
export function retypeGraphValues(model: Uint8Array, names: ReadonlySet<string>, elemType: number): Buffer {
  // ValueInfoProto.name (1), .type (2) → TypeProto.tensor_type (1) → TypeProto.Tensor.elem_type (1).
  const nested = (field: number, inner: (f: ProtoField, w: ProtoWriter) => boolean) => {
    return (f: ProtoField, w: ProtoWriter): boolean => {
      if (f.field !== field || f.wire !== 2) return false;
      w.message(field, rewrite(f.value, inner));
      return true;
    };
  };
  const setElem = (f: ProtoField, w: ProtoWriter): boolean => {
    if (f.field !== 1 || f.wire !== 0) return false;
    w.int(1, elemType);
    return true;
  };
  return rewriteGraph(model, (g, w) => {
    if ((g.field !== GRAPH_INPUT && g.field !== GRAPH_OUTPUT) || g.wire !== 2) return false;
    const name = stringField(readProtoFields(g.value), 1);
    if (name === undefined || !names.has(name)) return false;
    w.message(g.field, rewrite(g.value, nested(2, nested(1, setElem))));
    return true;
  });
}
