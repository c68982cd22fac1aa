import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBenchCluster } from '../bench-cluster';
import type { Sender } from '../load-generator';
import type { BenchTarget } from './bench-target';
import { compareClusterConfig, type CompareModels } from './compare-plan';
import { embedJobBody, generateJobBody, httpJobSender, type HttpJobClientState } from './http-job-target';
import type { BenchPrompt } from './prompt-set';

/**
 * `naive` or `hotpath`: the real API and one worker as child processes (the `hotpath up` pieces) on
 * the run's Redis, driven over HTTP. Only `batching.enabled` differs between the two.
 */
export async function startClusterTarget(opts: {
  system: 'naive' | 'hotpath';
  models: CompareModels;
  withEmbed: boolean;
  prompts: readonly BenchPrompt[];
  texts: readonly string[];
  redisUrl: string;
  dataDir: string;
  workDir: string;
  baseEnv: NodeJS.ProcessEnv;
  /** A private redis-server of the run (confined with the API beside the worker's replicas). */
  redisPid?: number;
}): Promise<BenchTarget> {
  const config = compareClusterConfig(opts.system, opts.models);
  if (!opts.withEmbed) config.models = config.models?.filter((m) => m.name === opts.models.generate.name);
  const configPath = join(opts.workDir, `cluster-${opts.system}.json`);
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const cluster = await startBenchCluster({
    configPath,
    redisUrl: opts.redisUrl,
    dataDir: opts.dataDir,
    logDir: opts.workDir,
    baseEnv: opts.baseEnv,
    ...(opts.redisPid ? { redisPid: opts.redisPid } : {}),
    readyTimeoutMs: 120_000,
  });
  const state: HttpJobClientState = { sse: undefined };
  const guard =
    (send: Sender): Sender =>
    async (origin) => {
      const failure = cluster.failure();
      if (failure) throw new Error(failure);
      return send(origin);
    };
  return {
    system: opts.system,
    generate: () =>
      guard(
        httpJobSender(cluster.apiBase, generateJobBody(opts.models.generate.name, opts.prompts), true, state),
      ),
    embed: () =>
      opts.withEmbed
        ? // One round trip (`Prefer: wait`): embeddings do not stream, so SSE would only add a request.
          guard(
            httpJobSender(cluster.apiBase, embedJobBody(opts.models.embed.name, opts.texts), false, {
              sse: false,
            }),
          )
        : undefined,
    notes: () =>
      state.sse === false
        ? [
            `${opts.system}: the cluster has no \`GET /v1/jobs/{id}/events\` route, so jobs were long-polled and TTFT is null (not measured).`,
          ]
        : [],
    stop: () => cluster.stop(),
  };
}
