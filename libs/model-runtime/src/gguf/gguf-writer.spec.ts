import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { gguf } from '@huggingface/gguf';
import { permuteForRotateHalf } from '../llama2c/llama2c-reader';
import { float16Value } from '../session/float16';
import { dequantizeQ8_0, quantizeQ8_0 } from './gguf-quant';
import { GGUF_ALIGNMENT, writeGguf, type GgufValue } from './gguf-writer';
import { permuteToInterleaved } from './llama-gguf';

const ramp = (n: number, scale = 1): Float32Array =>
  Float32Array.from({ length: n }, (_, i) => (i - n / 2) * scale);

describe('GGUF writer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hp-gguf-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('writes a header, metadata and tensor table that an independent reader reads back', async () => {
    const meta = new Map<string, GgufValue>([
      ['general.architecture', { type: 'string', value: 'llama' }],
      ['llama.block_count', { type: 'uint32', value: 5 }],
      ['llama.rope.freq_base', { type: 'float32', value: 10000 }],
      ['tokenizer.ggml.add_bos_token', { type: 'bool', value: true }],
      ['tokenizer.ggml.tokens', { type: 'string[]', value: ['<unk>', '<s>', '▁once', 'é☃'] }],
      ['tokenizer.ggml.scores', { type: 'float32[]', value: Float32Array.of(0, 0, -1.5, -2) }],
      ['tokenizer.ggml.token_type', { type: 'int32[]', value: Int32Array.of(2, 3, 1, 1) }],
    ]);
    const a = ramp(64 * 3, 0.01);
    const b = ramp(7, 0.5);
    const c = ramp(32 * 2, 0.125);
    const file = writeGguf(meta, [
      { name: 'token_embd.weight', shape: [64, 3], data: a, type: 'F32' },
      { name: 'blk.0.attn_norm.weight', shape: [7], data: b, type: 'F16' },
      { name: 'blk.0.ffn_up.weight', shape: [32, 2], data: c, type: 'Q8_0' },
    ]);
    const path = join(dir, 'a.gguf');
    writeFileSync(path, file);
    const parsed = await gguf(path, { allowLocalFile: true });
    const m = parsed.metadata as unknown as Record<string, unknown>;
    assert.equal(m['version'], 3);
    assert.equal(m['tensor_count'], 3n);
    assert.equal(m['kv_count'], 7n);
    assert.equal(m['general.architecture'], 'llama');
    assert.equal(m['llama.block_count'], 5);
    assert.equal(m['llama.rope.freq_base'], 10000);
    assert.equal(m['tokenizer.ggml.add_bos_token'], true);
    assert.deepEqual(m['tokenizer.ggml.tokens'], ['<unk>', '<s>', '▁once', 'é☃']);
    assert.deepEqual(m['tokenizer.ggml.scores'], [0, 0, -1.5, -2]);
    assert.deepEqual(m['tokenizer.ggml.token_type'], [2, 3, 1, 1]);
    assert.deepEqual(
      parsed.tensorInfos.map((t) => [t.name, t.shape.map(Number), t.dtype, Number(t.offset)]),
      [
        ['token_embd.weight', [64, 3], 0, 0],
        ['blk.0.attn_norm.weight', [7], 1, 768],
        ['blk.0.ffn_up.weight', [32, 2], 8, 800],
      ],
    );
    const base = Number(parsed.tensorDataOffset);
    assert.equal(base % GGUF_ALIGNMENT, 0);
    const bytes = readFileSync(path);
    const at = (off: number, n: number): Buffer => bytes.subarray(base + off, base + off + n);
    assert.deepEqual(new Float32Array(new Uint8Array(at(0, a.byteLength)).buffer), a);
    const half = at(768, 14);
    assert.deepEqual(
      Array.from({ length: 7 }, (_, i) => float16Value(half.readUInt16LE(i * 2))),
      Array.from(b),
    );
    assert.deepEqual(dequantizeQ8_0(new Uint8Array(at(800, 68))), dequantizeQ8_0(quantizeQ8_0(c)));
    assert.equal(bytes.length, base + 800 + 68 + (GGUF_ALIGNMENT - ((800 + 68) % GGUF_ALIGNMENT)));
  });

  it('quantizes Q8_0 within half a step of each block scale (plus the float16 rounding of the scale)', () => {
    const x = Float32Array.from({ length: 96 }, (_, i) => Math.sin(i) * (i < 32 ? 0.01 : 3));
    const y = dequantizeQ8_0(quantizeQ8_0(x));
    for (let blk = 0; blk < 3; blk++) {
      const part = x.subarray(blk * 32, blk * 32 + 32);
      const step = Math.max(...Array.from(part, Math.abs)) / 127;
      for (let j = 0; j < 32; j++) {
        const i = blk * 32 + j;
        const tolerance = step * 0.5 + Math.abs(x[i] as number) * 2 ** -10 + 1e-7;
        assert.ok(Math.abs((y[i] as number) - (x[i] as number)) <= tolerance, `value ${i}`);
      }
    }
    assert.throws(() => quantizeQ8_0(new Float32Array(33)), /multiple of 32/);
  });

  it('un-permutes rotate-half q/k rows back to the interleaved order', () => {
    const heads = 3;
    const head = 8;
    const cols = 5;
    const w = ramp(heads * head * cols);
    assert.deepEqual(permuteToInterleaved(permuteForRotateHalf(w, heads, head, cols), heads, head, cols), w);
    // Row m of a rotate-half head is the first of pair m in the interleaved layout.
    const one = permuteToInterleaved(
      ramp(head * 1, 1).map((_, i) => i),
      1,
      head,
      1,
    );
    assert.deepEqual(Array.from(one), [0, 4, 1, 5, 2, 6, 3, 7]);
  });
});
