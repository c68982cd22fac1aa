// The WASM engine's kernels (AssemblyScript, compiled with 128-bit SIMD to
// libs/model-runtime/dist/wasm/llama-kernel.wasm by `npm run build`). Each call does one operator
// over a flat batch of T tokens; the TypeScript engine (src/wasm-engine/wasm-engine.ts) owns the
// memory plan and calls these in order. All pointers are byte offsets into the module's memory,
// all tensors float32 row-major, positions and slots int32.
//
// Why a kernel of our own: on a model of a few hundred thousand parameters onnxruntime spends a
// step's time on per-operator and per-run overhead, not arithmetic (docs/engine.md#the-wasm-engine).

// ---- matmul -----------------------------------------------------------------------------------

/**
 * C[T×N] = A[T×K]·W[K×N] (or C += … when `accumulate`), N a multiple of 8. A has row stride
 * `lda` floats, C row stride `ldc`. Four rows share each load of W (8 columns at a time), so W is
 * read once per four tokens.
 */
export function matmul(
  a: usize,
  lda: i32,
  w: usize,
  c: usize,
  ldc: i32,
  T: i32,
  K: i32,
  N: i32,
  accumulate: bool,
): void {
  const wStride = <usize>(N << 2);
  const aStride = <usize>(lda << 2);
  const cStride = <usize>(ldc << 2);
  let t = 0;
  for (; t + 4 <= T; t += 4) {
    const a0 = a + <usize>t * aStride;
    const a1 = a0 + aStride;
    const a2 = a1 + aStride;
    const a3 = a2 + aStride;
    for (let n = 0; n < N; n += 8) {
      let c00 = f32x4.splat(0);
      let c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0);
      let c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0);
      let c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0);
      let c31 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const w0 = v128.load(wp);
        const w1 = v128.load(wp, 16);
        const ko = <usize>k << 2;
        let s = f32x4.splat(load<f32>(a0 + ko));
        c00 = f32x4.add(c00, f32x4.mul(s, w0));
        c01 = f32x4.add(c01, f32x4.mul(s, w1));
        s = f32x4.splat(load<f32>(a1 + ko));
        c10 = f32x4.add(c10, f32x4.mul(s, w0));
        c11 = f32x4.add(c11, f32x4.mul(s, w1));
        s = f32x4.splat(load<f32>(a2 + ko));
        c20 = f32x4.add(c20, f32x4.mul(s, w0));
        c21 = f32x4.add(c21, f32x4.mul(s, w1));
        s = f32x4.splat(load<f32>(a3 + ko));
        c30 = f32x4.add(c30, f32x4.mul(s, w0));
        c31 = f32x4.add(c31, f32x4.mul(s, w1));
        wp += wStride;
      }
      const cp = c + <usize>t * cStride + (<usize>n << 2);
      store4(cp, c00, c01, accumulate);
      store4(cp + cStride, c10, c11, accumulate);
      store4(cp + 2 * cStride, c20, c21, accumulate);
      store4(cp + 3 * cStride, c30, c31, accumulate);
    }
  }
  for (; t < T; t++) {
    const ap = a + <usize>t * aStride;
    const cp = c + <usize>t * cStride;
    let n = 0;
    for (; n + 16 <= N; n += 16) {
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let c2 = f32x4.splat(0);
      let c3 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const s = f32x4.splat(load<f32>(ap + (<usize>k << 2)));
        c0 = f32x4.add(c0, f32x4.mul(s, v128.load(wp)));
        c1 = f32x4.add(c1, f32x4.mul(s, v128.load(wp, 16)));
        c2 = f32x4.add(c2, f32x4.mul(s, v128.load(wp, 32)));
        c3 = f32x4.add(c3, f32x4.mul(s, v128.load(wp, 48)));
        wp += wStride;
      }
      store4(cp + (<usize>n << 2), c0, c1, accumulate);
      store4(cp + (<usize>n << 2) + 32, c2, c3, accumulate);
    }
    for (; n < N; n += 8) {
      let c0 = f32x4.splat(0);
      let c1 = f32x4.splat(0);
      let wp = w + (<usize>n << 2);
      for (let k = 0; k < K; k++) {
        const s = f32x4.splat(load<f32>(ap + (<usize>k << 2)));
        c0 = f32x4.add(c0, f32x4.mul(s, v128.load(wp)));
        c1 = f32x4.add(c1, f32x4.mul(s, v128.load(wp, 16)));
        wp += wStride;
      }
      store4(cp + (<usize>n << 2), c0, c1, accumulate);
    }
  }
}

