import { performance } from 'node:perf_hooks';
import { ErrorCode, HotpathError, type EmbedResult } from '@hotpath/contracts';
import { abortableSleep } from './abortable-sleep';
import { simEmbedding, simLatencyMs, type SimLatencySettings } from './sim-model';

/** When and how big the batch that served a work item was. */
export interface SimBatchInfo {
  size: number;
  /** `performance.now()` at the start of the batch's model execution. */
  startedAt: number;
}

/** An embed job riding a sim micro-batch (one item, whatever its number of texts). */
export interface SimEmbedWork {
  texts: readonly string[];
  dim: number;
  batch?: SimBatchInfo;
}

/**
 * Runs one sim embed batch: the "model execution" takes `base_ms + per_item_ms * items` of
 * wall-clock time whatever happens, so the virtual replica slot stays busy for the whole window.
 * `stop` (the backend closing) ends the window early and fails the batch.
 */
export async function runSimBatch(
  sim: SimLatencySettings,
  items: readonly SimEmbedWork[],
  stop: AbortSignal,
): Promise<EmbedResult[]> {
  const startedAt = performance.now();
  for (const item of items) item.batch = { size: items.length, startedAt };
  if (!(await abortableSleep(simLatencyMs(sim, items.length), stop)))
    throw new HotpathError(ErrorCode.WorkerShutdown, 'sim backend closed during a batch');
  return items.map((item) => ({ embeddings: item.texts.map((t) => simEmbedding(t, item.dim)) }));
}
