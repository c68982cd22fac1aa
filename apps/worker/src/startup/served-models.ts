import type { ClusterConfig } from '@hotpath/contracts';
import { ModelChatTemplates, ModelInputLimitsStore, type RedisClient } from '@hotpath/queue';
import { ModelDigests } from '@hotpath/cache';
import type { Logger } from '@hotpath/telemetry';
import type { BackendFactory } from '../backends/backend-factory';
import type { BackendDeps } from '../backends/inference-backend';
import { publishChatTemplates } from '../jobs/chat-template-publisher';
import { publishInputLimits } from '../jobs/input-limits-publisher';
import type { ServedModel } from '../jobs/job-runner';
import type { CleanupStack } from './cleanup-stack';

/**
 * Creates and starts the backend of every model `modelNames` holds, one after the other (loading
 * two models at once would compete for the same cores and memory); `cleanups` closes them.
 */
export async function startBackends(
  cluster: ClusterConfig,
  modelNames: ReadonlySet<string>,
  factory: BackendFactory,
  deps: BackendDeps,
  cleanups: CleanupStack,
): Promise<Map<string, ServedModel>> {
  const served = new Map<string, ServedModel>();
  for (const config of cluster.models.filter((m) => modelNames.has(m.name))) {
    const backend = factory(config, { ...deps, logger: deps.logger.child({ model: config.name }) });
    cleanups.push(() => backend.close());
    await backend.start();
    served.set(config.name, { config, backend });
  }
  return served;
}

/**
 * Publishes what the API needs to know about the served models and cannot read itself (it never
 * loads a model): each version's content digest (result-cache keys carry it), chat template and
 * context length.
 */
export async function publishModelMetadata(
  served: ReadonlyMap<string, ServedModel>,
  connection: RedisClient,
  logger: Logger,
): Promise<void> {
  const digests = new ModelDigests(connection);
  for (const m of served.values())
    if (m.backend.digest) await digests.publish(m.config.name, m.backend.digest);
  const models = [...served.values()].map((m) => m.config);
  await publishChatTemplates(models, new ModelChatTemplates(connection), logger);
  await publishInputLimits(models, new ModelInputLimitsStore(connection), logger);
}
