import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import {
  BatchJobRequestSchema,
  ErrorCode,
  HotpathError,
  JobRequestSchema,
  type JobRequest,
  type JobView,
  type ModelConfig,
} from '@hotpath/contracts';
import { findModel } from '@hotpath/config';
import {
  IdempotencyStore,
  JOB_CANCEL_CHANNEL,
  isTerminal,
  toJobView,
  type JobRecord,
  type JobStore,
  type JobWaiter,
  type ShardQueues,
} from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { toErrorResponse } from '../errors/error-mapping';
import { assertRedisReady, redisUnavailable, withRedisTimeout } from '../redis/redis-availability';
import { queuedPayload, queuedRecord, shardOf, type NewJob } from './job-builders';
import { parseOrThrow } from './request-validation';
import type { CacheOutcome, ResultCacheLookup } from './result-cache.lookup';

/** BullMQ calls can wait for a connection instead of failing; an HTTP request must not. */
const QUEUE_CALL_TIMEOUT_MS = 3000;
const QUEUE_FULL_RETRY_AFTER_S = 1;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

/** Everything the service works with; passed in so tests can build it without Nest. */
export interface JobsServiceDeps {
  config: ApiConfig;
  producer: Redis;
  store: JobStore;
  queues: ShardQueues;
  idempotency: IdempotencyStore;
  waiter: JobWaiter;
  metrics: HotpathMetrics;
  cache: ResultCacheLookup;
  now?: () => number;
}

/** The outcome of one accepted submission. */
export interface Submission {
  view: JobView;
  /** `false` when an `Idempotency-Key` replay returned an existing job. */
  created: boolean;
  cache: CacheOutcome;
}

/** One entry of a batch answer, in request order. */
export type BatchEntry =
  | { status_code: number; job: JobView }
  | { status_code: number; error: { code: string; message: string; param?: string } };

/**
 * The job submission logic behind `/v1/jobs`: validation, model and task checks, idempotency,
 * backpressure, shard routing, record + enqueue, waiting and cancellation. Framework-free.
 */
export class JobsService {
  private readonly now: () => number;

