import type { ClusterConfigInput } from '@hotpath/contracts';

/** The workloads of `hotpath bench batching`. */
export type Scenario = 'generate' | 'embed' | 'sim';
export const SCENARIOS: readonly Scenario[] = ['generate', 'embed', 'sim'];

/** `off` = `batching.enabled: false` (one job per model call); `on` = the configured batching. */
export type BatchingMode = 'off' | 'on';
export const MODES: readonly BatchingMode[] = ['off', 'on'];

/** How one scenario is driven. */
export interface ScenarioPlan {
  scenario: Scenario;
  task: 'generate' | 'embed';
  /** Closed-loop concurrency levels. */
  concurrency: readonly number[];
  /**
   * Open-loop arrival rates as multiples of the saturation throughput of the first mode measured
   * (`off`), so both modes see the same absolute rates. Empty: closed loop only.
   */
  rateFactors: readonly number[];
  /** Length of each load level. */
  durationMs: number;
  /** New tokens per generate job. */
  maxTokens?: number;
}

/**
 * The levels of each scenario. `quick` keeps the whole run under 3 minutes on 2 cores: fewer levels,
 * shorter runs. `generate` on `small` is the slow one (about a second per unbatched job), so it runs
 * closed loop only: an open loop above its capacity would only measure how long the bench waited.
 */
export function scenarioPlans(quick: boolean): Record<Scenario, ScenarioPlan> {
  return {
    generate: {
      scenario: 'generate',
      task: 'generate',
      concurrency: quick ? [1, 16] : [1, 4, 16, 32],
      rateFactors: [],
      durationMs: quick ? 5000 : 10_000,
      maxTokens: 64,
    },
    embed: {
      scenario: 'embed',
      task: 'embed',
      // 128 clients: with batching the latency stays low, so fewer clients would leave it latency-bound
      // below saturation and understate the batched throughput.
      concurrency: quick ? [1, 16, 128] : [1, 4, 16, 32, 128],
      rateFactors: quick ? [2] : [0.5, 2],
      durationMs: quick ? 2500 : 6000,
    },
    sim: {
      scenario: 'sim',
      task: 'generate',
      concurrency: quick ? [1, 16, 64, 256] : [1, 4, 16, 32, 64, 128, 256],
      rateFactors: quick ? [2] : [0.5, 2, 4],
      durationMs: quick ? 2500 : 6000,
      maxTokens: 16,
    },
  };
}

/** Open-loop rates (jobs/s) from a saturation throughput, rounded to 2 significant digits, at least 1. */
export function ratesFrom(saturation: number, factors: readonly number[]): number[] {
  return factors.map((f) => {
    const r = saturation * f;
    if (!(r > 0)) return 1;
    const p = 10 ** (Math.floor(Math.log10(r)) - 1);
    return Math.max(1, Math.round(r / p) * p);
  });
}

/** Model names and folders of one bench run. */
export interface BenchModels {
  /** Appended to every model name so a shared Redis never mixes runs. */
  suffix: string;
  smallDir: string;
  embedDir: string;
}

/** The served model name of a scenario. */
export function modelName(scenario: Scenario, suffix: string): string {
  const base = scenario === 'generate' ? 'small' : scenario === 'embed' ? 'tiny-embed' : 'sim';
  return suffix ? `${base}-${suffix}` : base;
}

/**
 * A `batching` section whose micro-batches (embed) and running batches (generate) both hold up to
 * `size`: what the benches compare, whichever scheduler the model's task uses.
 */
export function benchBatching(
  enabled: boolean,
  size: number,
  maxQueueDelayMs: number,
): {
  enabled: boolean;
  micro: { max_batch_size: number; max_queue_delay_ms: number };
  continuous: { max_running_sequences: number };
} {
  return {
    enabled,
    micro: { max_batch_size: size, max_queue_delay_ms: maxQueueDelayMs },
    continuous: { max_running_sequences: size },
  };
}

/** Batch size limits of the bench models when batching is on. */
export const BENCH_BATCHING = {
  sim: { size: 64, maxQueueDelayMs: 2 },
  generate: { size: 32, maxQueueDelayMs: 5 },
  embed: { size: 32, maxQueueDelayMs: 5 },
} as const;

/**
 * The cluster config of one mode: the same models and replicas in both, only `batching.enabled`
 * differs. BullMQ concurrency is at least the batch size × replicas (so batches can fill) and above
 * the highest closed-loop level; results are not cached (requests also say `cache: "bypass"`).
 */
export function benchClusterConfig(
  mode: BatchingMode,
  scenarios: readonly Scenario[],
  models: BenchModels,
): ClusterConfigInput {
  const enabled = mode === 'on';
  const all: NonNullable<ClusterConfigInput['models']> = [];
  for (const s of scenarios) {
    const name = modelName(s, models.suffix);
    const batching = benchBatching(enabled, BENCH_BATCHING[s].size, BENCH_BATCHING[s].maxQueueDelayMs);
    const common = {
      name,
      shards: 1,
      replicas: 1,
      max_waiting: 1_000_000,
      cache: { enabled: false },
      batching,
    };
    if (s === 'sim') {
      all.push({
        ...common,
        backend: 'sim',
        tasks: ['generate'],
        concurrency: 256,
        default_max_tokens: 16,
        sim: { base_ms: 5, per_item_ms: 0.5 },
      });
    } else if (s === 'generate') {
      all.push({
        ...common,
        backend: 'onnx',
        tasks: ['generate'],
        path: models.smallDir,
        concurrency: 64,
        default_max_tokens: 64,
      });
    } else {
      all.push({ ...common, backend: 'onnx', tasks: ['embed'], path: models.embedDir, concurrency: 64 });
    }
  }
  return { models: all, api: { max_wait_s: 120 } };
}
