import type { JobResult, ModelConfig, QueuedJob, Usage } from '@hotpath/contracts';
import type { ResultCache, SingleFlight } from '@hotpath/cache';
import { Attr, withSpan, type Context, type Logger } from '@hotpath/telemetry';

/**
 * The worker's half of the result cache: after a job completes it stores the result under the key
 * the API computed, then lands the job's single-flight so later identical requests become hits.
 * It never fills an entry computed for another model version than the one this worker serves.
 */
export class CacheFiller {
  constructor(
    private readonly cache: ResultCache,
    private readonly flights: SingleFlight,
    private readonly logger: Logger,
  ) {}

  async completed(
    job: QueuedJob,
    model: ModelConfig,
    servedDigest: string | undefined,
    done: { result: JobResult; usage: Usage | null },
    trace: Context,
  ): Promise<void> {
    const key = job.cache_key;
    if (!key) return;
    try {
      if (model.cache.enabled && servedDigest !== undefined && job.model_digest === servedDigest) {
        await withSpan(
          'cache.fill',
          { parent: trace, attributes: { [Attr.genAiRequestModel]: model.name } },
          async (span) => {
            const res = await this.cache.set(
              model.name,
              key,
              { result: done.result, usage: done.usage, modelDigest: servedDigest, createdAt: Date.now() },
              {
                ttlS: model.cache.ttl_s,
                maxEntries: model.cache.max_entries,
                maxEntryBytes: model.cache.max_entry_bytes,
              },
            );
            span.setAttribute('hotpath.cache.stored', res.stored);
            span.setAttribute('hotpath.cache.evicted', res.evicted);
          },
        );
      }
    } catch (err) {
      // A cache write failure must not fail a finished job; the next identical request just misses.
      this.logger.warn('cache fill failed', { job_id: job.id, model: model.name, error: err });
    } finally {
      await this.flights.land(model.name, key, job.id).catch(() => undefined);
    }
  }
}