// @ts-ignore: decorator
@inline
function store4(p: usize, x: v128, y: v128, accumulate: bool): void {
  if (accumulate) {
    v128.store(p, f32x4.add(v128.load(p), x));
    v128.store(p, f32x4.add(v128.load(p, 16), y), 16);
  } else {
    v128.store(p, x);
    v128.store(p, y, 16);
  }
}

// ---- elementwise ------------------------------------------------------------------------------

/** out[t] = x[t] · g / sqrt(mean(x[t]²) + eps), H a multiple of 4 (RMSNorm, as SimplifiedLayerNormalization). */
export function rmsnorm(x: usize, g: usize, out: usize, T: i32, H: i32, eps: f32): void {
  const row = <usize>(H << 2);
  for (let t = 0; t < T; t++) {
    const xp = x + <usize>t * row;
    const op = out + <usize>t * row;
    let acc = f32x4.splat(0);
    for (let i = 0; i < H; i += 4) {
      const v = v128.load(xp + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    const sum =
      f32x4.extract_lane(acc, 0) +
      f32x4.extract_lane(acc, 1) +
      f32x4.extract_lane(acc, 2) +
      f32x4.extract_lane(acc, 3);
    const scale = f32x4.splat(<f32>1 / Mathf.sqrt(sum / <f32>H + eps));
    for (let i = 0; i < H; i += 4) {
      const o = <usize>i << 2;
      v128.store(op + o, f32x4.mul(f32x4.mul(v128.load(xp + o), scale), v128.load(g + o)));
    }
  }
}

/** x[t] = table[token[t]] (the embedding lookup), H a multiple of 4. */
export function embed(tokens: usize, T: i32, table: usize, x: usize, H: i32): void {
  const row = <usize>(H << 2);
  for (let t = 0; t < T; t++) {
    const src = table + <usize>load<i32>(tokens + (<usize>t << 2)) * row;
    memory.copy(x + <usize>t * row, src, row);
  }
}

/** Copies rows `rows[i]` of src (row stride H) to row i of dst, H a multiple of 4. */
export function gatherRows(src: usize, rows: usize, n: i32, dst: usize, H: i32): void {
  const row = <usize>(H << 2);
  for (let i = 0; i < n; i++) {
    memory.copy(dst + <usize>i * row, src + <usize>load<i32>(rows + (<usize>i << 2)) * row, row);
  }
}

/**
 * out[t][i] = silu(gu[t][i]) · gu[t][I + i] for i < I (the gated FFN's activation; gate and up
 * side by side in one row of 2·I, I a multiple of 4).
 */
export function siluMul(gu: usize, T: i32, I: i32, out: usize): void {
  const one = f32x4.splat(1);
  for (let t = 0; t < T; t++) {
    const gp = gu + <usize>t * <usize>(I << 3);
    const up = gp + <usize>(I << 2);
    const op = out + <usize>t * <usize>(I << 2);
    for (let i = 0; i < I; i += 4) {
      const o = <usize>i << 2;
      const g = v128.load(gp + o);
      const sig = f32x4.div(one, f32x4.add(one, exp4(f32x4.neg(g))));
      // Below -40 silu(g) is under 2e-16: zero, so that no subnormal float reaches later products
      // (WebAssembly cannot flush them, and x86 takes a microcode assist on each).
      const live = f32x4.gt(g, f32x4.splat(-40));
      v128.store(op + o, v128.and(f32x4.mul(f32x4.mul(g, sig), v128.load(up + o)), live));
    }
  }
}

/**
 * Rotates `heads` heads of each token's row in place (RoPE, rotate-half layout: pairs j, j + D/2),
 * starting `offset` floats into the row of stride `ld`; cos/sin are `[positions, D/2]`.
 */
export function rope(x: usize, ld: i32, offset: i32, heads: i32, D: i32, T: i32, pos: usize, cos: usize, sin: usize): void {
  const half = D >> 1;
  for (let t = 0; t < T; t++) {
    const p = <usize>load<i32>(pos + (<usize>t << 2)) * <usize>(half << 2);
    const c = cos + p;
    const s = sin + p;
    let hp = x + (<usize>t * <usize>ld + <usize>offset) * 4;
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < half; j++) {
        const o = <usize>j << 2;
        const lo = load<f32>(hp + o);
        const hi = load<f32>(hp + o + <usize>(half << 2));
        const cj = load<f32>(c + o);
        const sj = load<f32>(s + o);
        store<f32>(hp + o, lo * cj - hi * sj);
        store<f32>(hp + o + <usize>(half << 2), hi * cj + lo * sj);
      }
      hp += <usize>(D << 2);
    }
  }
}

