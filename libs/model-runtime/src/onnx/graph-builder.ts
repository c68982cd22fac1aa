import { ProtoWriter } from './protobuf-writer';

/** Element types the builder can declare (ONNX `TensorProto.DataType` values). */
export const OnnxType = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7, bool: 9, float16: 10 } as const;
export type OnnxTypeName = keyof typeof OnnxType;

/** Data of an initializer or constant tensor. */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Int8Array | Uint8Array | Uint16Array;

/** A dimension: a fixed size or a symbolic name (a dynamic axis). */
export type Dim = number | string;

/** Attribute values: integer, float (`{ f }`), string, int list, float list (`{ floats }`), tensor. */
export type AttrValue =
  | number
  | { f: number }
  | string
  | readonly number[]
  | { floats: readonly number[] }
  | { tensor: { dims: readonly number[]; type: OnnxTypeName; data: TensorData } };

/** One graph node as the builder holds it. */
export interface NodeDef {
  op: string;
  /** Operator domain: '' for standard ONNX, `com.microsoft` for onnxruntime's contrib ops. */
  domain: string;
  name: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attrs: Readonly<Record<string, AttrValue>>;
}

interface ValueInfo {
  name: string;
  type: OnnxTypeName;
  shape: readonly Dim[];
}

interface Initializer {
  name: string;
  type: OnnxTypeName;
  dims: readonly number[];
  data: TensorData;
}

function typeOf(data: TensorData): OnnxTypeName {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof BigInt64Array) return 'int64';
  if (data instanceof Int32Array) return 'int32';
  if (data instanceof Int8Array) return 'int8';
  // IEEE half floats travel as their raw 16-bit patterns.
  if (data instanceof Uint16Array) return 'float16';
  return 'bool';
}

/** onnxruntime's contrib operator domain (GroupQueryAttention, SimplifiedLayerNormalization, …). */
export const MS_DOMAIN = 'com.microsoft';

