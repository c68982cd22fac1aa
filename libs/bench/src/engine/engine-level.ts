import { IterationScheduler } from '@hotpath/batching';
import { SequenceState, type LocalModel } from '@hotpath/model-runtime';
import type { BenchPrompt } from '../compare/prompt-set';

/** How long a level warms up and measures, and the scheduler's prefill policy. */
export interface LevelTiming {
  warmupMs: number;
  measureMs: number;
  /** `batching.continuous.prefill_chunk_tokens`. */
  prefillChunkTokens: number;
  /** `batching.continuous.decode_steps_per_prefill`. */
  decodeStepsPerPrefill: number;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * The longest a level waits for its steady state. At 64 streams on a model of `small`'s size the
 * first wave of prefills alone takes seconds, and measuring it would report the fill, not the loop.
 */
export const MAX_WARMUP_MS = 60_000;

/**
 * Closed loop at one stream count: `streams` clients, each resubmitting when its sequence ends.
 * Measures after the warm-up time and once `streams` sequences have ended (the first wave's
 * prefills are over and the streams' lengths have spread out), or after {@link MAX_WARMUP_MS}.
 */
export async function runLevel(
  model: LocalModel,
  streams: number,
  opts: LevelTiming,
  prompts: readonly BenchPrompt[],
): Promise<LevelMeasure> {
  const engine = model.createEngine(streams);
  let counting = false;
  // Decode groups alone (no prefill): the batching efficiency of the decode step itself.
  let decodeMs = 0;
  let decodeTokens = 0;
  let decodeForwards = 0;
  let steps = 0;
  const scheduler = new IterationScheduler(
    engine,
    {
      maxRunningSequences: streams,
      prefillChunkTokens: opts.prefillChunkTokens,
      decodeStepsPerPrefill: opts.decodeStepsPerPrefill,
    },
    {
      onReport: (g) => {
        if (!counting) return;
        steps += g.forwards;
        if (g.kind !== 'decode') return;
        decodeMs += g.endedAt - g.startedAt;
        decodeTokens += g.size * g.forwards;
        decodeForwards += g.forwards;
      },
    },
  );
  let tokens = 0;
  let contextSum = 0;
  let finished = 0;
  // Sequences ended during warm-up: the loop is in its steady state once every stream has ended one.
  let warmEnded = 0;
  let next = 0;
  let stop = false;
  const maxPos = model.info.config.max_position_embeddings;
  const defaults = { ...model.generationDefaults, eosIds: [] };
  const client = async (): Promise<void> => {
    while (!stop) {
      const i = next++;
      const p = prompts[i % prompts.length] as BenchPrompt;
      const seq = SequenceState.create(
        model.info.tokenizer,
        { prompt: p.prompt, params: { max_tokens: p.maxTokens, temperature: 0 } },
        defaults,
        maxPos,
      );
      try {
        await scheduler.submit(i, seq, { onToken: () => counting && tokens++ });
      } catch {
        return; // the scheduler closed at the end of the window
      }
      if (!counting) warmEnded++;
      if (counting) {
        finished++;
        contextSum += seq.prompt.length + seq.tokens.length;
      }
    }
  };
  const clients = Array.from({ length: streams }, client);
  await sleep(opts.warmupMs);
  const warmDeadline = performance.now() + MAX_WARMUP_MS;
  while (warmEnded < streams && performance.now() < warmDeadline) await sleep(50);
  counting = true;
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await sleep(opts.measureMs);
  counting = false;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  stop = true;
  scheduler.close();
  await Promise.all(clients);
  return {
    tokensPerS: tokens / seconds,
    tokens,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    stepMs: steps > 0 ? (seconds * 1000) / steps : (seconds * 1000 * streams) / Math.max(1, tokens),
    meanContext: finished > 0 ? contextSum / finished : 0,
    decodeTokensPerS: decodeMs > 0 ? (1000 * decodeTokens) / decodeMs : 0,
    meanDecodeBatch: decodeForwards > 0 ? decodeTokens / decodeForwards : 0,
  };
}

/** What one level measured. */
export interface LevelMeasure {
  tokensPerS: number;
  /** Tokens generated in the window. */
  tokens: number;
  /**
   * CPU seconds of the whole process in the window (every thread: the engine's, onnxruntime's).
   * Tokens per CPU second compare engines on a host whose other tenants make wall-clock rates noisy.
   */
  cpuSeconds: number;
  stepMs: number;
  meanContext: number;
  /** Tokens per second of decode forwards alone (prefill time excluded). */
  decodeTokensPerS: number;
  /** Mean rows of a decode forward. */
  meanDecodeBatch: number;
}
