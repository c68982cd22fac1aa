import { readFileSync } from 'node:fs';
import { MS_DOMAIN, tensorProto } from '../onnx/graph-builder';
import { decodeTensor, ONNX_FIELD, readGraph, tensorValues } from '../onnx/onnx-graph-read';
import { rewriteGraph } from '../onnx/onnx-rewrite';
import { COLUMN_CODE_MAX, dequantizeColumns, quantizeColumns } from './quant-math';

const INT8 = 3;
const { initializer: GRAPH_INITIALIZER } = ONNX_FIELD.graph;

/**
 * Whether this CPU's int8 GEMM adds pairs of uint8×int8 products into a saturating int16: x86
 * without VNNI (AVX2, AVX-512 without VNNI), where onnxruntime uses VPMADDUBSW. Codes beyond ±63
 * overflow it (see {@link COLUMN_CODE_MAX}). Other architectures widen before adding.
 */
export function int8PairsSaturate(
  arch: string = process.arch,
  cpuFlags: string | null = readCpuFlags(),
): boolean {
  if (arch !== 'x64') return false;
  // Without /proc/cpuinfo (macOS, Windows) nothing is known: assume the worst, narrowing is cheap.
  if (cpuFlags === null) return true;
  return !/\b(avx512_vnni|avx_vnni|amx_int8)\b/.test(cpuFlags);
}

function readCpuFlags(): string | null {
  try {
    return /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? null;
  } catch {
    return null;
  }
}

/**
 * Rewrites the `DynamicQuantizeMatMul` weights of a graph whose int8 codes reach beyond
 * ±{@link COLUMN_CODE_MAX} (folders Hotpath quantized before it stored 7-bit codes) as 7-bit codes
 * of the same weights (dequantized, then quantized again per column, as `quantizeColumns` does).
 * Returns the new model and how many weights changed, or `null` when none needed it.
 */
export function narrowColumnCodes(model: Uint8Array): { model: Buffer; weights: number } | null {
  const { nodes, initializers } = readGraph(model);
  const replaced = new Map<string, Uint8Array>();
  for (const n of nodes) {
    if (n.op !== 'DynamicQuantizeMatMul' || n.domain !== MS_DOMAIN) continue;
    const codes = initializers.get(n.inputs[1] ?? '');
    const scales = initializers.get(n.inputs[2] ?? '');
    if (!codes?.bytes || !scales?.bytes || codes.type !== INT8 || codes.dims.length !== 2) continue;
    if (replaced.has(codes.name)) continue;
    const values = tensorValues(codes, Int8Array);
    if (!values.some((c) => c > COLUMN_CODE_MAX || c < -COLUMN_CODE_MAX)) continue;
    const [K, N] = codes.dims as [number, number];
    const q = quantizeColumns(
      dequantizeColumns({ K, N, codes: values, scales: tensorValues(scales, Float32Array) }),
      K,
      N,
    );
    replaced.set(codes.name, tensorProto(codes.name, codes.dims, q.codes).toBuffer());
    replaced.set(scales.name, tensorProto(scales.name, scales.dims, q.scales).toBuffer());
  }
  if (replaced.size === 0) return null;
  const out = rewriteGraph(model, (f, w) => {
    if (f.field !== GRAPH_INITIALIZER || f.wire !== 2) return false;
    const next = replaced.get(decodeTensor(f.value as Uint8Array).name);
    if (!next) return false;
    w.bytes(GRAPH_INITIALIZER, next);
    return true;
  });
  return { model: out, weights: replaced.size / 2 };
}
