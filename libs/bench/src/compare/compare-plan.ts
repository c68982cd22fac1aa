import type { ClusterConfigInput } from '@hotpath/contracts';
import { benchBatching } from '../bench-plan';

/** The systems of `hotpath bench compare`, in the order they run. Names are part of the JSON schema. */
export const SYSTEMS = ['ort-direct', 'llama.cpp', 'transformers.js', 'naive', 'hotpath'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** `generate` on the chosen decoder; `embed` on `tiny-embed`. */
export const WORKLOADS = ['generate', 'embed'] as const;
export type Workload = (typeof WORKLOADS)[number];

/** How each workload is driven, per system. */
export interface WorkloadPlan {
  /** Closed-loop concurrency levels, ascending. */
  concurrency: readonly number[];
  /**
   * Open loop: the first rate is `startFactor` × the closed-loop saturation throughput (jobs/s);
   * each next rate is `step` × the previous, until the system saturates or `maxSteps` rates ran.
   */
  open: { startFactor: number; step: number; maxSteps: number };
  /** Length of each load level. */
  durationMs: number;
  /**
   * Requests of the concurrency-1 level: a fixed count instead of a duration, so that every system
   * serves the same prompts there and their p50 latencies compare like for like (a time-bound level
   * would give faster systems more, and different, prompts). 0: time-bound like the other levels.
   */
  singleRequests: number;
}

/** The plan of one run. */
export interface ComparePlan {
  generate: WorkloadPlan;
  embed: WorkloadPlan;
  /** Requests sent (and discarded) per system and workload before measuring. */
  warmupRequests: number;
}

/**
 * Levels and durations. `quick` (under 5 minutes on 2 cores with `small`): three closed-loop levels
 * and at most three open-loop rates per system. The full run adds concurrency 64, finer rate steps
 * and longer levels.
 */
export function comparePlan(quick: boolean): ComparePlan {
  return {
    generate: {
      concurrency: quick ? [1, 4, 16] : [1, 4, 16, 64],
      open: quick
        ? { startFactor: 0.5, step: 1.6, maxSteps: 3 }
        : { startFactor: 0.5, step: 1.3, maxSteps: 7 },
      durationMs: quick ? 4000 : 15_000,
      singleRequests: quick ? 8 : 24,
    },
    embed: {
      concurrency: quick ? [1, 16] : [1, 4, 16, 64],
      open: quick ? { startFactor: 0.5, step: 2, maxSteps: 2 } : { startFactor: 0.5, step: 1.5, maxSteps: 5 },
      durationMs: quick ? 2000 : 6000,
      singleRequests: quick ? 400 : 1500,
    },
    warmupRequests: 4,
  };
}

/**
 * An open-loop level saturated the system when it completed clearly fewer jobs per second than
 * were offered, or when jobs failed (timeouts, 429).
 */
export function isSaturated(offeredRate: number, throughput: number, errors: number): boolean {
  return errors > 0 || throughput < 0.9 * offeredRate;
}

/** A rate rounded to 2 significant digits (at least 0.1/s), so reports show readable offered loads. */
export function roundRate(r: number): number {
  if (!(r > 0)) return 0.1;
  const p = 10 ** (Math.floor(Math.log10(r)) - 1);
  return Math.max(0.1, Number((Math.round(r / p) * p).toPrecision(2)));
}

/** The `i`-th open-loop rate (0-based) from a closed-loop saturation throughput in jobs/s. */
export function openRate(saturation: number, plan: WorkloadPlan['open'], i: number): number {
  return roundRate(saturation * plan.startFactor * plan.step ** i);
}

/** Served model names and folders of one run. */
export interface CompareModels {
  generate: { name: string; dir: string };
  embed: { name: string; dir: string };
}

/**
 * Batch limit shared by `ort-direct` and `hotpath` (continuous batching in each replica), above the
 * highest closed-loop level so the best batch size is found by the levels themselves.
 */
export const MAX_BATCH_SIZE = 64;

/**
 * Cluster config of `naive` (batching off: one sequence per replica at a time) or `hotpath`
 * (continuous batching up to {@link MAX_BATCH_SIZE}). Otherwise identical, and like `ort-direct`:
 * one replica, no result cache, no prompt-prefix KV cache (the prompt set repeats, so a prefix cache
 * would turn a serving benchmark into a cache benchmark).
 */
export function compareClusterConfig(system: 'naive' | 'hotpath', models: CompareModels): ClusterConfigInput {
  const enabled = system === 'hotpath';
  const common = {
    shards: 1,
    replicas: 1,
    // Above the highest closed-loop level: BullMQ hands every waiting job to the worker at once.
    concurrency: 256,
    max_waiting: 1_000_000,
    cache: { enabled: false },
    prefix_cache: { enabled: false },
  };
  return {
    models: [
      {
        ...common,
        name: models.generate.name,
        backend: 'onnx',
        tasks: ['generate'],
        path: models.generate.dir,
        default_max_tokens: 128,
        batching: benchBatching(enabled, MAX_BATCH_SIZE, 2),
      },
      {
        ...common,
        name: models.embed.name,
        backend: 'onnx',
        tasks: ['embed'],
        path: models.embed.dir,
        batching: benchBatching(enabled, MAX_BATCH_SIZE, 2),
      },
    ],
    api: { max_wait_s: 120 },
  };
}