// ---- KV cache and attention --------------------------------------------------------------------

/**
 * Writes each token's keys and values (at `kOffset` / `vOffset` floats into its row of stride `ld`)
 * into the layer's caches at (slot, position): caches are `[slots, kvHeads, cap, D]`.
 */
export function storeKv(
  x: usize,
  ld: i32,
  kOffset: i32,
  vOffset: i32,
  T: i32,
  slots: usize,
  pos: usize,
  kCache: usize,
  vCache: usize,
  kvHeads: i32,
  cap: i32,
  D: i32,
): void {
  const bytes = <usize>(D << 2);
  for (let t = 0; t < T; t++) {
    const slot = <usize>load<i32>(slots + (<usize>t << 2));
    const p = <usize>load<i32>(pos + (<usize>t << 2));
    const row = x + <usize>t * <usize>ld * 4;
    for (let h = 0; h < kvHeads; h++) {
      const at = ((slot * <usize>kvHeads + <usize>h) * <usize>cap + p) * bytes;
      const k = row + (<usize>kOffset << 2) + <usize>h * bytes;
      const v = row + (<usize>vOffset << 2) + <usize>h * bytes;
      // Vector copies: a head is a few vectors, and memory.copy is a call out of the module.
      for (let o: usize = 0; o < bytes; o += 16) {
        v128.store(kCache + at + o, v128.load(k + o));
        v128.store(vCache + at + o, v128.load(v + o));
      }
    }
  }
}

/**
 * Causal attention of each token's query heads (row of stride `ld`, from float 0) over its slot's
 * cached positions 0…pos (its own key and value already stored), heads grouped onto kv heads
 * (GQA); writes `[T, heads·D]` to `out`. The two query heads of a pair (heads/kvHeads even) share
 * every load of the keys and values. `scores` is scratch of at least 2·(cap+4) floats. D a
 * multiple of 4.
 */
export function attention(
  x: usize,
  ld: i32,
  T: i32,
  slots: usize,
  pos: usize,
  kCache: usize,
  vCache: usize,
  heads: i32,
  kvHeads: i32,
  cap: i32,
  D: i32,
  scale: f32,
  out: usize,
  scores: usize,
): void {
  const group = heads / kvHeads;
  const bytes = <usize>(D << 2);
  const scoresB = scores + ((<usize>cap + 4) << 2);
  for (let t = 0; t < T; t++) {
    const slot = <usize>load<i32>(slots + (<usize>t << 2));
    const n = load<i32>(pos + (<usize>t << 2)) + 1;
    const row = x + <usize>t * <usize>ld * 4;
    const orow = out + <usize>t * <usize>heads * bytes;
    for (let kvh = 0; kvh < kvHeads; kvh++) {
      const base = (slot * <usize>kvHeads + <usize>kvh) * <usize>cap * bytes;
      const kp = kCache + base;
      const vp = vCache + base;
      let g = 0;
      for (; g + 2 <= group; g += 2) {
        const h = kvh * group + g;
        const qa = row + <usize>h * bytes;
        scorePair(qa, qa + bytes, kp, n, D, scale, scores, scoresB);
        weighValuesPair(vp, n, D, scores, scoresB, orow + <usize>h * bytes, orow + <usize>(h + 1) * bytes);
      }
      for (; g < group; g++) {
        const h = kvh * group + g;
        const qa = row + <usize>h * bytes;
        // A lone head: computed as a pair with itself (the second result is discarded).
        scorePair(qa, qa, kp, n, D, scale, scores, scoresB);
        weighValuesPair(vp, n, D, scores, scores, orow + <usize>h * bytes, orow + <usize>h * bytes);
      }
    }
  }
}

/**
 * Softmaxed scores of queries `qa` and `qb` against keys 0…n-1 (rows of D floats from `kp`), into
 * `sa` and `sb`: four positions at a time, each position's D/4 vector products summed across lanes
 * for the four positions together.
 */
