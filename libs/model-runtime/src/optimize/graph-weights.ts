import { float16Value } from '../session/float16';
import type { OnnxInitializer } from '../onnx/onnx-initializers';
import { modelMetadata, readGraph, tensorValues, type OnnxTensor } from '../onnx/onnx-graph-read';
import { dequantizeBlockwise, dequantizeColumns } from './quant-math';
import { QUANT_METADATA_KEY, QUANT_METHODS, QUANT_SUFFIX, type QuantSpec } from './quantize-graph';

const FLOAT = 1;
const FLOAT16 = 10;

/**
 * Every weight of a model as float32, by its original name: float32 initializers as stored, and
 * the weights {@link quantizeOnnxGraph} rewrote, dequantized back (exactly the values the quantized
 * kernels multiply by). This is how a graph derived from a quantized folder starts from the same
 * weights.
 */
export function readFloatWeights(model: Uint8Array): Map<string, OnnxInitializer> {
  const { nodes, initializers } = readGraph(model);
  const out = new Map<string, OnnxInitializer>();
  for (const t of initializers.values())
    if (t.type === FLOAT && t.bytes) out.set(t.name, { dims: t.dims, data: tensorValues(t, Float32Array) });
  const get = (name: string | undefined): OnnxTensor => {
    const t = initializers.get(name ?? '');
    if (!t) throw new Error(`quantized weight input ${name} is not an initializer`);
    return t;
  };
  const original = (codes: string | undefined): string | null =>
    codes?.endsWith(QUANT_SUFFIX.codes) ? codes.slice(0, -QUANT_SUFFIX.codes.length) : null;
  for (const n of nodes) {
    if (n.op === 'MatMulNBits') {
      const name = original(n.inputs[1]);
      if (!name || out.has(name)) continue;
      const K = n.ints.get('K') ?? 0;
      const N = n.ints.get('N') ?? 0;
      const bits = n.ints.get('bits') ?? 4;
      if (bits !== 4 && bits !== 8)
        throw new Error(`MatMulNBits ${n.name}: ${bits}-bit weights are not supported`);
      const data = dequantizeBlockwise({
        K,
        N,
        bits,
        blockSize: n.ints.get('block_size') ?? 32,
        codes: tensorValues(get(n.inputs[1]), Uint8Array),
        scales: tensorValues(get(n.inputs[2]), Float32Array),
      });
      out.set(name, { dims: [K, N], data });
    } else if (n.op === 'DynamicQuantizeMatMul') {
      const name = original(n.inputs[1]);
      if (!name || out.has(name)) continue;
      const codes = get(n.inputs[1]);
      const [K, N] = codes.dims as [number, number];
      const data = dequantizeColumns({
        K,
        N,
        codes: tensorValues(codes, Int8Array),
        scales: tensorValues(get(n.inputs[2]), Float32Array),
      });
      out.set(name, { dims: [K, N], data });
    } else if (n.op === 'Cast' && n.inputs[0]?.endsWith(QUANT_SUFFIX.half)) {
      const half = get(n.inputs[0]);
      if (half.type !== FLOAT16) continue;
      const bits = tensorValues(half, Uint16Array);
      const data = new Float32Array(bits.length);
      for (let i = 0; i < bits.length; i++) data[i] = float16Value(bits[i] as number);
      out.set(n.outputs[0] as string, { dims: half.dims, data });
    }
  }
  return out;
}

/** The quantization spec stored in a model's metadata, or null for a float model. */
export function readQuantSpec(model: Uint8Array): QuantSpec | null {
  const value = modelMetadata(model, QUANT_METADATA_KEY);
  if (value === undefined) return null;
  const spec = JSON.parse(value) as QuantSpec;
  if (!(QUANT_METHODS as readonly string[]).includes(spec.method))
    throw new Error(`${QUANT_METADATA_KEY}: unknown method ${String(spec.method)}`);
  return spec;
}
