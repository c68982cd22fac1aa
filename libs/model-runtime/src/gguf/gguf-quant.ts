import { float16Bits, float16Value } from '../session/float16';

/** Values per Q8_0 block; a block is one float16 scale and 32 int8 values (34 bytes). */
export const Q8_0_BLOCK = 32;
const Q8_0_BYTES = 2 + Q8_0_BLOCK;

/**
 * ggml's reference Q8_0: per block of 32, scale d = max|x| / 127 (stored as float16) and
 * q = round(x / d). `data.length` must be a multiple of 32.
 */
export function quantizeQ8_0(data: Float32Array): Uint8Array {
  if (data.length % Q8_0_BLOCK !== 0) throw new Error(`Q8_0: ${data.length} values is not a multiple of 32`);
  const blocks = data.length / Q8_0_BLOCK;
  const out = new Uint8Array(blocks * Q8_0_BYTES);
  const view = new DataView(out.buffer);
  const q = new Int8Array(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const x = data.subarray(b * Q8_0_BLOCK, (b + 1) * Q8_0_BLOCK);
    let amax = 0;
    for (const v of x) amax = Math.max(amax, Math.abs(v));
    const d = amax / 127;
    const id = d ? 1 / d : 0;
    const at = b * Q8_0_BYTES;
    view.setUint16(at, float16Bits(d), true);
    // C roundf rounds halves away from zero; Math.round rounds them up.
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const s = (x[j] as number) * id;
      q[at + 2 + j] = Math.sign(s) * Math.round(Math.abs(s));
    }
  }
  return out;
}

/** Q8_0 bytes → float32 values (for tests and inspection). */
export function dequantizeQ8_0(bytes: Uint8Array): Float32Array {
  const blocks = bytes.length / Q8_0_BYTES;
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let b = 0; b < blocks; b++) {
    const d = float16Value(view.getUint16(b * Q8_0_BYTES, true));
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * view.getInt8(b * Q8_0_BYTES + 2 + j);
  }
  return out;
}
