import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { forgeModel } from '@hotpath/model-runtime';
import { TextTokenizer } from '@hotpath/tokenizer';
import { withBenchRun, type BenchCluster } from '../bench-cluster';
import { benchBatching } from '../bench-plan';
import { promValue, scrapeMetrics } from '../prom-text';
import type { CacheBenchOptions } from './cache-bench-options';
import { buildCacheReport, type CacheReport, type TtftSample } from './cache-report';
import { submitAndStream, submitAndWait, type Submitted } from './job-http';
import { histogramDelta, histogramQuantile, readHistogram } from './prom-histogram';

/** Where the bench reports progress and problems. */
export interface CacheBenchIo {
  progress(line: string): void;
  warn(line: string): void;
}

/** Tokens of the shared prefix in the TTFT check: the target's 256, plus two blocks of margin. */
const PREFIX_TOKENS = 256 + 32;
const BLOCK_TOKENS = 16;

function clusterConfig(name: string, dir: string, maxTokens: number): ClusterConfigInput {
  return {
    models: [
      {
        name,
        backend: 'onnx',
        tasks: ['generate'],
        path: dir,
        shards: 1,
        replicas: 1,
        concurrency: 64,
        max_waiting: 1_000_000,
        default_max_tokens: maxTokens,
        batching: benchBatching(true, 16, 5),
        cache: { enabled: true, scope: 'global', max_entries: 100_000 },
        prefix_cache: { enabled: true, block_tokens: BLOCK_TOKENS, max_bytes: 256 * 1024 * 1024 },
      },
    ],
    api: { max_wait_s: 120 },
  };
}

const FILLER = [
  'The old lighthouse keeper climbed the stairs every evening to light the lamp.',
  'Ships passed far away on the grey sea, and gulls cried above the rocks.',
  'In the village below, children ran along the harbour wall after school.',
  'A baker sold warm bread to fishermen who came back before sunrise.',
  'One winter a storm broke the lamp, and the keeper had to fix it alone.',
];

/** A prompt prefix of at least `tokens` tokens, unique to `tag` from its first token on. */
function longPrefix(tokenizer: TextTokenizer, tag: string, tokens: number): string {
  let text = `Story ${tag}.`;
  for (let i = 0; tokenizer.encode(text).length < tokens; i++)
    text += ` ${FILLER[i % FILLER.length] as string}`;
  return text;
}

/**
 * Runs `hotpath bench cache`: forges the model if needed, starts a private cluster with the result
 * cache and the prefix KV cache on, and measures hit vs miss latency, coalescing and prefix TTFT.
 */
export async function runCacheBench(
  opts: CacheBenchOptions,
  env: NodeJS.ProcessEnv,
  io: CacheBenchIo,
): Promise<CacheReport> {
  const dir = join(opts.dataDir, 'models', opts.preset);
  if (!existsSync(join(dir, 'model.onnx'))) {
    io.progress(`forging ${opts.preset} into ${dir}`);
    forgeModel({ arch: 'llama', preset: opts.preset, seed: 1, out: dir });
  }
  const tokenizer = TextTokenizer.fromFile(join(dir, 'tokenizer.json'));
  return withBenchRun('hotpath-bench-cache-', opts, env, io, async (bench) => {
    const run = randomUUID().slice(0, 8);
    const model = bench.redis.private ? opts.preset : `${opts.preset}-c${run.slice(0, 6)}`;
    io.progress(`starting the cluster (${model}, 1 replica)`);
    const cluster = await bench.startCluster('cluster', clusterConfig(model, dir, opts.maxTokens));
    try {
      return await measure(cluster, model, run, tokenizer, opts, io);
    } finally {
      await cluster.stop();
    }
  });
}

