import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelConfig } from '@hotpath/contracts';
import { listOnnxVariants } from '@hotpath/model-runtime';
import type { ServedModelBeat } from '@hotpath/queue';
import type { ServedModel } from '../jobs/job-runner';
import type { ServedQueue } from '../startup/served-queues';

/** Files whose modification time dates a model version, in order of preference. */
const DATING_FILES = ['config.json', 'model.onnx', 'onnx/model.onnx'];

/**
 * What the heartbeat says about a served model beyond its shards: when its files were written
 * (OpenAI's `created`) and which graph variants its folder holds. Read once at start-up.
 */
export function servedModelInfo(
  config: ModelConfig,
): Pick<ServedModelBeat, 'created' | 'variants' | 'dtype'> {
  if (config.backend !== 'onnx' || !config.path || !existsSync(config.path)) {
    return { created: null, variants: [] };
  }
  const dir = config.path;
  const dated = DATING_FILES.map((f) => join(dir, f)).find((p) => existsSync(p)) ?? dir;
  const variants = [...new Set(listOnnxVariants(dir).map((v) => v.dtype))];
  return {
    created: Math.floor(statSync(dated).mtimeMs / 1000),
    variants,
    ...(config.dtype ? { dtype: config.dtype } : {}),
  };
}

/** What the heartbeat announces of each served model: its shards here, work stealing, its files. */
export function servedModelBeats(
  served: ReadonlyMap<string, ServedModel>,
  queues: readonly ServedQueue[],
): ServedModelBeat[] {
  return [...served.values()].map((m) => ({
    model: m.config.name,
    backend: m.config.backend,
    shards: queues.filter((q) => q.model === m.config.name).map((q) => q.shard),
    steals: m.config.steal,
    ...servedModelInfo(m.config),
  }));
}
