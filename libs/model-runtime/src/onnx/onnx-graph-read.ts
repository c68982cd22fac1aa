import { readProtoFields, type ProtoField } from './protobuf-reader';

/** A graph node decoded from a `NodeProto` (attributes kept raw, as `AttributeProto` bytes by name). */
export interface OnnxNode {
  op: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  /** Integer attributes (`AttributeProto.i`) by name; other attribute kinds are not decoded. */
  ints: Map<string, number>;
}

/** An initializer decoded from a `TensorProto`: element type, dims and its bytes (not copied). */
export interface OnnxTensor {
  name: string;
  /** ONNX `TensorProto.DataType`. */
  type: number;
  dims: number[];
  /** Raw little-endian bytes (raw_data, or float_data for float32); null when stored externally. */
  bytes: Uint8Array | null;
}

/** Field numbers of the ONNX messages Hotpath reads and rewrites (onnx.proto). */
export const ONNX_FIELD = {
  model: { graph: 7, opsetImport: 8, metadataProps: 14 },
  graph: { node: 1, initializer: 5, input: 11, output: 12 },
  /** `StringStringEntryProto` (metadata) and `OperatorSetIdProto`: field 1 is the key / domain. */
  entry: { key: 1, value: 2 },
} as const;

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

/** A length-delimited field of a message, as UTF-8 text (undefined when absent). */
export function stringField(fields: readonly ProtoField[], field: number): string | undefined {
  const f = fields.find((x) => x.field === field && x.wire === 2);
  return f ? text(f.value as Uint8Array) : undefined;
}

function packedVarints(b: Uint8Array): number[] {
  const out: number[] = [];
  let v = 0;
  let mul = 1;
  for (const byte of b) {
    v += (byte & 0x7f) * mul;
    if (byte & 0x80) mul *= 128;
    else {
      out.push(v);
      v = 0;
      mul = 1;
    }
  }
  return out;
}

/** `TensorProto.dims`, packed or not. */
export function tensorDims(fields: readonly ProtoField[]): number[] {
  return fields
    .filter((f) => f.field === 1)
    .flatMap((f) => (f.wire === 0 ? [Number(f.value)] : f.wire === 2 ? packedVarints(f.value) : []));
}

/** Decodes one `NodeProto`. */
export function decodeNode(buf: Uint8Array): OnnxNode {
  const node: OnnxNode = { op: '', domain: '', name: '', inputs: [], outputs: [], ints: new Map() };
  for (const f of readProtoFields(buf)) {
    if (f.wire !== 2) continue;
    if (f.field === 1) node.inputs.push(text(f.value));
    else if (f.field === 2) node.outputs.push(text(f.value));
    else if (f.field === 3) node.name = text(f.value);
    else if (f.field === 4) node.op = text(f.value);
    else if (f.field === 7) node.domain = text(f.value);
    else if (f.field === 5) {
      const a = readProtoFields(f.value);
      const name = a.find((x) => x.field === 1 && x.wire === 2);
      const i = a.find((x) => x.field === 3 && x.wire === 0);
      if (name && i)
        node.ints.set(text(name.value as Uint8Array), Number(BigInt.asIntN(64, i.value as bigint)));
    }
  }
  return node;
}

/** Decodes one `TensorProto` (initializer). */
export function decodeTensor(buf: Uint8Array): OnnxTensor {
  const t = readProtoFields(buf);
  const type = t.find((f) => f.field === 2 && f.wire === 0);
  const name = t.find((f) => f.field === 8 && f.wire === 2);
  const raw = t.find((f) => f.field === 9 && f.wire === 2);
  // float_data (4) packs float32 values little-endian, the same bytes raw_data would hold.
  const floats = t.find((f) => f.field === 4 && f.wire === 2);
  return {
    name: name ? text(name.value as Uint8Array) : '',
    type: type ? Number(type.value) : 0,
    dims: tensorDims(t),
    bytes: ((raw ?? floats)?.value as Uint8Array | undefined) ?? null,
  };
}

/** The graph (`ModelProto.graph`) of a serialised model, as its top-level fields. */
export function graphFields(model: Uint8Array): ProtoField[] {
  const graph = readProtoFields(model).find((f) => f.field === ONNX_FIELD.model.graph && f.wire === 2);
  if (!graph) throw new Error('no graph in the ModelProto');
  return readProtoFields(graph.value as Uint8Array);
}

/** The value of one `metadata_props` entry of a serialised model (undefined when absent). */
export function modelMetadata(model: Uint8Array, key: string): string | undefined {
  for (const f of readProtoFields(model)) {
    if (f.field !== ONNX_FIELD.model.metadataProps || f.wire !== 2) continue;
    const entry = readProtoFields(f.value);
    if (stringField(entry, ONNX_FIELD.entry.key) === key)
      return stringField(entry, ONNX_FIELD.entry.value) ?? '';
  }
  return undefined;
}

/** Every node and initializer of a serialised model. */
export function readGraph(model: Uint8Array): { nodes: OnnxNode[]; initializers: Map<string, OnnxTensor> } {
  return decodeGraph(graphFields(model));
}

/** The nodes and initializers among a graph's top-level fields. */
export function decodeGraph(fields: readonly ProtoField[]): {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
} {
  const nodes: OnnxNode[] = [];
  const initializers = new Map<string, OnnxTensor>();
  for (const f of fields) {
    if (f.wire !== 2) continue;
    if (f.field === ONNX_FIELD.graph.node) nodes.push(decodeNode(f.value));
    else if (f.field === ONNX_FIELD.graph.initializer) {
      const t = decodeTensor(f.value);
      initializers.set(t.name, t);
    }
  }
  return { nodes, initializers };
}

/** Copies a tensor's bytes into an aligned typed array of its element type. */
export function tensorValues<T extends Float32Array | Uint8Array | Int8Array | Uint16Array>(
  t: OnnxTensor,
  Ctor: { new (n: number): T; BYTES_PER_ELEMENT: number },
): T {
  if (!t.bytes) throw new Error(`initializer ${t.name} is stored outside the graph (external data)`);
  const out = new Ctor(t.bytes.length / Ctor.BYTES_PER_ELEMENT);
  new Uint8Array(out.buffer).set(t.bytes);
  return out;
}