async function measure(
  cluster: BenchCluster,
  model: string,
  run: string,
  tokenizer: TextTokenizer,
  opts: CacheBenchOptions,
  io: CacheBenchIo,
): Promise<CacheReport> {
  const { apiBase, metricsBase } = cluster;
  const gen = (prompt: string, extra: Record<string, unknown> = {}) => ({
    model,
    task: 'generate',
    input: { prompt },
    params: { max_tokens: opts.maxTokens, temperature: 0 },
    ...extra,
  });
  const check = (): void => {
    const failure = cluster.failure();
    if (failure) throw new Error(failure);
  };
  // Warm-up: session init and JIT stay out of the numbers.
  for (let i = 0; i < 2; i++) await submitAndWait(apiBase, gen(`warm up ${run} ${i}`, { cache: 'bypass' }));

  // (a) misses, then hits of the same prompts.
  const httpLabels = { route: '/v1/jobs', method: 'POST', status: '200' };
  const HTTP = 'hotpath_http_request_duration_seconds';
  io.progress(`(a) ${opts.misses} misses of ${opts.maxTokens} tokens`);
  const prompts = Array.from(
    { length: opts.misses },
    (_, i) => `Tell a story about the number ${i} (${run}).`,
  );
  let before = readHistogram(await scrapeMetrics(apiBase), HTTP, httpLabels);
  const misses: Submitted[] = [];
  for (const p of prompts) misses.push(await submitAndWait(apiBase, gen(p)));
  const missHist = histogramDelta(before, readHistogram(await scrapeMetrics(apiBase), HTTP, httpLabels));
  check();
  io.progress(`(a) ${opts.hits} hits`);
  before = readHistogram(await scrapeMetrics(apiBase), HTTP, httpLabels);
  const hits: Submitted[] = [];
  for (let i = 0; i < opts.hits; i++)
    hits.push(await submitAndWait(apiBase, gen(prompts[i % prompts.length] as string)));
  const hitHist = histogramDelta(before, readHistogram(await scrapeMetrics(apiBase), HTTP, httpLabels));
  check();

  // (b) identical concurrent requests: executions counted by the worker.
  io.progress(`(b) ${opts.concurrent} identical concurrent requests`);
  const completed = async (): Promise<number> =>
    promValue(await scrapeMetrics(metricsBase), 'hotpath_jobs_total', { model, outcome: 'completed' });
  const completedBefore = await completed();
  const same = gen(`One prompt sent by many clients at once (${run}).`);
  const burst = await Promise.all(
    Array.from({ length: opts.concurrent }, () => submitAndWait(apiBase, same)),
  );
  // The counter moves when the worker finishes; give a second execution (a bug) time to show too.
  let executions = 0;
  for (const deadline = Date.now() + 5000; Date.now() < deadline;) {
    executions = (await completed()) - completedBefore;
    if (executions >= 1) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 500));
  executions = (await completed()) - completedBefore;
  check();

  // (c) TTFT: each pair = a cold prompt with a fresh long prefix, then the same prefix + another
  // question. Result cache bypassed, so both run on the model; sequential, so histogram deltas are
  // exactly one request's.
  io.progress(`(c) ${opts.pairs} cold/warm prompt pairs with a ${PREFIX_TOKENS}-token prefix`);
  const TTFT = 'hotpath_time_to_first_token_seconds';
  const ttft: TtftSample[] = [];
  for (let i = 0; i < opts.pairs; i++) {
    const prefix = longPrefix(tokenizer, `${run}-${i}`, PREFIX_TOKENS);
    for (const [kind, question] of [
      ['cold', ' What did the keeper do first?'],
      ['warm', ' Who bought the bread?'],
    ] as const) {
      const text0 = await scrapeMetrics(metricsBase);
      const h0 = readHistogram(text0, TTFT, { model });
      const hit0 = promValue(text0, 'hotpath_prefix_cache_hit_tokens_total', { model });
      const s = await submitAndStream(
        apiBase,
        gen(prefix + question, { cache: 'bypass', params: { max_tokens: 4, temperature: 0 } }),
      );
      const text1 = await scrapeMetrics(metricsBase);
      const d = histogramDelta(h0, readHistogram(text1, TTFT, { model }));
      ttft.push({
        kind,
        promptTokens: s.view.usage?.prompt_tokens ?? 0,
        serverMs: d.count === 1 ? d.sum * 1000 : null,
        clientMs: s.clientTtftMs,
        prefixHitTokens: promValue(text1, 'hotpath_prefix_cache_hit_tokens_total', { model }) - hit0,
      });
    }
  }
  check();

  return buildCacheReport({
    model,
    preset: opts.preset,
    quick: opts.quick,
    maxTokens: opts.maxTokens,
    misses,
    hits,
    missServer: {
      p50Ms: msOrNull(histogramQuantile(missHist, 0.5)),
      meanMs: missHist.count > 0 ? (missHist.sum / missHist.count) * 1000 : null,
    },
    hitServer: {
      p50Ms: msOrNull(histogramQuantile(hitHist, 0.5)),
      p99Ms: msOrNull(histogramQuantile(hitHist, 0.99)),
      meanMs: hitHist.count > 0 ? (hitHist.sum / hitHist.count) * 1000 : null,
    },
    burst,
    executions,
    ttft,
    prefixTokens: PREFIX_TOKENS,
  });
}

function msOrNull(s: number | null): number | null {
  return s === null ? null : s * 1000;
}
