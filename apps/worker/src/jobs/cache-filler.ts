import type { JobResult, ModelConfig, QueuedJob, Usage } from '@hotpath/contracts';
import type { ResultCache, SingleFlight } from '@hotpath/cache';
import { Attr, withSpan, type Context, type Logger } from '@hotpath/telemetry';

/**
 * The worker's half of the result cache: it stores a finished job's result under the key the API
 * computed *before* the job's record turns completed, so a client that has seen the result gets a
 * hit for the same request at once (not a follower of a flight that is about to land); after the
 * record is terminal it lands the job's single-flight. It never fills an entry computed for another
 * model version than the one this worker serves.
 */
export class CacheFiller {
  constructor(
    private readonly cache: ResultCache,
    private readonly flights: SingleFlight,
    private readonly logger: Logger,
  ) {}

  async fill(
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
    }
  }

  /** Ends the job's single-flight once its record is terminal, so later requests stop following it. */
  async land(job: QueuedJob, model: ModelConfig): Promise<void> {
    if (!job.cache_key) return;
    await this.flights.land(model.name, job.cache_key, job.id).catch(() => undefined);
  }
}