  constructor(private readonly deps: JobsServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Validates and submits one job. Throws {@link HotpathError}s for every refusal. */
  async submit(tenant: string, body: unknown, opts: { idempotencyKey?: string } = {}): Promise<Submission> {
    const req = parseOrThrow(JobRequestSchema, body);
    const model = this.resolveModel(req);
    const { idempotencyKey } = opts;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'Idempotency-Key must be 1-255 printable ASCII characters without spaces',
        'Idempotency-Key',
      );
    }
    assertRedisReady(this.deps.producer);
    const id = randomUUID();
    if (idempotencyKey !== undefined) {
      const replay = await this.claimIdempotencyKey(tenant, idempotencyKey, id, req);
      if (replay) return replay;
    }
    try {
      const submission = await this.accept(tenant, id, req, model);
      this.count(req, 'accepted');
      return submission;
    } catch (err) {
      this.count(req, 'rejected');
      if (idempotencyKey !== undefined) {
        await this.deps.idempotency.release(tenant, idempotencyKey, id).catch(() => undefined);
      }
      throw err;
    }
  }

  /** Submits each member of a batch on its own; a bad member yields an error entry, not a failed batch. */
  async submitBatch(tenant: string, body: unknown): Promise<BatchEntry[]> {
    const { jobs } = parseOrThrow(BatchJobRequestSchema, body);
    assertRedisReady(this.deps.producer);
    const entries: BatchEntry[] = [];
    for (const job of jobs) {
      try {
        const sub = await this.submit(tenant, job);
        entries.push({ status_code: isTerminal(sub.view.status) ? 200 : 202, job: sub.view });
      } catch (err) {
        const res = toErrorResponse(err);
        entries.push({ status_code: res.status, error: res.body.error });
      }
    }
    return entries;
  }

  /** The tenant's job; 404 for unknown ids and for other tenants' jobs alike. */
  async get(tenant: string, id: string): Promise<JobView> {
    return toJobView(await this.ownRecord(tenant, id));
  }

  /**
   * Long-poll: the job once terminal, or its current state after `seconds` (or when `signal`
   * aborts: client gone, server shutting down).
   */
  async wait(tenant: string, id: string, seconds: number, signal: AbortSignal): Promise<JobView> {
    const rec = await this.ownRecord(tenant, id);
    if (isTerminal(rec.status) || seconds <= 0 || signal.aborted) return toJobView(rec);
    const done = await this.waitForTerminal(id, seconds * 1000, signal);
    if (!done || done.tenant !== tenant) throw notFound(id);
    return toJobView(done);
  }

  /**
   * Cancels a queued job (removed from its queue) or a running one (the worker stops at its next
   * token, told through {@link JOB_CANCEL_CHANNEL}). A finished job cannot be cancelled: 409.
   */
  async cancel(tenant: string, id: string): Promise<JobView> {
    const rec = await this.ownRecord(tenant, id);
    if (isTerminal(rec.status)) throw alreadyFinished(rec);
    if (rec.status === 'queued') {
      await withRedisTimeout(this.deps.queues.remove(rec.model, rec.shard, id), QUEUE_CALL_TIMEOUT_MS);
    }
    const t = await this.deps.store.cancel(id);
    if (!t.applied) {
      const now = await this.deps.store.get(id);
      if (now && isTerminal(now.status)) throw alreadyFinished(now);
      throw notFound(id);
    }
    // Also when it looked queued: a worker may have taken it between our read and the removal.
    await this.deps.producer.publish(JOB_CANCEL_CHANNEL, id);
    const after = await this.deps.store.get(id);
    if (!after) throw notFound(id);
    return toJobView(after);
  }

  private resolveModel(req: JobRequest): ModelConfig {
    const model = findModel(this.deps.config.cluster, req.model);
    if (!model) {
      throw new HotpathError(ErrorCode.ModelNotFound, `model "${req.model}" does not exist`, 'model');
    }
    if (!model.tasks.includes(req.task)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        `model "${model.name}" does not serve task "${req.task}" (it serves: ${model.tasks.join(', ')})`,
        'task',
      );
    }
    return model;
  }

  /** `undefined` when the key is now ours; the existing job when the same request was sent before. */
  private async claimIdempotencyKey(
    tenant: string,
    key: string,
    id: string,
    req: JobRequest,
  ): Promise<Submission | undefined> {
    const claim = await this.deps.idempotency.claim(tenant, key, id, IdempotencyStore.bodyHash(req));
    if (claim.kind === 'claimed') return undefined;
    if (claim.kind === 'mismatch') {
      throw new HotpathError(
        ErrorCode.Conflict,
        'this Idempotency-Key was already used with a different request body',
        'Idempotency-Key',
      );
    }
    const existing = await this.deps.store.get(claim.jobId);
    if (!existing || existing.tenant !== tenant) {
      throw new HotpathError(
        ErrorCode.Conflict,
        'the job of this Idempotency-Key is still being created or has expired',
        'Idempotency-Key',
      );
    }
    return { view: toJobView(existing), created: false, cache: req.cache === 'bypass' ? 'bypass' : 'miss' };
  }

  private async accept(tenant: string, id: string, req: JobRequest, model: ModelConfig): Promise<Submission> {
    const { config, store, queues } = this.deps;
    const cache = await this.deps.cache.lookup(tenant, req, model);
    const backlog = await withRedisTimeout(queues.backlog(model.name, model.shards), QUEUE_CALL_TIMEOUT_MS);
    if (backlog >= model.max_waiting) {
      throw new HotpathError(
        ErrorCode.QueueFull,
        `model "${model.name}" has ${backlog} jobs waiting (limit ${model.max_waiting}); retry later`,
        undefined,
        QUEUE_FULL_RETRY_AFTER_S,
      );
    }
    const job: NewJob = {
      id,
      tenant,
      request: req,
      model,
      shard: shardOf(req, model, config.cluster.routing.prefix_chars),
      now: this.now(),
    };
    const record = queuedRecord(job);
    await store.create(record);
    try {
      await withRedisTimeout(
        queues.enqueue(queuedPayload(job), {
          attempts: config.cluster.queue.attempts,
          backoff_ms: config.cluster.queue.backoff_ms,
        }),
        QUEUE_CALL_TIMEOUT_MS,
      );
    } catch {
      // A record without a queued job would stay "queued" forever.
      await store.delete(id).catch(() => undefined);
      throw redisUnavailable('the job could not be enqueued; retry later');
    }
    return { view: toJobView(record), created: true, cache: cache.outcome };
  }

  private async ownRecord(tenant: string, id: string): Promise<JobRecord> {
    assertRedisReady(this.deps.producer);
    const rec = await this.deps.store.get(id);
    if (!rec || rec.tenant !== tenant) throw notFound(id);
    return rec;
  }

  /**
   * {@link JobWaiter.waitForTerminal}, bounded once more: its first call subscribes, and a
   * subscription waits for Redis indefinitely. After the bound, the record is read directly.
   */
  private async waitForTerminal(id: string, ms: number, signal: AbortSignal): Promise<JobRecord | undefined> {
    const bound = new AbortController();
    const timer = setTimeout(() => bound.abort(), ms + 1000);
    const either = AbortSignal.any([signal, bound.signal]);
    let settled = false;
    const fallback = new Promise<void>((resolve) =>
      either.addEventListener('abort', () => resolve(), { once: true }),
    ).then(() => (settled ? undefined : this.deps.store.get(id)));
    try {
      return await Promise.race([this.deps.waiter.waitForTerminal(id, ms, either), fallback]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  private count(req: JobRequest, outcome: 'accepted' | 'rejected'): void {
    this.deps.metrics.jobsTotal.inc({ model: req.model, task: req.task, outcome });
  }
}

function notFound(id: string): HotpathError {
  return new HotpathError(ErrorCode.NotFound, `job "${id.slice(0, 64)}" not found`);
}

function alreadyFinished(rec: JobRecord): HotpathError {
  return new HotpathError(ErrorCode.Conflict, `job "${rec.id}" is already ${rec.status}`);
}