// @ts-ignore: decorator
@inline
function scorePair(qa: usize, qb: usize, kp: usize, n: i32, D: i32, scale: f32, sa: usize, sb: usize): void {
  const bytes = <usize>(D << 2);
  const vscale = f32x4.splat(scale);
  let ma = f32x4.splat(<f32>-Infinity);
  let mb = f32x4.splat(<f32>-Infinity);
  const whole = n & ~3;
  for (let i = 0; i < whole; i += 4) {
    const k0 = kp + <usize>i * bytes;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let a2 = f32x4.splat(0);
    let a3 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let b2 = f32x4.splat(0);
    let b3 = f32x4.splat(0);
    for (let d = 0; d < D; d += 4) {
      const o = <usize>d << 2;
      const qav = v128.load(qa + o);
      const qbv = v128.load(qb + o);
      let k = v128.load(k0 + o);
      a0 = f32x4.add(a0, f32x4.mul(qav, k));
      b0 = f32x4.add(b0, f32x4.mul(qbv, k));
      k = v128.load(k0 + bytes + o);
      a1 = f32x4.add(a1, f32x4.mul(qav, k));
      b1 = f32x4.add(b1, f32x4.mul(qbv, k));
      k = v128.load(k0 + 2 * bytes + o);
      a2 = f32x4.add(a2, f32x4.mul(qav, k));
      b2 = f32x4.add(b2, f32x4.mul(qbv, k));
      k = v128.load(k0 + 3 * bytes + o);
      a3 = f32x4.add(a3, f32x4.mul(qav, k));
      b3 = f32x4.add(b3, f32x4.mul(qbv, k));
    }
    const a = f32x4.mul(sum4(a0, a1, a2, a3), vscale);
    const b = f32x4.mul(sum4(b0, b1, b2, b3), vscale);
    v128.store(sa + (<usize>i << 2), a);
    v128.store(sb + (<usize>i << 2), b);
    ma = f32x4.max(ma, a);
    mb = f32x4.max(mb, b);
  }
  let mxa = max4(ma);
  let mxb = max4(mb);
  for (let i = whole; i < n; i++) {
    const k0 = kp + <usize>i * bytes;
    let a = f32x4.splat(0);
    let b = f32x4.splat(0);
    for (let d = 0; d < D; d += 4) {
      const o = <usize>d << 2;
      const k = v128.load(k0 + o);
      a = f32x4.add(a, f32x4.mul(v128.load(qa + o), k));
      b = f32x4.add(b, f32x4.mul(v128.load(qb + o), k));
    }
    const ra = sum1(a) * scale;
    const rb = sum1(b) * scale;
    store<f32>(sa + (<usize>i << 2), ra);
    store<f32>(sb + (<usize>i << 2), rb);
    mxa = max(mxa, ra);
    mxb = max(mxb, rb);
  }
  softmax(sa, n, mxa);
  softmax(sb, n, mxb);
}

/** p[i] = e^(p[i] − m) / Σ, in place over n scores (the tail beyond n, to 4, is written but unused). */
// @ts-ignore: decorator
@inline
function softmax(p: usize, n: i32, m: f32): void {
  const vm = f32x4.splat(m);
  let sum = f32x4.splat(0);
  const whole = n & ~3;
  let i = 0;
  // Weights under 1e-20 of the largest are zero (they cannot move a float32 sum of ≥ 1), so that
  // no subnormal product reaches the weighted sum of values.
  const floor = f32x4.splat(1e-20);
  for (; i < whole; i += 4) {
    const sp = p + (<usize>i << 2);
    let e = exp4(f32x4.sub(v128.load(sp), vm));
    e = v128.and(e, f32x4.gt(e, floor));
    v128.store(sp, e);
    sum = f32x4.add(sum, e);
  }
  if (i < n) {
    // The last 1–3 scores: lanes past n are masked to zero before they count.
    const sp = p + (<usize>i << 2);
    const rest = n - i;
    const lane = i32x4(0, 1, 2, 3);
    let e = exp4(f32x4.sub(v128.load(sp), vm));
    e = v128.and(e, v128.and(i32x4.lt_s(lane, i32x4.splat(rest)), f32x4.gt(e, floor)));
    v128.store(sp, e);
    sum = f32x4.add(sum, e);
  }
  const inv = f32x4.splat(<f32>1 / sum1(sum));
  for (i = 0; i < n; i += 4) {
    const sp = p + (<usize>i << 2);
    v128.store(sp, f32x4.mul(v128.load(sp), inv));
  }
}

