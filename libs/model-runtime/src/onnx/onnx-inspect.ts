import { readProtoFields, type ProtoField } from './protobuf-reader';

/** A graph input or output as declared in the ONNX file. */
export interface OnnxValueInfo {
  name: string;
  /** ONNX element type number (1 float, 7 int64, ...). */
  elemType: number;
  /** Fixed sizes as numbers, dynamic axes as their symbolic names (or `null` when unnamed). */
  shape: (number | string | null)[];
}

/** What the loader needs to know about a model file without running it. */
export interface OnnxSignature {
  opset: number;
  /** Nodes in the main graph (as stored, before onnxruntime's own fusions). */
  nodes: number;
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
  /** Files (relative to the model file) that hold initializers stored outside it (`*.onnx_data`). */
  externalData?: string[];
  /** How many initializers of each element type name (`float32`, `float16`, `uint8`, …) the graph has. */
  weightTypes?: Record<string, number>;
}

/** ONNX `TensorProto.DataType` numbers → names, for messages and `hotpath models inspect`. */
export const ONNX_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
  21: 'uint4',
  22: 'int4',
};

/** The name of an ONNX element type number (`type 17` when unknown). */
export function onnxTypeName(elemType: number): string {
  return ONNX_TYPE_NAMES[elemType] ?? `type ${elemType}`;
}

const bytesOf = (fields: ProtoField[], field: number): Uint8Array[] =>
  fields.filter((f) => f.field === field && f.wire === 2).map((f) => f.value as Uint8Array);
const str = (fields: ProtoField[], field: number): string | undefined => {
  const [b] = bytesOf(fields, field);
  return b === undefined ? undefined : Buffer.from(b).toString('utf8');
};
const int = (fields: ProtoField[], field: number): number | undefined => {
  const f = fields.find((x) => x.field === field && x.wire === 0);
  return f ? Number(f.value as bigint) : undefined;
};

function valueInfo(buf: Uint8Array): OnnxValueInfo {
  const f = readProtoFields(buf);
  const name = str(f, 1) ?? '';
  const [type] = bytesOf(f, 2);
  const [tensor] = type ? bytesOf(readProtoFields(type), 1) : [];
  if (!tensor) return { name, elemType: 0, shape: [] };
  const tf = readProtoFields(tensor);
  const [shapeBuf] = bytesOf(tf, 2);
  const shape = shapeBuf
    ? bytesOf(readProtoFields(shapeBuf), 1).map((d) => {
        const df = readProtoFields(d);
        return int(df, 1) ?? str(df, 2) ?? null;
      })
    : [];
  return { name, elemType: int(tf, 1) ?? 0, shape };
}

/**
 * Reads the opset and the graph's real inputs/outputs (initializers excluded) from a serialised
 * `ModelProto`. Throws `Error` describing the first structural problem found.
 */
export function inspectOnnx(buf: Uint8Array): OnnxSignature {
  const model = readProtoFields(buf);
  const [graphBuf] = bytesOf(model, 7);
  if (!graphBuf) throw new Error('no graph in the ModelProto');
  const opset = bytesOf(model, 8)
    .map((b) => readProtoFields(b))
    .filter((f) => (str(f, 1) ?? '') === '' || str(f, 1) === 'ai.onnx')
    .map((f) => int(f, 2) ?? 0)[0];
  if (opset === undefined) throw new Error('no ai.onnx opset import');
  const graph = readProtoFields(graphBuf);
  const nodes = bytesOf(graph, 1).length;
  if (nodes === 0) throw new Error('the graph has no nodes');
  const initNames = new Set<string>();
  const external = new Set<string>();
  const weightTypes: Record<string, number> = {};
  for (const t of bytesOf(graph, 5)) {
    const tf = readProtoFields(t);
    initNames.add(str(tf, 8) ?? '');
    const type = onnxTypeName(int(tf, 2) ?? 0);
    weightTypes[type] = (weightTypes[type] ?? 0) + 1;
    // TensorProto.external_data (13): key/value entries; "location" names the data file.
    for (const entry of bytesOf(tf, 13)) {
      const ef = readProtoFields(entry);
      if (str(ef, 1) === 'location') external.add(str(ef, 2) ?? '');
    }
  }
  const inputs = bytesOf(graph, 11)
    .map(valueInfo)
    .filter((v) => !initNames.has(v.name));
  const outputs = bytesOf(graph, 12).map(valueInfo);
  return { opset, nodes, inputs, outputs, externalData: [...external], weightTypes };
}
