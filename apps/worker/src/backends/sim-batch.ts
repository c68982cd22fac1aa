import { performance } from 'node:perf_hooks';
import { ErrorCode, HotpathError, type EmbedResult, type GenerateResult } from '@hotpath/contracts';
import { abortableSleep } from './abortable-sleep';
import type { TokenEvent } from './inference-backend';
import { simEmbedding, simLatencyMs, type SimGenerationPlan, type SimLatencySettings } from './sim-model';

/** Delays shorter than this are not worth a timer: due tokens are emitted at once. */
const MIN_TIMER_MS = 1;

/** When and how big the batch that served a work item was. */
export interface SimBatchInfo {
  size: number;
  /** `performance.now()` at the start of the batch's model execution. */
  startedAt: number;
}

/** A generate job riding a sim batch: its planned tokens and how far their streaming got. */
export interface SimGenerateWork {
  kind: 'generate';
  plan: SimGenerationPlan;
  signal: AbortSignal;
  onToken?: (token: TokenEvent) => void;
  emitted: number;
  emittedChars: number;
  batch?: SimBatchInfo;
}

/** An embed job riding a sim batch. */
export interface SimEmbedWork {
  kind: 'embed';
  texts: readonly string[];
  dim: number;
  batch?: SimBatchInfo;
}

/** One unit of work of the sim micro-batcher (one job, whatever its number of texts). */
export type SimWork = SimGenerateWork | SimEmbedWork;

/** What a sim batch hands back per item. */
export type SimOutput = { kind: 'generate'; result: GenerateResult } | { kind: 'embed'; result: EmbedResult };

/**
 * Runs one sim batch: the "model execution" takes `base_ms + per_item_ms * items` of wall-clock
 * time whatever happens, so the virtual replica slot stays busy for the whole window. Generate items
 * stream their tokens evenly over the window (token i of n is due at (i + 1) / n of it) from one
 * shared timeline, so a batch costs one timer per distinct due time, not one per token; an aborted
 * item stops emitting at once and its result is cut at what it emitted. `stop` (the backend closing)
 * ends the window early: a virtual slot holds nothing worth waiting for.
 */
export async function runSimBatch(
  sim: SimLatencySettings,
  items: readonly SimWork[],
  stop: AbortSignal,
): Promise<SimOutput[]> {
  const startedAt = performance.now();
  const latency = simLatencyMs(sim, items.length);
  for (const item of items) item.batch = { size: items.length, startedAt };
  const streams = items.filter((i): i is SimGenerateWork => i.kind === 'generate');
  for (;;) {
    const next = emitDue(streams, startedAt, latency, performance.now());
    if (next === undefined || !(await abortableSleep(next - performance.now(), stop))) break;
  }
  const left = startedAt + latency - performance.now();
  if (left >= MIN_TIMER_MS) await abortableSleep(left, stop);
  // Cut short by a close: no item may pass a partial stream off as a finished one.
  if (stop.aborted) throw new HotpathError(ErrorCode.WorkerShutdown, 'sim backend closed during a batch');
  return items.map(simOutput);
}

/**
 * Emits every token that is due at `now` and returns the next due time, or undefined when every
 * stream has finished or was aborted. Exported for tests.
 */
export function emitDue(
  streams: readonly SimGenerateWork[],
  startedAt: number,
  latency: number,
  now: number,
): number | undefined {
  let next: number | undefined;
  for (const s of streams) {
    const n = s.plan.tokens.length;
    while (s.emitted < n && !s.signal.aborted) {
      const due = startedAt + (latency * (s.emitted + 1)) / n;
      if (due - now >= MIN_TIMER_MS) {
        next = next === undefined ? due : Math.min(next, due);
        break;
      }
      const token = s.plan.tokens[s.emitted];
      if (!token) break;
      s.onToken?.(token);
      s.emitted++;
      s.emittedChars += token.text.length;
    }
  }
  return next;
}

/** The result of a work item from what it got to do (a generation may have been cut short). */
export function simOutput(item: SimWork): SimOutput {
  if (item.kind === 'embed') {
    return { kind: 'embed', result: { embeddings: item.texts.map((t) => simEmbedding(t, item.dim)) } };
  }
  return { kind: 'generate', result: generationResult(item) };
}

/** A generation's result; `cancelled` when its signal aborted before every token was out. */
export function generationResult(item: SimGenerateWork): GenerateResult {
  const { plan } = item;
  const n = plan.tokens.length;
  const tokens = plan.tokens.slice(0, item.emitted).map((t) => t.token_id);
  const cancelled = item.signal.aborted && (item.emitted < n || n === 0);
  return cancelled
    ? { text: plan.text.slice(0, item.emittedChars), tokens, finish_reason: 'cancelled' }
    : { text: plan.text, tokens, finish_reason: plan.finish_reason };
}
