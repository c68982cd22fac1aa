import { toFloat16 } from '../session/float16';
import { MS_DOMAIN, nodeProto, tensorProto, type AttrValue, type TensorData } from '../onnx/graph-builder';
import { copyField, rewrite } from '../onnx/onnx-rewrite';
import {
  ONNX_FIELD,
  decodeGraph,
  decodeNode,
  decodeTensor,
  stringField,
  tensorValues,
  type OnnxNode,
  type OnnxTensor,
} from '../onnx/onnx-graph-read';
import { readProtoFields } from '../onnx/protobuf-reader';
import { ProtoWriter } from '../onnx/protobuf-writer';
import { checkBlockSize, quantizeBlockwise, quantizeColumns } from './quant-math';

/** The quantization methods (docs/optimization.md). */
export const QUANT_METHODS = ['int8-dynamic', 'int8-weight', 'int4-weight', 'fp16'] as const;
export type QuantMethod = (typeof QUANT_METHODS)[number];

/**
 * What a quantized graph was made with; stored in the model's metadata (`hotpath_quantization`),
 * so a graph derived from the folder later (the engine's) is quantized the same way.
 */
export interface QuantSpec {
  method: QuantMethod;
  /** Values per scale along K for the weight-only methods. */
  block_size: number;
  /**
   * `MatMulNBits` accuracy level: 0 multiplies in float32 (weights dequantized on the fly), 4
   * quantizes each activation block to int8 and uses the CPU's int8 dot products (VNNI/AMX).
   */
  accuracy_level: 0 | 4;
  /** Weights whose name contains one of these stay float (the classifier by default). */
  keep_float: string[];
}

/** Name suffixes of the initializers a quantized weight `W` is stored as. */
export const QUANT_SUFFIX = { codes: '.qcodes', scales: '.qscales', zero: '.qzero', half: '.fp16' } as const;

/** Metadata key of the quantization spec in a quantized `ModelProto`. */
export const QUANT_METADATA_KEY = 'hotpath_quantization';

const FLOAT = 1;
const { graph: MODEL_GRAPH, opsetImport: MODEL_OPSET, metadataProps: MODEL_METADATA } = ONNX_FIELD.model;
const { node: GRAPH_NODE, initializer: GRAPH_INITIALIZER } = ONNX_FIELD.graph;
const { key: ENTRY_KEY, value: ENTRY_VALUE } = ONNX_FIELD.entry;

export interface QuantizeGraphResult {
  model: Buffer;
  /** Weights stored quantized (or as fp16), by name. */
  quantized: string[];
  /** Float weights a method could have taken but `keep_float` kept. */
  keptFloat: string[];
  /** Bytes of initializers before and after. */
  bytesBefore: number;
  bytesAfter: number;
}

interface Replacement {
  inits: ProtoWriter[];
  /** The node that replaces the MatMul (weight-only and dynamic methods). */
  node?: (matmul: OnnxNode) => ProtoWriter;
  /** A node placed first in the graph (fp16: the Cast back to float under the original name). */
  head?: ProtoWriter;
}

function node(
  op: string,
  domain: string,
  name: string,
  inputs: string[],
  outputs: string[],
  attrs: Record<string, AttrValue> = {},
): ProtoWriter {
  return nodeProto({ op, domain, name, inputs, outputs, attrs });
}

function init(name: string, dims: readonly number[], data: TensorData, type?: 'uint8'): ProtoWriter {
  return tensorProto(name, dims, data, type);
}

function replacementFor(t: OnnxTensor, spec: QuantSpec): Replacement {
  const w = tensorValues(t, Float32Array);
  const [K, N] = t.dims as [number, number];
  const S = QUANT_SUFFIX;
  if (spec.method === 'fp16') {
    return {
      inits: [init(t.name + S.half, t.dims, toFloat16(w))],
      head: node('Cast', '', `${t.name}/cast`, [t.name + S.half], [t.name], { to: FLOAT }),
    };
  }
  if (spec.method === 'int8-dynamic') {
    const q = quantizeColumns(w, K, N);
    return {
      inits: [
        init(t.name + S.codes, [K, N], q.codes),
        init(t.name + S.scales, [N], q.scales),
        init(t.name + S.zero, [N], new Int8Array(N)),
      ],
      node: (m) =>
        node(
          'DynamicQuantizeMatMul',
          MS_DOMAIN,
          m.name,
          [m.inputs[0] as string, t.name + S.codes, t.name + S.scales, t.name + S.zero],
          m.outputs,
        ),
    };
  }
  const bits = spec.method === 'int4-weight' ? 4 : 8;
  const q = quantizeBlockwise(w, K, N, bits, spec.block_size);
  const kBlocks = Math.ceil(K / spec.block_size);
  return {
    inits: [
      init(t.name + S.codes, [N, kBlocks, (spec.block_size * bits) / 8], q.codes, 'uint8'),
      init(t.name + S.scales, [N, kBlocks], q.scales),
    ],
    // No zero_points input: the codes are offset by 2^(bits−1), the kernel's default zero point.
    node: (m) =>
      node(
        'MatMulNBits',
        MS_DOMAIN,
        m.name,
        [m.inputs[0] as string, t.name + S.codes, t.name + S.scales],
        m.outputs,
        {
          K,
          N,
          bits,
          block_size: spec.block_size,
          accuracy_level: spec.accuracy_level,
        },
      ),
  };
}