/** A serialised `TensorProto` (raw data); `type` overrides the element type read off `data`. */
export function tensorProto(
  name: string,
  dims: readonly number[],
  data: TensorData,
  type: OnnxTypeName = typeOf(data),
): ProtoWriter {
  const t = new ProtoWriter();
  t.packedInts(1, dims);
  t.int(2, OnnxType[type]);
  if (name) t.string(8, name);
  t.bytes(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return t;
}

function valueInfoProto(v: ValueInfo): ProtoWriter {
  const shape = new ProtoWriter();
  for (const d of v.shape) {
    const dim = new ProtoWriter();
    if (typeof d === 'number') dim.int(1, d);
    else dim.string(2, d);
    shape.message(1, dim);
  }
  const tensorType = new ProtoWriter().int(1, OnnxType[v.type]).message(2, shape);
  const type = new ProtoWriter().message(1, tensorType);
  return new ProtoWriter().string(1, v.name).message(2, type);
}

/** A serialised `AttributeProto`. */
export function attributeProto(name: string, value: AttrValue): ProtoWriter {
  const a = new ProtoWriter().string(1, name);
  if (typeof value === 'number') return a.int(3, value).int(20, 2);
  if (typeof value === 'string') return a.bytes(4, Buffer.from(value, 'utf8')).int(20, 3);
  if (Array.isArray(value)) return a.packedInts(8, value as readonly number[]).int(20, 7);
  if ('f' in value) return a.float(2, value.f).int(20, 1);
  if ('floats' in value) return a.packedFloats(7, value.floats).int(20, 6);
  if ('tensor' in value) {
    const { dims, data } = value.tensor;
    return a.message(5, tensorProto('', dims, data)).int(20, 4);
  }
  throw new Error(`unsupported attribute ${name}`);
}

/** A serialised `NodeProto`. */
export function nodeProto(n: NodeDef): ProtoWriter {
  const np = new ProtoWriter();
  for (const i of n.inputs) np.string(1, i);
  for (const o of n.outputs) np.string(2, o);
  np.string(3, n.name).string(4, n.op);
  if (n.domain) np.string(7, n.domain);
  for (const [k, v] of Object.entries(n.attrs)) np.message(5, attributeProto(k, v));
  return np;
}

/**
 * Builds one ONNX graph node by node and serialises it as a `ModelProto` (standard `ai.onnx`
 * operators, plus onnxruntime's `com.microsoft` contrib operators through {@link GraphBuilder.msOp}). Intermediate names are generated; graph inputs, outputs and initializers keep
 * the names given.
 */
export class GraphBuilder {
  private readonly nodes: NodeDef[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: Initializer[] = [];
  private counter = 0;
  private scope = '';

  constructor(
    private readonly graphName: string,
    private readonly opset = 17,
  ) {}

  /** Prefix for generated names (e.g. `/model/layers.3`), for readable graphs. */
  withScope<T>(scope: string, fn: () => T): T {
    const prev = this.scope;
    this.scope = scope;
    try {
      return fn();
    } finally {
      this.scope = prev;
    }
  }

  input(name: string, type: OnnxTypeName, shape: readonly Dim[]): string {
    this.inputs.push({ name, type, shape });
    return name;
  }

  output(name: string, type: OnnxTypeName, shape: readonly Dim[]): void {
    this.outputs.push({ name, type, shape });
  }

  /** A named weight stored in the file. */
  initializer(name: string, dims: readonly number[], data: TensorData): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length)
      throw new Error(`initializer ${name}: dims ${dims.join('x')} but ${data.length} values`);
    this.initializers.push({ name, type: typeOf(data), dims, data });
    return name;
  }

  /** A small constant (stored as an initializer with a generated name). */
  constant(data: TensorData, dims: readonly number[] = [data.length]): string {
    return this.initializer(`${this.scope}/const_${this.counter++}`, dims, data);
  }

  ints(values: readonly number[]): string {
    return this.constant(BigInt64Array.from(values.map((v) => BigInt(v))));
  }

  scalarF(v: number): string {
    return this.constant(Float32Array.of(v), []);
  }

  scalarI(v: number): string {
    return this.constant(BigInt64Array.of(BigInt(v)), []);
  }

  /**
   * Adds a node; returns its output names (`outputs` explicit names, or `count` generated). An
   * empty input name marks an optional input as absent, as ONNX specifies.
   */
  node(
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    outputs: number | readonly string[] = 1,
    domain = '',
  ): string[] {
    const id = this.counter++;
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, (_, i) => `${this.scope}/${op}_${id}_out${i}`)
        : [...outputs];
    this.nodes.push({ op, domain, name: `${this.scope}/${op}_${id}`, inputs, outputs: outs, attrs });
    return outs;
  }

  /** A `com.microsoft` contrib node (onnxruntime only); returns its output names. */
  msNode(
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    outputs: number | readonly string[] = 1,
  ): string[] {
    return this.node(op, inputs, attrs, outputs, MS_DOMAIN);
  }

  /** Single-output node. */
  op(
    op: string,
    inputs: readonly string[],
    attrs: Readonly<Record<string, AttrValue>> = {},
    output?: string,
  ): string {
    const [out] = this.node(op, inputs, attrs, output ? [output] : 1);
    return out as string;
  }

  /** Serialises the graph as an ONNX `ModelProto`. */
  toModelProto(metadata: Readonly<Record<string, string>> = {}): ProtoWriter {
    const g = new ProtoWriter();
    for (const n of this.nodes) g.message(1, nodeProto(n));
    g.string(2, this.graphName);
    for (const init of this.initializers) g.message(5, tensorProto(init.name, init.dims, init.data));
    for (const i of this.inputs) g.message(11, valueInfoProto(i));
    for (const o of this.outputs) g.message(12, valueInfoProto(o));
    const m = new ProtoWriter();
    m.int(1, 8); // IR version 8 pairs with opset 17
    m.string(2, 'hotpath').string(3, '0.1.0');
    m.message(7, g);
    m.message(8, new ProtoWriter().string(1, '').int(2, this.opset));
    if (this.nodes.some((n) => n.domain === MS_DOMAIN))
      m.message(8, new ProtoWriter().string(1, MS_DOMAIN).int(2, 1));
    for (const [k, v] of Object.entries(metadata)) m.message(14, new ProtoWriter().string(1, k).string(2, v));
    return m;
  }
}
