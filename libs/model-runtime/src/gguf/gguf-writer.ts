import { toFloat16 } from '../session/float16';
import { quantizeQ8_0, Q8_0_BLOCK } from './gguf-quant';

/** GGUF value types (the `gguf_type` enum of ggml). */
export const GgufValueType = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
} as const;

/** Tensor storage types this writer produces (values of ggml's `ggml_type`). */
export const GgmlType = { F32: 0, F16: 1, Q8_0: 8 } as const;
export type GgmlTypeName = keyof typeof GgmlType;

/** One metadata value with the GGUF type it is written as. */
export type GgufValue =
  | { type: 'uint32'; value: number }
  | { type: 'int32'; value: number }
  | { type: 'float32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'string'; value: string }
  | { type: 'string[]'; value: readonly string[] }
  | { type: 'float32[]'; value: ArrayLike<number> }
  | { type: 'int32[]'; value: ArrayLike<number> };

/** A tensor to write: `shape` in ggml order (`shape[0]` is the contiguous axis). */
export interface GgufTensor {
  name: string;
  shape: readonly number[];
  data: Float32Array;
  type: GgmlTypeName;
}

/** The format's magic ("GGUF" little-endian), version and default data alignment. */
export const GGUF_MAGIC = 0x46554747;
export const GGUF_VERSION = 3;
export const GGUF_ALIGNMENT = 32;

const alignUp = (n: number, a: number): number => Math.ceil(n / a) * a;

/** Growable little-endian byte buffer. */
class ByteSink {
  private buf = Buffer.alloc(1 << 16);
  length = 0;
  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const next = Buffer.alloc(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }
  u32(v: number): this {
    this.room(4);
    this.buf.writeUInt32LE(v, this.length);
    this.length += 4;
    return this;
  }
  i32(v: number): this {
    this.room(4);
    this.buf.writeInt32LE(v, this.length);
    this.length += 4;
    return this;
  }
  u64(v: number): this {
    this.room(8);
    this.buf.writeBigUInt64LE(BigInt(v), this.length);
    this.length += 8;
    return this;
  }
  f32(v: number): this {
    this.room(4);
    this.buf.writeFloatLE(v, this.length);
    this.length += 4;
    return this;
  }
  u8(v: number): this {
    this.room(1);
    this.buf[this.length++] = v;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.room(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
    return this;
  }
  /** A GGUF string: u64 byte length, UTF-8 bytes, no terminator. */
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    return this.u64(b.length).bytes(b);
  }
  pad(to: number): this {
    const n = alignUp(this.length, to) - this.length;
    this.room(n);
    this.buf.fill(0, this.length, this.length + n);
    this.length += n;
    return this;
  }
  view(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

function writeValue(s: ByteSink, v: GgufValue): void {
  const T = GgufValueType;
  switch (v.type) {
    case 'uint32':
      s.u32(T.uint32).u32(v.value);
      return;
    case 'int32':
      s.u32(T.int32).i32(v.value);
      return;
    case 'float32':
      s.u32(T.float32).f32(v.value);
      return;
    case 'bool':
      s.u32(T.bool).u8(v.value ? 1 : 0);
      return;
    case 'string':
      s.u32(T.string).str(v.value);
      return;
    case 'string[]':
      s.u32(T.array).u32(T.string).u64(v.value.length);
      for (const x of v.value) s.str(x);
      return;
    case 'float32[]':
      s.u32(T.array).u32(T.float32).u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) s.f32(v.value[i] as number);
      return;
    case 'int32[]':
      s.u32(T.array).u32(T.int32).u64(v.value.length);
      for (let i = 0; i < v.value.length; i++) s.i32(v.value[i] as number);
      return;
  }
}

/** The bytes of one tensor in its storage type. */
export function encodeTensor(t: GgufTensor): Uint8Array {
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (n !== t.data.length)
    throw new Error(`tensor ${t.name}: shape ${t.shape.join('x')} but ${t.data.length} values`);
  if (t.type === 'F32') return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  if (t.type === 'F16') {
    const h = toFloat16(t.data);
    return new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
  }
  if ((t.shape[0] ?? 0) % Q8_0_BLOCK !== 0)
    throw new Error(`tensor ${t.name}: Q8_0 needs a first dimension divisible by ${Q8_0_BLOCK}`);
  return quantizeQ8_0(t.data);
}

/**
 * Serialises a GGUF v3 file: header, metadata (in the order given), tensor infos, then each
 * tensor's data at a {@link GGUF_ALIGNMENT}-aligned offset. Returns the whole file.
 */
export function writeGguf(metadata: ReadonlyMap<string, GgufValue>, tensors: readonly GgufTensor[]): Buffer {
  const head = new ByteSink();
  head.u32(GGUF_MAGIC).u32(GGUF_VERSION).u64(tensors.length).u64(metadata.size);
  for (const [key, value] of metadata) {
    head.str(key);
    writeValue(head, value);
  }
  const blobs = tensors.map(encodeTensor);
  let offset = 0;
  tensors.forEach((t, i) => {
    head.str(t.name).u32(t.shape.length);
    for (const d of t.shape) head.u64(d);
    head.u32(GgmlType[t.type]).u64(offset);
    offset = alignUp(offset + (blobs[i] as Uint8Array).length, GGUF_ALIGNMENT);
  });
  head.pad(GGUF_ALIGNMENT);
  const out = Buffer.alloc(head.length + offset);
  head.view().copy(out, 0);
  let at = head.length;
  for (const b of blobs) {
    out.set(b, at);
    at = alignUp(at + b.length, GGUF_ALIGNMENT);
  }
  return out;
}
