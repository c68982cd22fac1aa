import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { ModelConfigSchema, type QueuedEmbedJob, type QueuedGenerateJob } from '@hotpath/contracts';
import type { TokenEvent } from './inference-backend';
import { continuousPolicy, microBatchPolicy } from './batching-policy';
import { backendEmbedJob, backendGenerateJob } from '../testing/worker-test-kit';
import { SimBackend } from './sim.backend';
import { SIM_VOCAB_SIZE, countWords, planSimGeneration, simEmbedding, simLatencyMs } from './sim-model';

const model = (
  sim: { base_ms?: number; per_item_ms?: number; embedding_dim?: number } = {},
  extra: {
    replicas?: number;
    batching?: {
      enabled?: boolean;
      micro?: { max_batch_size?: number; max_queue_delay_ms?: number };
      continuous?: { max_running_sequences?: number };
    };
  } = {},
) =>
  ModelConfigSchema.parse({
    name: 'sim-test',
    backend: 'sim',
    tasks: ['generate', 'embed'],
    default_max_tokens: 12,
    sim,
    ...extra,
  });

const genJob = (prompt: string, params: QueuedGenerateJob['params'] = {}): QueuedGenerateJob =>
  backendGenerateJob('sim-test', prompt, params);
const embedJob = (texts: string[]): QueuedEmbedJob => backendEmbedJob('sim-test', texts);

const live = () => new AbortController().signal;

describe('sim latency model', () => {
  it('is base_ms + per_item_ms * batch_size per forward, plus prefill_per_token_ms per prompt token', () => {
    assert.equal(simLatencyMs({ base_ms: 10, per_item_ms: 2 }, 1), 12);
    assert.equal(simLatencyMs({ base_ms: 10, per_item_ms: 2 }, 8), 26);
    assert.equal(simLatencyMs({ base_ms: 0, per_item_ms: 0 }, 4), 0);
    assert.equal(simLatencyMs({ base_ms: 10, per_item_ms: 2, prefill_per_token_ms: 0.5 }, 2, 40), 34);
  });
});

describe('sim generation plan', () => {
  it('is deterministic in prompt and seed', () => {
    const a = planSimGeneration('hello world', 7, 20);
    assert.deepEqual(planSimGeneration('hello world', 7, 20), a);
    assert.notDeepEqual(planSimGeneration('hello world', 8, 20).tokens, a.tokens);
    assert.notDeepEqual(planSimGeneration('hello there', 7, 20).tokens, a.tokens);
  });

  it('emits max_tokens word-like tokens in the vocabulary', () => {
    const p = planSimGeneration('abc', undefined, 50);
    assert.equal(p.tokens.length, 50);
    assert.equal(p.finish_reason, 'length');
    assert.equal(p.text, p.tokens.map((t) => t.text).join(''));
    p.tokens.forEach((t, i) => {
      assert.equal(t.index, i);
      assert.ok(Number.isInteger(t.token_id) && t.token_id >= 0 && t.token_id < SIM_VOCAB_SIZE);
      assert.match(t.text, /^ ?[a-z]+$/);
    });
  });

  it('stops before a stop sequence and drops the token that completed it', () => {
    const full = planSimGeneration('stop me', 1, 40);
    const stop = full.text.slice(30, 34);
    const first = full.text.indexOf(stop);
    const p = planSimGeneration('stop me', 1, 40, [stop]);
    assert.equal(p.finish_reason, 'stop');
    assert.equal(p.text, full.text.slice(0, first));
    assert.ok(p.tokens.length < 40);
    assert.deepEqual(
      p.tokens.map((t) => t.token_id),
      full.tokens.slice(0, p.tokens.length).map((t) => t.token_id),
    );
  });

  it('counts words with a floor of one', () => {
    assert.equal(countWords('  one two\tthree\n'), 3);
    assert.equal(countWords(''), 1);
  });
});

describe('sim embeddings', () => {
  it('are deterministic unit vectors of the configured dimension', () => {
    const a = simEmbedding('some text', 16);
    assert.equal(a.length, 16);
    assert.deepEqual(simEmbedding('some text', 16), a);
    assert.notDeepEqual(simEmbedding('other text', 16), a);
    const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-9, `norm ${norm}`);
  });
});

