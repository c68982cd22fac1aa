// IEEE 754 binary16 ("half") conversions. Node 20 has no Float16Array, so half tensors travel as
// their raw 16-bit patterns in a Uint16Array (as onnxruntime-node hands them out).

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** One float32 → IEEE half bits, rounding to nearest even; overflow gives ±inf, NaN stays NaN. */
export function float16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0] as number;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // Half subnormals: the implicit bit joins the mantissa, shifted by how far below 2^-14 it is.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let h = mant >>> shift;
    if (rest > half || (rest === half && (h & 1) === 1)) h++;
    return sign | h;
  }
  // A carry out of the mantissa bumps the exponent (and past 30 gives inf), as IEEE rounding does.
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && (h & 1) === 1)) h++;
  return sign | h;
}

/** Half bits → its exact value (every half is exactly representable as a float32). */
export function float16Value(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

/** A float32 array as IEEE half bits (round to nearest even). */
export function toFloat16(data: Float32Array): Uint16Array {
  const out = new Uint16Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = float16Bits(data[i] as number);
  return out;
}

let table: Float32Array | null = null;

/**
 * IEEE half bits → float32 values, exact. A 256 KiB table of all 65,536 halves (built on first
 * use) makes this one load per value: it runs on every fp16 logits tensor before sampling.
 */
export function fromFloat16(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  if (out.length < bits.length) throw new RangeError('fromFloat16: output shorter than input');
  if (!table) {
    table = new Float32Array(0x10000);
    for (let h = 0; h < 0x10000; h++) table[h] = float16Value(h);
  }
  const t = table;
  for (let i = 0; i < bits.length; i++) out[i] = t[bits[i] as number] as number;
  return out;
}
