import { readProtoFields, type ProtoField } from './protobuf-reader';

/** A float32 weight read back out of an ONNX file, in the file's row-major layout. */
export interface OnnxInitializer {
  dims: number[];
  data: Float32Array;
}

const FLOAT = 1;

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

function dimsOf(fields: ProtoField[]): number[] {
  return fields
    .filter((f) => f.field === 1)
    .flatMap((f) => (f.wire === 0 ? [Number(f.value)] : f.wire === 2 ? packedVarints(f.value) : []));
}

/**
 * Every float32 initializer of a serialised `ModelProto` by name (raw_data or float_data; other
 * element types and external data are skipped). Copies the values out, so the result outlives `buf`.
 */
export function readOnnxInitializers(buf: Uint8Array): Map<string, OnnxInitializer> {
  const graph = readProtoFields(buf).find((f) => f.field === 7 && f.wire === 2);
  if (!graph) throw new Error('no graph in the ModelProto');
  const out = new Map<string, OnnxInitializer>();
  for (const init of readProtoFields(graph.value as Uint8Array)) {
    if (init.field !== 5 || init.wire !== 2) continue;
    const t = readProtoFields(init.value);
    const type = t.find((f) => f.field === 2 && f.wire === 0);
    if (type === undefined || Number(type.value) !== FLOAT) continue;
    const nameField = t.find((f) => f.field === 8 && f.wire === 2);
    const name = nameField ? Buffer.from(nameField.value as Uint8Array).toString('utf8') : '';
    const raw = t.find((f) => f.field === 9 && f.wire === 2)?.value as Uint8Array | undefined;
    const packed = t.find((f) => f.field === 4 && f.wire === 2)?.value as Uint8Array | undefined;
    const bytes = raw ?? packed;
    if (!bytes) continue;
    // Copy into an aligned buffer: a field inside the file can start at any byte.
    const data = new Float32Array(bytes.length / 4);
    new Uint8Array(data.buffer).set(bytes);
    out.set(name, { dims: dimsOf(t), data });
  }
  return out;
}
