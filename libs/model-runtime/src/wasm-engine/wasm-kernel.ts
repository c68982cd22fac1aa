import { readFileSync } from 'node:fs';
import { join } from 'node:path';

// The WebAssembly API is a global of every Node.js, but not in this project's type libraries
// (ES2023, @types/node 20): the little of it used here.
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
};

/** The kernels of `assembly/llama-kernel.ts` as the module exports them (pointers are byte offsets). */
export interface LlamaKernel {
  memory: WasmMemory;
  matmul(
    a: number,
    lda: number,
    w: number,
    c: number,
    ldc: number,
    T: number,
    K: number,
    N: number,
    accumulate: boolean,
  ): void;
  rmsnorm(x: number, g: number, out: number, T: number, H: number, eps: number): void;
  embed(tokens: number, T: number, table: number, x: number, H: number): void;
  gatherRows(src: number, rows: number, n: number, dst: number, H: number): void;
  siluMul(gu: number, T: number, I: number, out: number): void;
  rope(
    x: number,
    ld: number,
    offset: number,
    heads: number,
    D: number,
    T: number,
    pos: number,
    cos: number,
    sin: number,
  ): void;
  storeKv(
    x: number,
    ld: number,
    kOffset: number,
    vOffset: number,
    T: number,
    slots: number,
    pos: number,
    kCache: number,
    vCache: number,
    kvHeads: number,
    cap: number,
    D: number,
  ): void;
  attention(
    x: number,
    ld: number,
    T: number,
    slots: number,
    pos: number,
    kCache: number,
    vCache: number,
    heads: number,
    kvHeads: number,
    cap: number,
    D: number,
    scale: number,
    out: number,
    scores: number,
  ): void;
}

/** Where `npm run build` writes the compiled kernels (next to this file's compiled JavaScript). */
export const KERNEL_PATH = join(__dirname, '..', 'wasm', 'llama-kernel.wasm');

let compiled: object | null = null;

/** A fresh instance of the kernels (each engine owns its memory); the module compiles once per thread. */
export function instantiateKernel(): LlamaKernel {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(KERNEL_PATH);
    } catch (err) {
      throw new Error(`the WASM engine's kernels are missing (${KERNEL_PATH}): run npm run build`, {
        cause: err,
      });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  const instance = new WebAssembly.Instance(compiled, { env: { abort: kernelAbort } });
  return instance.exports as unknown as LlamaKernel;
}

function kernelAbort(): never {
  throw new Error('WASM kernel aborted');
}
