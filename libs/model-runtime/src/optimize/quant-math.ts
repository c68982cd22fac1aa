/**
 * Weight quantization arithmetic, in the layouts onnxruntime's CPU kernels read. Every scheme is
 * symmetric around an implied zero point and picks its scale from the value of largest magnitude
 * (as llama.cpp's Q4_0/Q8_0 do: d = that value / −2^(bits−1), so the largest magnitude uses the
 * full negative code). Dequantizing and quantizing again gives back the same codes, which is how the
 * engine re-derives its fused graph from a quantized folder without losing anything further.
 */

/** Block-wise quantized `[K, N]` matrix in `MatMulNBits` layout (quantized along K, per column). */
export interface BlockQuantized {
  K: number;
  N: number;
  bits: 4 | 8;
  blockSize: number;
  /** `[N, kBlocks, blockSize·bits/8]`, codes low-first along K, offset by 2^(bits−1). */
  codes: Uint8Array;
  /** `[N, kBlocks]`. */
  scales: Float32Array;
}

/** Per-column int8 `[K, N]` matrix (`DynamicQuantizeMatMul`'s B with a per-column scale). */
export interface ColumnQuantized {
  K: number;
  N: number;
  /** `[K, N]`, the same layout as the float matrix. */
  codes: Int8Array;
  /** `[N]`. */
  scales: Float32Array;
}

/** Scale of a group: its value of largest magnitude over −2^(bits−1) (never zero). */
function groupScale(maxSigned: number, bits: number): number {
  const d = Math.fround(maxSigned / -(2 ** (bits - 1)));
  return d === 0 ? 1 : d;
}

function code(v: number, inv: number, bits: number): number {
  const lo = -(2 ** (bits - 1));
  return Math.min(-lo - 1, Math.max(lo, Math.round(v * inv)));
}

/** Power-of-two block sizes from 16 to 256, as `MatMulNBits` accepts. */
export function checkBlockSize(blockSize: number): void {
  if (
    !Number.isInteger(blockSize) ||
    blockSize < 16 ||
    blockSize > 256 ||
    (blockSize & (blockSize - 1)) !== 0
  )
    throw new RangeError(`block size must be a power of two from 16 to 256, got ${blockSize}`);
}

/** Quantizes a row-major `[K, N]` float matrix block-wise along K (a ragged last block is zero-padded). */
export function quantizeBlockwise(
  w: Float32Array,
  K: number,
  N: number,
  bits: 4 | 8,
  blockSize: number,
): BlockQuantized {
  checkBlockSize(blockSize);
  if (w.length !== K * N) throw new RangeError(`matrix has ${w.length} values, expected ${K}x${N}`);
  const kBlocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const codes = new Uint8Array(N * kBlocks * blob);
  const scales = new Float32Array(N * kBlocks);
  const offset = 2 ** (bits - 1);
  for (let n = 0; n < N; n++) {
    for (let kb = 0; kb < kBlocks; kb++) {
      const k0 = kb * blockSize;
      const k1 = Math.min(K, k0 + blockSize);
      let maxSigned = 0;
      for (let k = k0; k < k1; k++) {
        const v = w[k * N + n] as number;
        if (Math.abs(v) > Math.abs(maxSigned)) maxSigned = v;
      }
      const d = groupScale(maxSigned, bits);
      scales[n * kBlocks + kb] = d;
      const inv = 1 / d;
      const base = (n * kBlocks + kb) * blob;
      for (let k = k0; k < k0 + blockSize; k++) {
        const c = (k < k1 ? code(w[k * N + n] as number, inv, bits) : 0) + offset;
        const i = k - k0;
        if (bits === 8) codes[base + i] = c;
        else codes[base + (i >> 1)] = (codes[base + (i >> 1)] as number) | (i & 1 ? c << 4 : c);
      }
    }
  }
  return { K, N, bits, blockSize, codes, scales };
}

/** The float `[K, N]` matrix a block-quantized one stands for (what the kernel multiplies by). */
export function dequantizeBlockwise(q: BlockQuantized): Float32Array {
  const { K, N, bits, blockSize, codes, scales } = q;
  const kBlocks = Math.ceil(K / blockSize);
  const blob = (blockSize * bits) / 8;
  const offset = 2 ** (bits - 1);
  const w = new Float32Array(K * N);
  for (let n = 0; n < N; n++)
    for (let k = 0; k < K; k++) {
      const kb = Math.floor(k / blockSize);
      const i = k - kb * blockSize;
      const byte = codes[(n * kBlocks + kb) * blob + (bits === 8 ? i : i >> 1)] as number;
      const c = bits === 8 ? byte : i & 1 ? byte >> 4 : byte & 15;
      w[k * N + n] = (c - offset) * (scales[n * kBlocks + kb] as number);
    }
  return w;
}

/**
 * Largest code of `int8-dynamic` weights: 7 bits. onnxruntime multiplies them by uint8 activations
 * with VPMADDUBSW on x86 CPUs without VNNI (AVX2, AVX-512 without VNNI), which adds each pair of
 * products into a saturating int16: 255·127·2 exceeds 32,767 and a GEMM of 8-bit codes came out
 * 20–30 % wrong on such a host (Zen 3), while 255·63·2 = 32,130 never saturates. onnxruntime's own
 * quantizer offers the same remedy (`reduce_range`); VNNI and AMX hosts lose only the eighth bit.
 */
export const COLUMN_CODE_MAX = 63;

/** Quantizes a row-major `[K, N]` float matrix to int8 codes within ±{@link COLUMN_CODE_MAX}, one scale per column. */
export function quantizeColumns(w: Float32Array, K: number, N: number): ColumnQuantized {
  if (w.length !== K * N) throw new RangeError(`matrix has ${w.length} values, expected ${K}x${N}`);
  const scales = new Float32Array(N);
  const codes = new Int8Array(K * N);
  for (let n = 0; n < N; n++) {
    let maxSigned = 0;
    for (let k = 0; k < K; k++) {
      const v = w[k * N + n] as number;
      if (Math.abs(v) > Math.abs(maxSigned)) maxSigned = v;
    }
    const d = maxSigned === 0 ? 1 : Math.fround(Math.abs(maxSigned) / COLUMN_CODE_MAX);
    scales[n] = d;
    const inv = 1 / d;
    for (let k = 0; k < K; k++)
      codes[k * N + n] = Math.max(
        -COLUMN_CODE_MAX,
        Math.min(COLUMN_CODE_MAX, Math.round((w[k * N + n] as number) * inv)),
      );
  }
  return { K, N, codes, scales };
}

/** The float matrix a per-column int8 one stands for. */
export function dequantizeColumns(q: ColumnQuantized): Float32Array {
  const w = new Float32Array(q.K * q.N);
  for (let k = 0; k < q.K; k++)
    for (let n = 0; n < q.N; n++) w[k * q.N + n] = (q.codes[k * q.N + n] as number) * (q.scales[n] as number);
  return w;
}