/** oa/ob = Σ_j pa[j]·V[j], Σ_j pb[j]·V[j] over values 0…n-1 (rows of D floats), 8 floats at a time. */
// @ts-ignore: decorator
@inline
function weighValuesPair(vp: usize, n: i32, D: i32, pa: usize, pb: usize, oa: usize, ob: usize): void {
  const bytes = <usize>(D << 2);
  let d = 0;
  for (; d + 8 <= D; d += 8) {
    const o = <usize>d << 2;
    let a0 = f32x4.splat(0);
    let a1 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let b1 = f32x4.splat(0);
    let v = vp + o;
    for (let j = 0; j < n; j++) {
      const wa = v128.load32_splat(pa + (<usize>j << 2));
      const wb = v128.load32_splat(pb + (<usize>j << 2));
      const v0 = v128.load(v);
      const v1 = v128.load(v, 16);
      a0 = f32x4.add(a0, f32x4.mul(wa, v0));
      a1 = f32x4.add(a1, f32x4.mul(wa, v1));
      b0 = f32x4.add(b0, f32x4.mul(wb, v0));
      b1 = f32x4.add(b1, f32x4.mul(wb, v1));
      v += bytes;
    }
    v128.store(oa + o, a0);
    v128.store(oa + o, a1, 16);
    v128.store(ob + o, b0);
    v128.store(ob + o, b1, 16);
  }
  if (d < D) {
    // D ≡ 4 (mod 8): the last four floats.
    const o = <usize>d << 2;
    let a0 = f32x4.splat(0);
    let b0 = f32x4.splat(0);
    let v = vp + o;
    for (let j = 0; j < n; j++) {
      const v0 = v128.load(v);
      a0 = f32x4.add(a0, f32x4.mul(v128.load32_splat(pa + (<usize>j << 2)), v0));
      b0 = f32x4.add(b0, f32x4.mul(v128.load32_splat(pb + (<usize>j << 2)), v0));
      v += bytes;
    }
    v128.store(oa + o, a0);
    v128.store(ob + o, b0);
  }
}

/** Lane i of the result = the sum of the lanes of the i-th argument. */
// @ts-ignore: decorator
@inline
function sum4(p0: v128, p1: v128, p2: v128, p3: v128): v128 {
  const u01 = f32x4.add(v128.shuffle<f32>(p0, p1, 0, 4, 1, 5), v128.shuffle<f32>(p0, p1, 2, 6, 3, 7));
  const u23 = f32x4.add(v128.shuffle<f32>(p2, p3, 0, 4, 1, 5), v128.shuffle<f32>(p2, p3, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(u01, u23, 0, 1, 4, 5), v128.shuffle<f32>(u01, u23, 2, 3, 6, 7));
}

// @ts-ignore: decorator
@inline
function sum1(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 2) + (f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 3));
}

// @ts-ignore: decorator
@inline
function max4(v: v128): f32 {
  return max(max(f32x4.extract_lane(v, 0), f32x4.extract_lane(v, 1)), max(f32x4.extract_lane(v, 2), f32x4.extract_lane(v, 3)));
}

// ---- exp ----------------------------------------------------------------------------------------

/**
 * e^x on four lanes (Cephes expf: x = n·ln2 + r, |r| ≤ ln2/2, a degree-6 polynomial in r, then
 * scaled by 2^n through the exponent bits); within 2 ulp over the clamped range.
 */
// @ts-ignore: decorator
@inline
function exp4(x: v128): v128 {
  // Clamped to [-80, 80]: e^-80 is still a normal float (subnormals are slow, see siluMul).
  const cx = f32x4.min(f32x4.max(x, f32x4.splat(-80.0)), f32x4.splat(80.0));
  // n = round(x·log2 e) by adding 1.5·2^23: n then sits in the low mantissa bits of j.
  const magic = f32x4.splat(12582912.0);
  const j = f32x4.add(f32x4.mul(cx, f32x4.splat(1.44269504088896341)), magic);
  const n = f32x4.sub(j, magic);
  let r = f32x4.sub(cx, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.9875691500e-4);
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.3981999507e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(8.3334519073e-3));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(4.1665795894e-2));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(1.6666665459e-1));
  p = f32x4.add(f32x4.mul(p, r), f32x4.splat(5.0000001201e-1));
  const y = f32x4.add(f32x4.add(f32x4.mul(f32x4.mul(p, r), r), r), f32x4.splat(1));
  // 2^n: (n + 127) << 23, n taken from j's bits (j's integer part is 0x4B400000 + n).
  const bits = i32x4.shl(i32x4.sub(j, i32x4.splat(0x4b400000 - 127)), 23);
  return f32x4.mul(y, bits);
}
