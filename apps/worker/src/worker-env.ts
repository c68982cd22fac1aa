import { hostname } from 'node:os';
import { z } from 'zod';
import { TenantSettings, commonEnvShape, envPort, parseEnv, withTenantsFromEnv } from '@hotpath/config';
import type { ClusterConfig } from '@hotpath/contracts';
import { CPU_PLACEMENT_MODES } from '@hotpath/model-runtime';
import { parseWorkerShards, redisTargetFromEnv } from '@hotpath/queue';
import type { WorkerOptions } from './worker-app';
import { webhookEnvShape, webhookSettingsFromEnv } from './webhooks/webhook-settings';

const workerShards = z
  .string()
  .optional()
  .transform((value, ctx) => {
    try {
      return parseWorkerShards(value);
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: (err as Error).message.replace(/^WORKER_SHARDS:\s*/, '') });
      return z.NEVER;
    }
  });

/** The worker's environment (docs/configuration.md), validated once at start-up. */
export const WorkerEnvSchema = z.object({
  ...commonEnvShape,
  WORKER_SHARDS: workerShards,
  METRICS_PORT: envPort.default(9464),
  METRICS_HOST: z.string().min(1).default('0.0.0.0'),
  WORKER_ID: z.string().min(1).max(128).optional(),
  WORKER_CPU_PLACEMENT: z.enum(CPU_PLACEMENT_MODES).default('off'),
  ...webhookEnvShape,
});
export type WorkerEnv = z.infer<typeof WorkerEnvSchema>;

/** Parses the worker's environment; throws a HotpathError naming every bad variable. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  return parseEnv(WorkerEnvSchema, env);
}

/** The options of {@link startWorker} from a parsed environment and a loaded cluster config. */
export function workerOptionsFromEnv(env: WorkerEnv, loaded: ClusterConfig): WorkerOptions {
  const cluster = withTenantsFromEnv(loaded, env.HOTPATH_TENANTS);
  return {
    redis: redisTargetFromEnv(env),
    cluster,
    tenants: new TenantSettings(cluster.tenants),
    shards: env.WORKER_SHARDS,
    metricsHost: env.METRICS_HOST,
    metricsPort: env.METRICS_PORT,
    workerId: env.WORKER_ID ?? `${hostname()}-${process.pid}`,
    cpuPlacement: env.WORKER_CPU_PLACEMENT,
    resultTtlS: env.HOTPATH_RESULT_TTL_S,
    logLevel: env.LOG_LEVEL,
    webhooks: webhookSettingsFromEnv(env),
  };
}
