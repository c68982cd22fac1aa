// Compiles the WASM engine's kernels (AssemblyScript) next to model-runtime's compiled TypeScript.
// Part of `npm run build`; skips the compile when the .wasm is newer than its source.
import { mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'libs/model-runtime/assembly/llama-kernel.ts');
const out = join(root, 'libs/model-runtime/dist/wasm/llama-kernel.wasm');

const mtime = (p) => {
  try {
    return statSync(p).mtimeMs;
  } catch {
    return -1;
  }
};
if (mtime(out) < Math.max(mtime(source), mtime(fileURLToPath(import.meta.url)))) {
  mkdirSync(dirname(out), { recursive: true });
  const asc = await import('assemblyscript/asc');
  const { error, stderr } = await asc.main([
    source,
    '--outFile',
    out,
    '-O3',
    '--noAssert',
    // 128-bit SIMD is on in every Node.js Hotpath supports; relaxed SIMD (fused multiply-add) is
    // not yet on by default in Node.js 20.
    '--enable',
    'simd',
    '--runtime',
    'stub',
  ]);
  if (error) {
    process.stderr.write(stderr.toString());
    process.stderr.write(`build-wasm: ${error.message}\n`);
    process.exit(1);
  }
}
