import { ReplicaPool } from '@hotpath/model-runtime';
import type { Sample, Sender } from '../load-generator';
import type { BenchTarget } from './bench-target';
import { EmbedCoalescer } from './embed-coalescer';
import type { BenchPrompt } from './prompt-set';

/**
 * `ort-direct`: onnxruntime-node in this process through `@hotpath/model-runtime` (a `ReplicaPool`
 * with continuous batching up to `maxBatchSize`; embeddings coalesced into batches), no HTTP, no
 * Redis, no queue. The closed-loop levels find its best batch size: the limit on this machine.
 */
export async function startOrtDirect(opts: {
  generateDir: string;
  embedDir: string | undefined;
  prompts: readonly BenchPrompt[];
  texts: readonly string[];
  maxBatchSize: number;
  log: (line: string) => void;
}): Promise<BenchTarget> {
  const gen = await ReplicaPool.start({
    dir: opts.generateDir,
    replicas: 1,
    scheduler: { maxRunningSequences: opts.maxBatchSize },
    prefixCache: null,
    log: opts.log,
  });
  let emb: ReplicaPool | undefined;
  try {
    emb = opts.embedDir
      ? await ReplicaPool.start({ dir: opts.embedDir, replicas: 1, log: opts.log })
      : undefined;
  } catch (err) {
    await gen.close();
    throw err;
  }
  const embedPool = emb;
  return {
    system: 'ort-direct',
    generate(): Sender {
      let n = 0;
      return async (origin) => {
        const p = opts.prompts[n++ % opts.prompts.length] as BenchPrompt;
        let ttftMs: number | undefined;
        try {
          const out = await gen.submitGeneration(
            { prompt: p.prompt, params: { max_tokens: p.maxTokens, temperature: 0 } },
            { onToken: () => (ttftMs ??= performance.now() - origin) },
          );
          return { ok: true, latencyMs: performance.now() - origin, tokens: out.tokens.length, ttftMs };
        } catch (err) {
          return { ok: false, latencyMs: performance.now() - origin, error: (err as Error).message };
        }
      };
    },
    embed(): Sender | undefined {
      if (!embedPool) return undefined;
      const coalescer = new EmbedCoalescer(
        async (texts) => (await embedPool.embed(texts)).embeddings,
        opts.maxBatchSize,
      );
      let n = 0;
      return async (origin): Promise<Sample> => {
        const text = opts.texts[n++ % opts.texts.length] as string;
        try {
          await coalescer.embed(text);
          return { ok: true, latencyMs: performance.now() - origin };
        } catch (err) {
          return { ok: false, latencyMs: performance.now() - origin, error: (err as Error).message };
        }
      };
    },
    notes: () => [],
    async stop() {
      await Promise.all([gen.close(), embedPool?.close()]);
    },
  };
}