/**
 * Quantizes the weights of a serialised ONNX model: every `MatMul` whose right operand is a 2-D
 * float32 initializer (and, for `fp16`, every float32 `Gather` table: the embedding) unless its name
 * matches `keep_float`. Works on any graph, Hotpath's own or an exporter's, as long as the weights are
 * initializers inside the file:
 * - `int8-weight` / `int4-weight`: `MatMulNBits` (block-wise along K, symmetric);
 * - `int8-dynamic`: `DynamicQuantizeMatMul` (int8 weights with a scale per output column,
 *   activations quantized per run);
 * - `fp16`: weights stored as float16 and cast back to float32 once, when the session loads (the
 *   file halves; CPU arithmetic stays float32).
 * A weight some other node also reads keeps its float copy (only its MatMuls are rewritten).
 */
export function quantizeOnnxGraph(model: Uint8Array, spec: QuantSpec): QuantizeGraphResult {
  if (spec.method !== 'fp16' && spec.method !== 'int8-dynamic') checkBlockSize(spec.block_size);
  const graph = readProtoFields(model).find((f) => f.field === MODEL_GRAPH && f.wire === 2);
  if (!graph) throw new Error('no graph in the ModelProto');
  const { nodes, initializers: tensors } = decodeGraph(readProtoFields(graph.value as Uint8Array));
  const isWeight = (n: OnnxNode, i: number, rank: number): string | null => {
    const t = tensors.get(n.inputs[i] ?? '');
    return t && t.type === FLOAT && t.dims.length === rank && n.domain === '' ? t.name : null;
  };
  const candidates = new Map<string, number>();
  const uses = new Map<string, number>();
  for (const n of nodes) {
    for (const i of n.inputs) uses.set(i, (uses.get(i) ?? 0) + 1);
    const w =
      n.op === 'MatMul'
        ? isWeight(n, 1, 2)
        : spec.method === 'fp16' && n.op === 'Gather'
          ? isWeight(n, 0, 2)
          : null;
    if (w) candidates.set(w, (candidates.get(w) ?? 0) + 1);
  }
  const keptFloat = [...candidates.keys()].filter((n) => spec.keep_float.some((k) => n.includes(k)));
  for (const k of keptFloat) candidates.delete(k);
  const replacements = new Map<string, Replacement>();
  for (const name of candidates.keys()) {
    const t = tensors.get(name) as OnnxTensor;
    if (!t.bytes)
      throw new Error(`weight ${name} is stored outside the graph (external data); quantize needs it inline`);
    replacements.set(name, replacementFor(t, spec));
  }

  let bytesBefore = 0;
  let bytesAfter = 0;
  let headsWritten = false;
  const g = rewrite(graph.value as Uint8Array, (f, w) => {
    if (f.wire !== 2) return false;
    if (f.field === GRAPH_NODE) {
      if (!headsWritten) {
        headsWritten = true;
        for (const r of replacements.values()) if (r.head) w.message(GRAPH_NODE, r.head);
      }
      const n = decodeNode(f.value);
      const r = n.op === 'MatMul' && n.domain === '' ? replacements.get(n.inputs[1] ?? '') : undefined;
      if (!r?.node) return false;
      w.message(GRAPH_NODE, r.node(n));
      return true;
    }
    if (f.field !== GRAPH_INITIALIZER) return false;
    bytesBefore += f.value.length;
    const t = decodeTensor(f.value);
    const r = replacements.get(t.name);
    if (!r) {
      bytesAfter += f.value.length;
      return false;
    }
    for (const q of r.inits) {
      w.message(GRAPH_INITIALIZER, q);
      bytesAfter += q.length;
    }
    // The float copy stays only if a node other than the rewritten MatMuls reads it.
    const rewritten = r.node ? (candidates.get(t.name) ?? 0) : (uses.get(t.name) ?? 0);
    if ((uses.get(t.name) ?? 0) > rewritten) {
      copyField(w, f);
      bytesAfter += f.value.length;
    }
    return true;
  });

  const hasMsOpset = readProtoFields(model).some(
    (f) =>
      f.field === MODEL_OPSET &&
      f.wire === 2 &&
      stringField(readProtoFields(f.value), ENTRY_KEY) === MS_DOMAIN,
  );
  const out = rewrite(model, (f, w) => {
    if (f.field === MODEL_GRAPH && f.wire === 2) {
      w.message(MODEL_GRAPH, g);
      if (!hasMsOpset && spec.method !== 'fp16')
        w.message(MODEL_OPSET, new ProtoWriter().string(ENTRY_KEY, MS_DOMAIN).int(2, 1));
      return true;
    }
    // A graph quantized twice records only the latest spec.
    if (f.field === MODEL_METADATA && f.wire === 2)
      return stringField(readProtoFields(f.value), ENTRY_KEY) === QUANT_METADATA_KEY;
    return false;
  });
  out.message(
    MODEL_METADATA,
    new ProtoWriter().string(ENTRY_KEY, QUANT_METADATA_KEY).string(ENTRY_VALUE, JSON.stringify(spec)),
  );
  return {
    model: out.toBuffer(),
    quantized: [...candidates.keys()],
    keptFloat,
    bytesBefore,
    bytesAfter,
  };
}