describe('SimBackend', () => {
  it('generates model-default max_tokens, streaming each token, with usage', async () => {
    const b = new SimBackend(model());
    await b.start();
    const seen: TokenEvent[] = [];
    const out = await b.generate(genJob('the quick brown fox'), {
      signal: live(),
      onToken: (t) => seen.push(t),
    });
    assert.equal(out.result.tokens.length, 12);
    assert.equal(out.result.finish_reason, 'length');
    assert.deepEqual(
      seen.map((t) => t.token_id),
      out.result.tokens,
    );
    assert.equal(out.result.text, seen.map((t) => t.text).join(''));
    assert.deepEqual(out.usage, { prompt_tokens: 4, completion_tokens: 12 });
    assert.equal(out.batchSize, 1);
    const again = await b.generate(genJob('the quick brown fox'), { signal: live() });
    assert.deepEqual(again.result, out.result);
  });

  it('honours max_tokens and stop sequences', async () => {
    const b = new SimBackend(model());
    const full = await b.generate(genJob('p', { max_tokens: 30, seed: 3 }), { signal: live() });
    assert.equal(full.result.tokens.length, 30);
    const stop = full.result.text.slice(20, 23);
    const cut = await b.generate(genJob('p', { max_tokens: 30, seed: 3, stop: [stop] }), { signal: live() });
    assert.equal(cut.result.finish_reason, 'stop');
    assert.equal(cut.result.text, full.result.text.slice(0, full.result.text.indexOf(stop)));
    assert.equal(cut.usage?.completion_tokens, cut.result.tokens.length);
  });

  it('streams one token per forward and returns at once on abort', async () => {
    const b = new SimBackend(model({ base_ms: 25 }));
    const ac = new AbortController();
    const seen: number[] = [];
    const started = Date.now();
    const out = await b.generate(genJob('slow', { max_tokens: 20 }), {
      signal: ac.signal,
      onToken: (t) => {
        seen.push(t.index);
        if (t.index === 2) ac.abort();
      },
    });
    assert.equal(out.result.finish_reason, 'cancelled');
    assert.equal(out.result.tokens.length, 3);
    assert.equal(out.usage?.completion_tokens, 3);
    assert.deepEqual(seen, [0, 1, 2]);
    // 3 tokens: a prefill and two decode steps of 25 ms each.
    const took = Date.now() - started;
    assert.ok(took >= 50 && took < 300, `took ${took} ms`);
  });

  it('with zero latency runs its forwards without timers, one event-loop turn per token', async () => {
    const b = new SimBackend(model());
    let count = 0;
    const out = await b.generate(genJob('fast', { max_tokens: 500 }), {
      signal: live(),
      onToken: () => count++,
    });
    assert.equal(count, 500);
    assert.equal(out.result.tokens.length, 500);
  });

  it('embeds each text into a unit vector and counts words', async () => {
    const b = new SimBackend(model({ embedding_dim: 12 }));
    const out = await b.embed(embedJob(['a b c', 'd e']), { signal: live() });
    assert.equal(out.result.embeddings.length, 2);
    for (const e of out.result.embeddings) {
      assert.equal(e.length, 12);
      assert.ok(Math.abs(Math.hypot(...e) - 1) < 1e-9);
    }
    assert.deepEqual(out.result.embeddings[0], simEmbedding('a b c', 12));
    assert.deepEqual(out.usage, { prompt_tokens: 5, completion_tokens: 0 });
  });

  it('rejects an aborted embedding', async () => {
    const b = new SimBackend(model({ base_ms: 300 }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 20);
    const started = Date.now();
    await assert.rejects(b.embed(embedJob(['x']), { signal: ac.signal }), /aborted/);
    assert.ok(Date.now() - started < 200, 'the abort does not wait for the batch window');
    await b.close();
  });
});

describe('SimBackend batching', () => {
  const jobs = (n: number): QueuedGenerateJob[] =>
    Array.from({ length: n }, (_, i) => ({ ...genJob(`prompt ${i}`, { max_tokens: 4 }), id: `j${i}` }));

  it('starts a lone job at once on an idle model', async () => {
    const b = new SimBackend(
      model({ base_ms: 5, per_item_ms: 0.5 }, { batching: { micro: { max_queue_delay_ms: 50 } } }),
    );
    const started = Date.now();
    const out = await b.generate(genJob('alone'), { signal: live() });
    assert.equal(out.batchSize, 1);
    // Generate joins the (empty) running batch at the next token boundary: no batching window.
    assert.ok(out.batchWaitMs < 50, `waited ${out.batchWaitMs} ms`);
    const embedded = await b.embed(embedJob(['alone']), { signal: live() });
    assert.equal(embedded.batchSize, 1);
    assert.ok(embedded.batchWaitMs < 50, `embed waited ${embedded.batchWaitMs} ms`);
    assert.ok(Date.now() - started < 200, 'no batching delay when idle');
    await b.close();
  });

  it('continuously batches generations, within max_running_sequences, and reports the wait', async () => {
    const b = new SimBackend(
      model(
        { base_ms: 30, per_item_ms: 1 },
        { replicas: 1, batching: { continuous: { max_running_sequences: 8 } } },
      ),
    );
    const outs = await Promise.all(jobs(17).map((j) => b.generate(j, { signal: live() })));
    const sizes = outs.map((o) => o.batchSize);
    assert.ok(Math.max(...sizes) > 1 && Math.max(...sizes) <= 8, `sizes ${sizes.join(',')}`);
    assert.ok(sizes.every((s) => s >= 1 && s <= 8));
    // 17 sequences of 4 tokens, at most 8 running: later ones waited for a place in the batch.
    assert.ok(
      outs.some((o) => o.batchWaitMs >= 20),
      'later jobs waited for a slot',
    );
    // Each sequence took 4 forwards (a prefill and 3 decode steps) of at least 31 ms.
    assert.ok(outs.every((o) => o.inferenceMs >= 4 * 30));
    await b.close();
  });

  it('micro-batches embed jobs within max_batch_size', async () => {
    const b = new SimBackend(
      model({ base_ms: 30, per_item_ms: 1 }, { replicas: 1, batching: { micro: { max_batch_size: 8 } } }),
    );
    const outs = await Promise.all(
      Array.from({ length: 17 }, (_, i) => b.embed(embedJob([`text ${i}`]), { signal: live() })),
    );
    const sizes = outs.map((o) => o.batchSize);
    assert.equal(sizes[0], 1, 'the first job found the model idle');
    assert.ok(Math.max(...sizes) === 8, `sizes ${sizes.join(',')}`);
    assert.ok(outs.every((o) => o.inferenceMs >= 29));
    await b.close();
  });

  it('batches embed jobs too, with outputs identical to unbatched ones', async () => {
    const on = new SimBackend(
      model(
        { base_ms: 10 },
        { batching: { micro: { max_batch_size: 4 }, continuous: { max_running_sequences: 4 } } },
      ),
    );
    const off = new SimBackend(model({ base_ms: 0 }, { batching: { enabled: false } }));
    const texts = ['a', 'b c', 'd e f', 'g', 'h', 'i'];
    const batched = await Promise.all(texts.map((t) => on.embed(embedJob([t]), { signal: live() })));
    assert.ok(Math.max(...batched.map((o) => o.batchSize)) > 1);
    for (const [i, t] of texts.entries()) {
      const alone = await off.embed(embedJob([t]), { signal: live() });
      assert.deepEqual(batched[i]?.result, alone.result);
    }
    const gens = await Promise.all(jobs(6).map((j) => on.generate(j, { signal: live() })));
    for (const [i, j] of jobs(6).entries()) {
      assert.deepEqual(gens[i]?.result, (await off.generate(j, { signal: live() })).result);
    }
    await Promise.all([on.close(), off.close()]);
  });

  it('with batching disabled runs one job per call on `replicas` slots', async () => {
    const b = new SimBackend(model({ base_ms: 10 }, { replicas: 2, batching: { enabled: false } }));
    const started = Date.now();
    const outs = await Promise.all(jobs(6).map((j) => b.generate(j, { signal: live() })));
    const took = Date.now() - started;
    assert.ok(outs.every((o) => o.batchSize === 1));
    // 6 jobs of 4 tokens (4 forwards of 10 ms) on 2 replicas: three rounds of 40 ms.
    assert.ok(took >= 115 && took < 400, `took ${took} ms`);
    await b.close();
  });

  it('sends a job to an idle replica, not to one busy with a prefill', async () => {
    // One sequence per replica: a job routed to the busy replica would wait for its whole
    // generation (3 forwards), one on the idle replica ends after 1 forward, so it ends first.
    const b = new SimBackend(model({ base_ms: 100 }, { replicas: 2, batching: { enabled: false } }));
    const ended: string[] = [];
    const long = b
      .generate(genJob('long', { max_tokens: 3 }), { signal: live() })
      .then(() => ended.push('long'));
    // The long job's prefill forward is under way (it is neither waiting nor running then).
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const short = b
      .generate(genJob('short', { max_tokens: 1 }), { signal: live() })
      .then(() => ended.push('short'));
    await Promise.all([long, short]);
    assert.deepEqual(ended, ['short', 'long']);
    await b.close();
  });

  it('a job aborted while it waits for a batch leaves it cancelled', async () => {
    const b = new SimBackend(
      model({ base_ms: 20 }, { replicas: 1, batching: { continuous: { max_running_sequences: 1 } } }),
    );
    const first = b.generate(genJob('first'), { signal: live() });
    const ac = new AbortController();
    const second = b.generate(genJob('second'), { signal: ac.signal });
    setTimeout(() => ac.abort(), 10);
    const out = await second;
    assert.equal(out.result.finish_reason, 'cancelled');
    assert.deepEqual(out.result.tokens, []);
    assert.equal(out.batchSize, 0, 'it never ran');
    assert.equal((await first).result.finish_reason, 'length');
    await b.close();
  });

  it('computes both policies from the model config', () => {
    const on = model(
      {},
      {
        replicas: 3,
        batching: {
          micro: { max_batch_size: 32, max_queue_delay_ms: 2 },
          continuous: { max_running_sequences: 8 },
        },
      },
    );
    assert.deepEqual(microBatchPolicy(on), {
      maxBatchSize: 32,
      maxQueueDelayMs: 2,
      maxConcurrentBatches: 3,
      agingMs: 1000,
    });
    assert.deepEqual(continuousPolicy(on), {
      maxRunningSequences: 8,
      prefillChunkTokens: 512,
      decodeStepsPerPrefill: 1,
      agingMs: 1000,
    });
    const off = model({}, { replicas: 3, batching: { enabled: false } });
    assert.deepEqual(microBatchPolicy(off), {
      maxBatchSize: 1,
      maxQueueDelayMs: 0,
      maxConcurrentBatches: 3,
      agingMs: 1000,
    });
    assert.equal(continuousPolicy(off).maxRunningSequences, 1);
  });
});
