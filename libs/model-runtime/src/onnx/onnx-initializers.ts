import { readGraph, tensorValues } from './onnx-graph-read';

/** A float32 weight read back out of an ONNX file, in the file's row-major layout. */
export interface OnnxInitializer {
  dims: number[];
  data: Float32Array;
}

const FLOAT = 1;

/**
 * Every float32 initializer of a serialised `ModelProto` by name (raw_data or float_data; other
 * element types and external data are skipped). Copies the values out, so the result outlives `buf`.
 */
export function readOnnxInitializers(buf: Uint8Array): Map<string, OnnxInitializer> {
  const out = new Map<string, OnnxInitializer>();
  for (const t of readGraph(buf).initializers.values())
    if (t.type === FLOAT && t.bytes) out.set(t.name, { dims: t.dims, data: tensorValues(t, Float32Array) });
  return out;
}
