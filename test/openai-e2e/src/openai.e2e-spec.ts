import { strict as assert } from 'node:assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { waitFor } from '@hotpath/e2e-harness';
import { HotpathClient, SseReader, parseSse, type SseEvent } from '@hotpath/job-client';
import { TestCluster } from './harness/cluster';
import { WebhookReceiver, verifySignature } from './harness/webhook-receiver';

const GEN = 'sim-gen';
const SLOW = 'sim-slow';
const EMBED = 'sim-embed';
const TEMPLATED = 'sim-templated';
const TINY = 'tiny-onnx';
const KEY = 'key-acme';
const OTHER_KEY = 'key-beta';

const SECRET = 'whk-secret-0123456789';
/** How long a test waits for a condition (a delivery, a status) before it fails. */
const WAIT_MS = 10_000;

const cluster = new TestCluster();
const receiver = new WebhookReceiver();
let openai: OpenAI;

const auth = (key = KEY): Record<string, string> => ({ authorization: `Bearer ${key}` });

async function postJson(path: string, body: unknown, key = KEY): Promise<Response> {
  return fetch(`${cluster.apiUrl}${path}`, {
    method: 'POST',
    headers: { ...auth(key), 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
}

/** The job-API client, as the tenant of `key`. */
const jobs = (key = KEY): HotpathClient => new HotpathClient(cluster.apiUrl, key);

async function getJson(path: string, key = KEY): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await jobs(key).request('GET', path);
  return { status: res.status, body: res.json as Record<string, unknown> };
}

before(async () => {
  await receiver.start();
  const templated = join(cluster.dir, 'templated');
  mkdirSync(templated, { recursive: true });
  // Content words only: the sim counts whitespace-separated words as prompt tokens.
  writeFileSync(
    join(templated, 'tokenizer_config.json'),
    JSON.stringify({
      bos_token: '<s>',
      eos_token: '</s>',
      chat_template: '{{ bos_token }}{% for m in messages %}{{ m.content }} {% endfor %}',
    }),
  );
  await cluster.start({
    config: {
      models: [
        {
          name: GEN,
          backend: 'sim',
          tasks: ['generate'],
          default_max_tokens: 8,
          sim: { base_ms: 5, per_item_ms: 0 },
        },
        // Replicas: a sim replica stays busy for its whole window, even for a cancelled job.
        {
          name: SLOW,
          backend: 'sim',
          tasks: ['generate'],
          replicas: 4,
          // 150 ms per token: a 10-token generation takes 1.5 s.
          sim: { base_ms: 150, per_item_ms: 0 },
        },
        { name: EMBED, backend: 'sim', tasks: ['embed'], sim: { embedding_dim: 6 } },
        { name: TEMPLATED, backend: 'sim', tasks: ['generate'], path: templated, sim: { base_ms: 10 } },
        {
          name: TINY,
          backend: 'onnx',
          tasks: ['generate'],
          path: 'models/tiny',
          forge: { arch: 'llama', preset: 'tiny', seed: 1 },
          default_max_tokens: 8,
        },
      ],
      queue: { attempts: 2, backoff_ms: 100, shutdown_grace_ms: 1000 },
    },
    apiEnv: {
      HOTPATH_API_KEYS: `acme:${KEY},beta:${OTHER_KEY}`,
      HOTPATH_ADMIN_KEYS: 'ops:admin-key',
      HOTPATH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
    },
    workerEnv: {
      HOTPATH_WEBHOOK_ATTEMPTS: '3',
      HOTPATH_WEBHOOK_BACKOFF_MS: '100',
      HOTPATH_WEBHOOK_TIMEOUT_MS: '2000',
    },
  });
  openai = new OpenAI({ apiKey: KEY, baseURL: `${cluster.apiUrl}/v1`, maxRetries: 0, timeout: 20_000 });
});

after(async () => {
  await receiver.stop();
  await cluster.stop();
});

/** Runs `fn`, printing the cluster's logs when it fails. */
async function withLogs(fn: () => Promise<void>): Promise<void> {
  try {
    await fn();
  } catch (err) {
    cluster.printLogs();
    throw err;
  }
}

describe('OpenAI-compatible API with the official openai client', { timeout: 60_000 }, () => {
  it('lists and retrieves models', () =>
    withLogs(async () => {
      const page = await openai.models.list();
      assert.deepEqual(
        page.data.map((m) => m.id),
        [GEN, SLOW, EMBED, TEMPLATED, TINY],
      );
      assert.equal(page.data[0]?.object, 'model');
      assert.equal((await openai.models.retrieve(EMBED)).id, EMBED);
    }));

  it('answers a completion with usage, finish_reason, ids and the model digest', () =>
    withLogs(async () => {
      const c = await openai.completions.create({ model: GEN, prompt: 'hello world', max_tokens: 5 });
      assert.match(c.id, /^cmpl-[0-9a-f-]{36}$/);
      assert.equal(c.object, 'text_completion');
      assert.equal(c.model, GEN);
      assert.ok(Math.abs(c.created - Date.now() / 1000) < 60);
      assert.equal(c.system_fingerprint, 'sim-v1-d8');
      assert.equal(c.choices.length, 1);
      assert.equal(c.choices[0]?.finish_reason, 'length');
      assert.ok((c.choices[0]?.text ?? '').length > 0);
      assert.deepEqual(c.usage, {
        prompt_tokens: 2,
        completion_tokens: 5,
        total_tokens: 7,
        prompt_tokens_details: { cached_tokens: 0 },
      });
      // The job behind it is an ordinary job of the tenant.
      const job = await getJson(`/v1/jobs/${c.id.slice('cmpl-'.length)}`);
      assert.equal(job.status, 200);
      assert.equal((job.body['result'] as { text: string }).text, c.choices[0]?.text);
    }));

  it('answers a chat completion rendered with the default template', () =>
    withLogs(async () => {
      const c = await openai.chat.completions.create({
        model: GEN,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: [{ type: 'text', text: 'say hi' }] },
        ],
        max_completion_tokens: 4,
        seed: 7,
        stop: ['zzzz'],
        user: 'end-user-1',
      });
      assert.match(c.id, /^chatcmpl-/);
      assert.equal(c.object, 'chat.completion');
      assert.equal(c.choices[0]?.message.role, 'assistant');
      assert.ok((c.choices[0]?.message.content ?? '').length > 0);
      assert.equal(c.choices[0]?.finish_reason, 'length');
      // "<|system|>\nbe brief\n<|user|>\nsay hi\n<|assistant|>\n" is 7 words.
      assert.equal(c.usage?.prompt_tokens, 7);
      assert.equal(c.usage?.completion_tokens, 4);
    }));

  it("renders chat prompts with the model's own chat_template", () =>
    withLogs(async () => {
      const c = await openai.chat.completions.create({
        model: TEMPLATED,
        messages: [{ role: 'user', content: 'one two three' }],
        max_tokens: 2,
      });
      // The template renders "<s>one two three " and the leading BOS is dropped: 3 words.
      assert.equal(c.usage?.prompt_tokens, 3);
    }));

  it('streams a completion and a chat completion, with a final usage chunk', () =>
    withLogs(async () => {
      const expected = await openai.completions.create({
        model: GEN,
        prompt: 'stream me',
        max_tokens: 6,
        temperature: 0,
      });
      const stream = await openai.completions.create({
        model: GEN,
        prompt: 'stream me',
        max_tokens: 6,
        temperature: 0,
        stream: true,
      });
      let text = '';
      let finish: string | null = null;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        assert.equal(chunk.object, 'text_completion');
        text += chunk.choices[0]?.text ?? '';
        finish = chunk.choices[0]?.finish_reason ?? finish;
      }
      assert.equal(text, expected.choices[0]?.text);
      assert.equal(finish, 'length');
      assert.ok(chunks >= 2);

      const chat = await openai.chat.completions.create({
        model: SLOW,
        messages: [{ role: 'user', content: 'tell a story' }],
        max_tokens: 10,
        stream: true,
        stream_options: { include_usage: true },
      });
      let content = '';
      let role: string | undefined;
      const arrivals: number[] = [];
      let usage: OpenAI.CompletionUsage | null | undefined;
      for await (const chunk of chat) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        assert.match(chunk.id, /^chatcmpl-/);
        role ??= chunk.choices[0]?.delta.role;
        const piece = chunk.choices[0]?.delta.content ?? '';
        if (piece !== '') arrivals.push(Date.now());
        content += piece;
        if (chunk.usage) usage = chunk.usage;
      }
      assert.equal(role, 'assistant');
      assert.ok(content.length > 0);
      assert.deepEqual(usage, {
        prompt_tokens: 5,
        completion_tokens: 10,
        total_tokens: 15,
        prompt_tokens_details: { cached_tokens: 0 },
      });
      // Tokens arrive as they are produced over the 1.5 s generation, not all at the end.
      assert.ok((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0) > 500, `arrivals ${JSON.stringify(arrivals)}`);
    }));

  it('runs a forged onnx model, streamed and not, with the same seeded text', () =>
    withLogs(async () => {
      const req = {
        model: TINY,
        messages: [{ role: 'user' as const, content: 'once upon a time' }],
        max_tokens: 8,
        seed: 3,
      };
      const plain = await openai.chat.completions.create(req);
      assert.ok((plain.usage?.completion_tokens ?? 0) >= 1);
      assert.match(plain.system_fingerprint ?? '', /^sha256:/);
      let streamed = '';
      for await (const chunk of await openai.chat.completions.create({ ...req, stream: true })) {
        streamed += chunk.choices[0]?.delta.content ?? '';
      }
      assert.equal(streamed, plain.choices[0]?.message.content);
    }));

  it('embeds in float and base64 (little-endian float32)', () =>
    withLogs(async () => {
      const floats = await openai.embeddings.create({
        model: EMBED,
        input: ['alpha beta', 'gamma'],
        encoding_format: 'float',
      });
      assert.equal(floats.object, 'list');
      assert.equal(floats.data.length, 2);
      assert.equal(floats.data[1]?.index, 1);
      const v0 = floats.data[0]?.embedding ?? [];
      assert.equal(v0.length, 6);
      assert.deepEqual(floats.usage, { prompt_tokens: 3, total_tokens: 3 });

      const raw = (await (
        await postJson('/v1/embeddings', { model: EMBED, input: 'alpha beta', encoding_format: 'base64' })
      ).json()) as {
        data: { embedding: string }[];
      };
      const bytes = Buffer.from(raw.data[0]?.embedding ?? '', 'base64');
      const decoded = Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
      assert.deepEqual(
        decoded,
        v0.map((x) => Math.fround(x)),
      );

      // The client asks for base64 by default and decodes it itself.
      const viaDefault = await openai.embeddings.create({ model: EMBED, input: 'alpha beta' });
      assert.deepEqual(viaDefault.data[0]?.embedding, decoded);
    }));

  it('refuses unsupported parameters and unknown models in OpenAI error shape', () =>
    withLogs(async () => {
      await assert.rejects(
        openai.completions.create({ model: GEN, prompt: 'x', n: 2 }),
        (err: unknown) =>
          err instanceof OpenAI.BadRequestError &&
          err.param === 'n' &&
          err.code === 'unsupported_parameter' &&
          err.type === 'invalid_request_error',
      );
      await assert.rejects(
        openai.chat.completions.create({
          model: 'no-such-model',
          messages: [{ role: 'user', content: 'x' }],
        }),
        (err: unknown) =>
          err instanceof OpenAI.NotFoundError && err.code === 'model_not_found' && err.param === 'model',
      );
      await assert.rejects(
        openai.chat.completions.create({
          model: GEN,
          messages: [{ role: 'user', content: 'x' }],
          logprobs: true,
        }),
        (err: unknown) => err instanceof OpenAI.BadRequestError && err.param === 'logprobs',
      );
      const unknown = await postJson('/v1/completions', { model: GEN, prompt: 'x', frobnicate: 1 });
      assert.equal(unknown.status, 400);
      assert.deepEqual(await unknown.json(), {
        error: {
          message: 'Unrecognized request argument supplied: frobnicate',
          type: 'invalid_request_error',
          param: 'frobnicate',
          code: 'unknown_parameter',
        },
      });
      // Malformed JSON fails in the body parser, before any route runs: still OpenAI's shape here.
      const malformed = await fetch(`${cluster.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: '{"model":',
        signal: AbortSignal.timeout(15_000),
      });
      assert.equal(malformed.status, 400);
      const malformedBody = (await malformed.json()) as { error: { type?: string } };
      assert.equal(malformedBody.error.type, 'invalid_request_error');
      const bad = new OpenAI({ apiKey: 'wrong', baseURL: `${cluster.apiUrl}/v1`, maxRetries: 0 });
      await assert.rejects(bad.models.list(), (err: unknown) => err instanceof OpenAI.AuthenticationError);
    }));
});

describe('Server-Sent Events on the wire', { timeout: 60_000 }, () => {
  it('frames OpenAI streams as data-only events ending with [DONE]', () =>
    withLogs(async () => {
      const res = await postJson('/v1/completions', {
        model: GEN,
        prompt: 'frames',
        max_tokens: 3,
        stream: true,
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
      assert.ok(res.headers.get('x-request-id'));
      const text = await res.text();
      assert.ok(text.endsWith('data: [DONE]\n\n'), JSON.stringify(text.slice(-40)));
      const events = parseSse(text);
      for (const e of events) assert.match(e.raw, /^data: .+$/);
      const json = events
        .slice(0, -1)
        .map((e) => JSON.parse(e.data) as { object: string; choices: { finish_reason: string | null }[] });
      assert.ok(json.every((j) => j.object === 'text_completion'));
      assert.equal(json.at(-1)?.choices[0]?.finish_reason, 'length');
    }));

  it('streams native job events to a late client: earlier tokens first, then live ones, then done', () =>
    withLogs(async () => {
      // `stream: true`: the client says it will follow, so every token is in the stream from the
      // first one (a job nobody follows writes its tokens only once a follower connects).
      const submit = await postJson('/v1/jobs', {
        model: SLOW,
        task: 'generate',
        input: { prompt: 'late client' },
        params: { max_tokens: 12 },
        stream: true,
      });
      const job = (await submit.json()) as { id: string };
      // Let the job produce a few tokens before connecting.
      await waitFor(async () => (await getJson(`/v1/jobs/${job.id}`)).body['status'] === 'running', {
        what: 'job running',
        timeoutMs: WAIT_MS,
      });
      await new Promise((r) => setTimeout(r, 500));
      const connectedAt = Date.now();
      const res = await jobs().events(job.id);
      assert.equal(res.status, 200);
      assert.ok(res.reader);
      const reader = res.reader;
      const all: SseEvent[] = [];
      let early = 0;
      for (let batch = await reader.next(); batch; batch = await reader.next()) {
        // The sim makes one token per 125 ms: tokens arriving within 100 ms were produced before.
        if (Date.now() - connectedAt < 100) early += batch.filter((e) => e.event === 'token').length;
        all.push(...batch);
      }
      const tokens = all
        .filter((e) => e.event === 'token')
        .map((e) => JSON.parse(e.data) as { index: number; token_id: number });
      assert.deepEqual(
        tokens.map((t) => t.index),
        Array.from({ length: 12 }, (_, i) => i),
      );
      assert.ok(early >= 2, `the late client got earlier tokens at once (${early})`);
      for (const e of all.filter((x) => x.event === 'token')) assert.match(e.id ?? '', /^\d+-\d+$/);
      const done = all.at(-1);
      assert.equal(done?.event, 'done');
      const view = JSON.parse(done?.data ?? '{}') as { status: string; result: { tokens: number[] } };
      assert.equal(view.status, 'completed');
      assert.deepEqual(
        view.result.tokens,
        tokens.map((t) => t.token_id),
      );

      // Connecting after the end replays the stream, then done.
      const again = parseSse((await jobs().request('GET', `/v1/jobs/${job.id}/events`)).text);
      assert.equal(again.filter((e) => e.event === 'token').length, 12);
      assert.equal(again.at(-1)?.event, 'done');
      // Resuming after the 10th token sends only the last two.
      const tenth = all.filter((e) => e.event === 'token')[9]?.id ?? '';
      const resumed = parseSse(
        (await jobs().request('GET', `/v1/jobs/${job.id}/events`, { headers: { 'last-event-id': tenth } }))
          .text,
      );
      assert.deepEqual(
        resumed
          .filter((e) => e.event === 'token')
          .map((e) => (JSON.parse(e.data) as { index: number }).index),
        [10, 11],
      );
      // Another tenant's client sees nothing.
      assert.equal((await jobs(OTHER_KEY).events(job.id)).status, 404);
    }));

  it('submits and follows in one request with Accept text/event-stream', () =>
    withLogs(async () => {
      const body = {
        model: GEN,
        task: 'generate',
        input: { prompt: 'one request stream' },
        params: { max_tokens: 6, seed: 7 },
      };
      const res = await jobs().submitStreaming(body, { idempotencyKey: 'one-request-stream' });
      assert.equal(res.status, 200);
      assert.ok(res.reader, res.text);
      const id = res.headers.get('x-job-id') ?? '';
      assert.match(id, /\S/);
      assert.equal(res.headers.get('location'), `/v1/jobs/${id}`);
      assert.ok(res.headers.get('x-cache'));
      const events = await res.reader.rest();
      const tokens = events
        .filter((e) => e.event === 'token')
        .map((e) => JSON.parse(e.data) as { index: number });
      assert.deepEqual(
        tokens.map((t) => t.index),
        [0, 1, 2, 3, 4, 5],
      );
      assert.equal(events.at(-1)?.event, 'done');
      const view = JSON.parse(events.at(-1)?.data ?? '{}') as { id: string; status: string };
      assert.equal(view.id, id);
      assert.equal((await getJson(`/v1/jobs/${id}`)).body['status'], 'completed');

      // The same Idempotency-Key replays the same job, streamed again from its start.
      const replay = await jobs().submitStreaming(body, { idempotencyKey: 'one-request-stream' });
      assert.equal(replay.headers.get('x-job-id'), id);
      assert.equal(replay.headers.get('idempotent-replayed'), 'true');
      const again = (await replay.reader?.rest()) ?? [];
      assert.equal(again.filter((e) => e.event === 'token').length, 6);
      assert.equal(again.at(-1)?.event, 'done');

      // A refusal comes before any stream: the usual JSON error.
      const bad = await jobs().submitStreaming({ ...body, params: { max_tokens: -1 } });
      assert.equal(bad.status, 400);
      assert.equal(bad.reader, undefined);
      assert.equal((JSON.parse(bad.text) as { error: { code: string } }).error.code, 'invalid_request');
    }));

  it('ends the native stream with an error event when the job is cancelled', () =>
    withLogs(async () => {
      const job = (await (
        await postJson('/v1/jobs', {
          model: SLOW,
          task: 'generate',
          input: { prompt: 'cancel me' },
          params: { max_tokens: 20 },
        })
      ).json()) as { id: string };
      const res = await jobs().events(job.id);
      assert.ok(res.reader);
      const reader = res.reader;
      await waitFor(async () => (await getJson(`/v1/jobs/${job.id}`)).body['status'] === 'running', {
        what: 'job running',
        timeoutMs: WAIT_MS,
      });
      const del = await jobs().cancel(job.id);
      assert.equal(del.status, 200);
      const events = await reader.rest();
      const last = events.at(-1);
      assert.equal(last?.event, 'error');
      const body = JSON.parse(last?.data ?? '{}') as { error: { code: string }; job: { status: string } };
      assert.equal(body.error.code, 'cancelled');
      assert.equal(body.job.status, 'cancelled');
    }));

  it('cancels the job of an OpenAI stream whose client disconnects', () =>
    withLogs(async () => {
      const ac = new AbortController();
      const res = await fetch(`${cluster.apiUrl}/v1/chat/completions`, {
        method: 'POST',
        headers: { ...auth(), 'content-type': 'application/json' },
        body: JSON.stringify({
          model: SLOW,
          messages: [{ role: 'user', content: 'long answer' }],
          max_tokens: 40,
          stream: true,
        }),
        signal: ac.signal,
      });
      const jobId = res.headers.get('x-hotpath-job-id') ?? '';
      assert.ok(jobId);
      assert.ok(res.body);
      const reader = new SseReader(res.body);
      await reader.next();
      const abortedAt = Date.now();
      ac.abort();
      await reader.cancel();
      await waitFor(async () => (await getJson(`/v1/jobs/${jobId}`)).body['status'] === 'cancelled', {
        what: 'job cancelled',
        timeoutMs: 3000,
      });
      // The generation would take 1.5 s; the disconnect stops it within about a token.
      const cancelMs = Date.now() - abortedAt;
      assert.ok(cancelMs < 700, `cancelled ${cancelMs} ms after the disconnect`);
    }));
});

describe('signed webhooks', { timeout: 60_000 }, () => {
  const submit = (path: string, prompt: string, extra: Record<string, unknown> = {}): Promise<Response> =>
    postJson('/v1/jobs', {
      model: GEN,
      task: 'generate',
      input: { prompt },
      params: { max_tokens: 3 },
      webhook: { url: `${receiver.url}${path}`, secret: SECRET },
      ...extra,
    });

  it('posts the finished job view, signed, on completion', () =>
    withLogs(async () => {
      const job = (await (await submit('/ok', 'webhook ok')).json()) as { id: string };
      await waitFor(() => receiver.on('/ok').length === 1, { what: 'delivery', timeoutMs: WAIT_MS });
      const hook = receiver.on('/ok')[0];
      assert.ok(hook);
      assert.equal(hook.id, `msg_${job.id}`);
      assert.ok(verifySignature(SECRET, hook), 'signature verifies');
      assert.ok(!verifySignature('another-secret-123', hook), 'a wrong secret does not verify');
      const view = JSON.parse(hook.body) as { id: string; status: string; result: { text: string } };
      assert.equal(view.id, job.id);
      assert.equal(view.status, 'completed');
      assert.deepEqual(view, (await getJson(`/v1/jobs/${job.id}`)).body);
    }));

  it('notifies a cache hit too (a job finished on arrival)', () =>
    withLogs(async () => {
      const body = { params: { max_tokens: 3, temperature: 0 } };
      const first = (await (await submit('/cached', 'cache me', body)).json()) as { id: string };
      await waitFor(() => receiver.on('/cached').length === 1, {
        what: 'first delivery',
        timeoutMs: WAIT_MS,
      });
      const second = await submit('/cached', 'cache me', body);
      assert.equal(second.status, 200);
      assert.equal(second.headers.get('x-cache'), 'hit');
      const hit = (await second.json()) as { id: string };
      await waitFor(() => receiver.on('/cached').length === 2, {
        what: 'second delivery',
        timeoutMs: WAIT_MS,
      });
      assert.deepEqual(
        receiver.on('/cached').map((h) => h.id),
        [`msg_${first.id}`, `msg_${hit.id}`],
      );
      assert.ok(receiver.on('/cached').every((h) => verifySignature(SECRET, h)));
    }));

  it('retries failed deliveries with backoff until one succeeds', () =>
    withLogs(async () => {
      receiver.script('/flaky', (n) => (n <= 2 ? 500 : 204));
      await submit('/flaky', 'webhook flaky');
      await waitFor(() => receiver.on('/flaky').length === 3, { what: 'three attempts', timeoutMs: WAIT_MS });
      const hooks = receiver.on('/flaky');
      assert.deepEqual(
        hooks.map((h) => h.answered),
        [500, 500, 204],
      );
      assert.equal(new Set(hooks.map((h) => h.id)).size, 1, 'one webhook-id across retries');
      assert.ok(hooks.every((h) => verifySignature(SECRET, h)));
      const gaps = [(hooks[1]?.at ?? 0) - (hooks[0]?.at ?? 0), (hooks[2]?.at ?? 0) - (hooks[1]?.at ?? 0)];
      assert.ok((gaps[0] ?? 0) >= 80 && (gaps[1] ?? 0) >= 160, `exponential gaps ${JSON.stringify(gaps)}`);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(receiver.on('/flaky').length, 3, 'no delivery after a success');
    }));

  it('dead-letters after the last attempt; an operator lists and replays it', () =>
    withLogs(async () => {
      let down = true;
      receiver.script('/dead', () => (down ? 503 : 200));
      const job = (await (await submit('/dead', 'webhook dead')).json()) as { id: string };
      const admin = { authorization: 'Bearer admin-key' };
      let entry:
        { id: string; job_id: string; attempts: number; last_status: number; url: string } | undefined;
      await waitFor(
        async () => {
          const res = await fetch(`${cluster.apiUrl}/v1/admin/webhooks/dead-letters`, { headers: admin });
          const list = (await res.json()) as { data: (typeof entry & object)[] };
          entry = list.data.find((d) => d.job_id === job.id);
          return entry !== undefined;
        },
        { what: 'dead letter', timeoutMs: WAIT_MS },
      );
      assert.ok(entry);
      assert.equal(receiver.on('/dead').length, 3);
      assert.equal(entry.attempts, 3);
      assert.equal(entry.last_status, 503);
      assert.ok(!JSON.stringify(entry).includes(SECRET), 'the secret is never listed');
      // Tenant keys do not open operator routes.
      const asTenant = await fetch(`${cluster.apiUrl}/v1/admin/webhooks/dead-letters`, { headers: auth() });
      assert.equal(asTenant.status, 401);

      down = false;
      const replay = await fetch(`${cluster.apiUrl}/v1/admin/webhooks/dead-letters/${entry.id}/replay`, {
        method: 'POST',
        headers: admin,
      });
      assert.equal(replay.status, 202);
      await waitFor(() => receiver.on('/dead').length === 4, {
        what: 'replayed delivery',
        timeoutMs: WAIT_MS,
      });
      const hooks = receiver.on('/dead');
      assert.equal(hooks[3]?.answered, 200);
      assert.equal(hooks[3]?.id, hooks[0]?.id);
      assert.equal(hooks[3]?.body, hooks[0]?.body);
      const replayed = hooks[3];
      assert.ok(replayed && verifySignature(SECRET, replayed));
      const after = await fetch(`${cluster.apiUrl}/v1/admin/webhooks/dead-letters/${entry.id}`, {
        headers: admin,
      });
      assert.equal(after.status, 404);
    }));

  it('refuses targets off the allow-list or with another scheme at submission', () =>
    withLogs(async () => {
      for (const url of ['http://example.com/hook', 'ftp://127.0.0.1/hook']) {
        const res = await postJson('/v1/jobs', {
          model: GEN,
          task: 'generate',
          input: { prompt: 'x' },
          webhook: { url, secret: SECRET },
        });
        assert.equal(res.status, 400, url);
        const body = (await res.json()) as { error: { param: string } };
        assert.equal(body.error.param, 'webhook.url');
      }
    }));
});
