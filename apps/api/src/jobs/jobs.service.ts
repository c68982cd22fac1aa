import { randomUUID } from 'node:crypto';
import {
  BatchJobRequestSchema,
  ErrorCode,
  HotpathError,
  JobRequestSchema,
  type BatchEntry,
  type JobRequest,
  type JobView,
  type ModelConfig,
  type QueuedJob,
  fairLookahead,
  shardQueueName,
} from '@hotpath/contracts';
import { TenantSettings, findModel, tenantMetricLabel, variantNames } from '@hotpath/config';
import {
  AdmissionGate,
  FairQueue,
  RateLimiter,
  UsageStore,
  countsAsRunning,
  JobIndex,
  decodeCursor,
  type AvailabilityCache,
  IdempotencyStore,
  FAIR_WAITING_CHANNEL,
  fairHeldMessage,
  fairWaitingMessage,
  JOB_CANCEL_CHANNEL,
  ModelInputLimitsStore,
  WebhookSecrets,
  isTerminal,
  minTokens,
  toJobView,
  type JobListPage,
  type JobListQuery,
  type JobRecord,
  type JobStore,
  type JobWaiter,
  type RedisClient,
  type ShardQueues,
  type RemoveOutcome,
  ShardLane,
  durabilityOf,
  retrySettings,
} from '@hotpath/queue';
import {
  Attr,
  ROOT_CONTEXT,
  SpanKind,
  injectTraceContext,
  withSpan,
  type Context,
  type HotpathMetrics,
  type TenantMetrics,
  tenantMetrics,
} from '@hotpath/telemetry';
import type { ApiConfig } from '../config/api-config';
import { toErrorResponse } from '../errors/error-mapping';
import { isRedisConnectionError } from '../errors/redis-errors';
import { assertRedisReady, redisUnavailable, withRedisTimeout } from '../redis/redis-availability';
import { queuedPayload, queuedRecord, shardOf, type NewJob } from './job-builders';
import { parseOrThrow } from './request-validation';
import type { SingleFlight } from '@hotpath/cache';
import type { CacheLookupResult, CacheOutcome, ResultCacheLookup } from './result-cache-lookup';
import type { WebhookNotifier } from '../webhooks/webhook-notifier';
import { BacklogEstimate } from './backlog-estimate';
import { AdmissionLeases } from './admission-leases';
import { TenantGate } from '../tenancy/tenant-gate';

/** BullMQ calls can wait for a connection instead of failing; an HTTP request must not. */
const QUEUE_CALL_TIMEOUT_MS = 3000;
const QUEUE_FULL_RETRY_AFTER_S = 1;
/** A worker that starts announces itself within a heartbeat: retrying sooner than that is futile. */
const UNSERVED_RETRY_AFTER_S = 5;
/** How long a request waits for the record of a job another request just claimed. */
const CLAIMED_RECORD_WAIT_MS = 2000;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
/** A batch's key leaves room for the `:<index>` of its members. */
const BATCH_IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,250}$/;

/** Everything the service works with; passed in so tests can build it without Nest. */
export interface JobsServiceDeps {
  config: ApiConfig;
  producer: RedisClient;
  store: JobStore;
  queues: ShardQueues;
  idempotency: IdempotencyStore;
  waiter: JobWaiter;
  metrics: HotpathMetrics;
  cache: ResultCacheLookup;
  flights: SingleFlight;
  /** Validates webhook targets and notifies on cache hits; absent = webhooks unchecked. */
  webhooks?: WebhookNotifier;
  /** Tenant weights and limits (reloadable); defaults to the cluster config's `tenants`. */
  tenants?: TenantSettings;
  /** Live workers per model and shard; absent = every job is queued whether or not one is served. */
  availability?: AvailabilityCache;
  /** Where cache hits and refusals are counted (buffered in the app); absent = written per event. */
  usage?: UsageStore;
  now?: () => number;
}

/** How a caller submits: replay protection, single-flight opt-out and the request's trace context. */
export interface SubmitOptions {
  idempotencyKey?: string;
  solo?: boolean;
  trace?: Context;
  /** The caller streams the job's tokens: its worker writes token events from the first one. */
  watched?: boolean;
  /** `chat`: an OpenAI chat request (its prompt rendered by the API), named so on the job's GenAI span. */
  operation?: 'chat';
}

/** The outcome of one accepted submission. */
export interface Submission {
  view: JobView;
  /** `true` when an `Idempotency-Key` replay returned an existing job. */
  replayed: boolean;
  cache: CacheOutcome;
  /** OpenAI's `x-ratelimit-*` headers when the tenant has a rate limit. */
  rateLimit?: Record<string, string>;
}

/** How a cacheable submission joins the single-flight of its key. */
type FlightRole = { kind: 'leader' } | { kind: 'follower'; record: JobRecord } | { kind: 'independent' };

/**
 * The job submission logic behind `/v1/jobs`: validation, model and task checks, idempotency,
 * backpressure, shard routing, record + enqueue, waiting and cancellation. Framework-free.
 */
export class JobsService {
  private readonly now: () => number;
  private readonly backlog: BacklogEstimate;
  private readonly admission: AdmissionGate;
  private readonly leases: AdmissionLeases;
  private readonly inputLimits: ModelInputLimitsStore;
  private readonly webhookSecrets: WebhookSecrets;
  private readonly tenants: TenantSettings;
  private readonly fair: FairQueue;
  private readonly lane: ShardLane;
  private readonly usage: UsageStore;
  private readonly gate: TenantGate;
  private readonly tenantMetrics: TenantMetrics;
  private readonly knownTenants: ReadonlySet<string>;
  private readonly index: JobIndex;

  constructor(private readonly deps: JobsServiceDeps) {
    this.now = deps.now ?? Date.now;
    this.backlog = new BacklogEstimate((model, shards) => deps.queues.backlog(model, shards));
    this.admission = new AdmissionGate(deps.producer);
    // A lease not given back frees itself after the reservation TTL.
    this.leases = new AdmissionLeases(this.admission);
    this.tenants = deps.tenants ?? new TenantSettings(deps.config.cluster.tenants);
    this.fair = new FairQueue(deps.producer, this.now);
    this.lane = new ShardLane(deps.producer, durabilityOf(deps.config.redis), this.now);
    this.usage =
      deps.usage ?? new UsageStore(deps.producer, () => this.tenants.current().usage_retention_s, this.now);
    this.tenantMetrics = tenantMetrics(deps.metrics.registry);
    this.knownTenants = new Set(['default', ...deps.config.auth.keys.map((k) => k.tenant)]);
    this.gate = new TenantGate({
      limiter: new RateLimiter(deps.producer),
      settings: this.tenants,
      metrics: this.tenantMetrics,
      usage: this.usage,
      known: this.knownTenants,
    });
    this.inputLimits = new ModelInputLimitsStore(deps.producer);
    this.webhookSecrets = new WebhookSecrets(deps.producer);
    this.index = new JobIndex(deps.producer, deps.store);
  }

  /**
   * Validates and submits one job. Throws {@link HotpathError}s for every refusal. `solo` keeps the
   * job out of single-flight (it neither leads nor follows; the cache is still read and filled):
   * for callers that may cancel their job, such as streams cancelled by a disconnect. `trace` is the
   * request's SERVER span context: the cache lookup and the enqueue (PRODUCER) spans are its children.
   */
  async submit(tenant: string, body: unknown, opts: SubmitOptions = {}): Promise<Submission> {
    const req = parseOrThrow(JobRequestSchema, body);
    const model = this.resolveModel(req);
    await this.checkInputSize(req, model);
    if (req.webhook) this.deps.webhooks?.check(req.webhook);
    const { idempotencyKey } = opts;
    if (idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'Idempotency-Key must be 1-255 printable ASCII characters without spaces',
        'Idempotency-Key',
      );
    }
    assertRedisReady(this.deps.producer);
    const rateLimit = await withRedisTimeout(this.gate.admit(tenant, req, model), QUEUE_CALL_TIMEOUT_MS);
    const id = randomUUID();
    if (idempotencyKey !== undefined) {
      const replay = await this.claimIdempotencyKey(tenant, idempotencyKey, id, req);
      if (replay) return rateLimit ? { ...replay, rateLimit } : replay;
    }
    try {
      const submission = await this.accept(tenant, id, req, model, {
        solo: opts.solo === true,
        trace: opts.trace ?? ROOT_CONTEXT,
        watched: opts.watched === true || (req.task === 'generate' && req.stream === true),
        ...(opts.operation ? { operation: opts.operation } : {}),
      });
      // A cache hit is finished on arrival and no worker runs it: its webhook is scheduled here.
      if (req.webhook && submission.cache === 'hit')
        await this.deps.webhooks?.finished(submission.view, req.webhook, opts.trace);
      this.count(req, 'accepted');
      return rateLimit ? { ...submission, rateLimit } : submission;
    } catch (err) {
      this.count(req, 'rejected');
      if (idempotencyKey !== undefined) {
        await this.deps.idempotency.release(tenant, idempotencyKey, id).catch(() => undefined);
      }
      throw err;
    }
  }

  /**
   * Submits each member of a batch on its own; a bad member yields an error entry, not a failed
   * batch. An `Idempotency-Key` covers the whole batch: member i is submitted under `<key>:<i>`, so
   * a retried batch gets its members' existing jobs back (a member whose body changed gets a 409).
   */
  async submitBatch(
    tenant: string,
    body: unknown,
    trace: Context = ROOT_CONTEXT,
    idempotencyKey?: string,
  ): Promise<BatchEntry[]> {
    const { jobs } = parseOrThrow(BatchJobRequestSchema, body);
    if (idempotencyKey !== undefined && !BATCH_IDEMPOTENCY_KEY.test(idempotencyKey)) {
      throw new HotpathError(
        ErrorCode.InvalidRequest,
        'Idempotency-Key of a batch must be 1-250 printable ASCII characters without spaces',
        'Idempotency-Key',
      );
    }
    assertRedisReady(this.deps.producer);
    const entries: BatchEntry[] = [];
    for (const [i, job] of jobs.entries()) {
      try {
        const sub = await this.submit(tenant, job, {
          trace,
          ...(idempotencyKey !== undefined ? { idempotencyKey: `${idempotencyKey}:${i}` } : {}),
        });
        entries.push({ status_code: isTerminal(sub.view.status) ? 200 : 202, job: sub.view });
      } catch (err) {
        const res = toErrorResponse(err);
        entries.push({ status_code: res.status, error: res.body.error });
      }
    }
    return entries;
  }

  /**
   * A page of jobs, newest first: the tenant's own, or every tenant's when `tenant` is undefined
   * (operators). An unknown cursor is a 400.
   */
  async list(tenant: string | undefined, q: Omit<JobListQuery, 'tenant'>): Promise<JobListPage> {
    assertRedisReady(this.deps.producer);
    if (q.cursor !== undefined) {
      try {
        decodeCursor(q.cursor);
      } catch {
        throw new HotpathError(
          ErrorCode.InvalidRequest,
          'cursor is not a next_cursor of this listing',
          'cursor',
        );
      }
    }
    return withRedisTimeout(
      this.index.list({ ...q, ...(tenant !== undefined ? { tenant } : {}) }),
      QUEUE_CALL_TIMEOUT_MS,
    );
  }

  /** The tenant's job; 404 for unknown ids and for other tenants' jobs alike. */
  async get(tenant: string, id: string): Promise<JobView> {
    return toJobView(await this.ownRecord(tenant, id));
  }

  /**
   * Long-poll: the job once terminal, or its current state after `seconds` (or when `signal`
   * aborts: client gone, server shutting down). Redis trouble during the wait answers the last
   * state seen (or `lastKnown`) instead of failing.
   */
  async wait(
    tenant: string,
    id: string,
    seconds: number,
    signal: AbortSignal,
    lastKnown?: JobView,
  ): Promise<JobView> {
    let known = lastKnown;
    try {
      assertRedisReady(this.deps.producer);
      // The waiter's first read doubles as the ownership check: another tenant's job stops the wait
      // at once (and answers 404 like an unknown id), so no extra read per waited job.
      const rec = await this.waitForTerminal(id, Math.max(0, seconds) * 1000, signal, (r) => {
        if (r.tenant !== tenant) return true;
        known = toJobView(r);
        return false;
      });
      if (!rec || rec.tenant !== tenant) throw notFound(id);
      return toJobView(rec);
    } catch (err) {
      // A job that was accepted is answered with, Redis or not: a 5xx would make clients (the
      // OpenAI SDKs among them) submit it again.
      // A long-poll whose first read succeeded answers that state too.
      if (known && isRedisFailure(err)) return known;
      throw err;
    }
  }

  /**
   * Cancels a queued job (removed from its queue) or a running one (the worker stops at its next
   * token, told through {@link JOB_CANCEL_CHANNEL}). A finished job cannot be cancelled: 409.
   */
  async cancel(tenant: string, id: string): Promise<JobView> {
    const rec = await this.ownRecord(tenant, id);
    if (isTerminal(rec.status)) throw alreadyFinished(rec);
    if (rec.status === 'queued') await withRedisTimeout(this.removeQueued(rec), QUEUE_CALL_TIMEOUT_MS);
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
    const model = findModel(this.deps.config.cluster, req.model, req.variant);
    if (!model) {
      const known = findModel(this.deps.config.cluster, req.model.split('@')[0] as string);
      if (known && (req.variant !== undefined || req.model.includes('@')))
        throw new HotpathError(
          ErrorCode.ModelNotFound,
          `model "${known.variant_of ?? known.name}" has no variant "${req.variant ?? req.model.split('@')[1]}" (${variantNames(this.deps.config.cluster, known)})`,
          'variant',
        );
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

  /**
   * Refuses input whose work is out of bounds before it is queued: embed requests over
   * `api.max_embed_chars` in total, and prompts that cannot fit the model's context (a cheap bound
   * from their UTF-8 length and the longest vocabulary piece, published by the workers serving the
   * model; the worker counts exactly whatever passes).
   */
  private async checkInputSize(req: JobRequest, model: ModelConfig): Promise<void> {
    if (req.task === 'embed') {
      const max = this.deps.config.cluster.api.max_embed_chars;
      const total = req.input.texts.reduce((n, t) => n + t.length, 0);
      if (total > max) {
        throw new HotpathError(
          ErrorCode.InvalidRequest,
          `input.texts hold ${total} characters in total; at most ${max} per request (api.max_embed_chars)`,
          'input.texts',
        );
      }
      return;
    }
    const limits = await this.inputLimits.current(model.name).catch(() => undefined);
    if (!limits) return;
    const least = minTokens(req.input.prompt, limits);
    if (least >= limits.context_tokens) {
      throw new HotpathError(
        ErrorCode.InvalidInput,
        `the prompt is at least ${least} tokens; model "${model.name}" has a context of ${limits.context_tokens}`,
        'input.prompt',
      );
    }
  }

  /**
   * `undefined` when the key is now ours; the existing job when the same request was sent before.
   * A key whose job record is gone (expired, or lost with Redis data) is taken over: the request
   * is created again, as a first submission would be.
   */
  private async claimIdempotencyKey(
    tenant: string,
    key: string,
    id: string,
    req: JobRequest,
  ): Promise<Submission | undefined> {
    const hash = IdempotencyStore.bodyHash(req);
    for (let round = 0; round < 3; round++) {
      const claim = await this.deps.idempotency.claim(tenant, key, id, hash);
      if (claim.kind === 'claimed') return undefined;
      if (claim.kind === 'mismatch') {
        throw new HotpathError(
          ErrorCode.Conflict,
          'this Idempotency-Key was already used with a different request body',
          'Idempotency-Key',
        );
      }
      const existing = await this.recordOf(claim.jobId);
      if (existing && existing.tenant === tenant) {
        return {
          view: toJobView(existing),
          replayed: true,
          cache: req.cache === 'bypass' ? 'bypass' : 'miss',
        };
      }
      if (existing) break;
      if (await this.deps.idempotency.takeOver(tenant, key, claim.jobId, id, hash)) return undefined;
      // Another retry took the key over first: its job is the one to answer with.
    }
    throw new HotpathError(
      ErrorCode.Conflict,
      'the job of this Idempotency-Key is still being created; retry',
      'Idempotency-Key',
    );
  }

  private async accept(
    tenant: string,
    id: string,
    req: JobRequest,
    model: ModelConfig,
    {
      solo,
      trace,
      watched,
      operation,
    }: { solo: boolean; trace: Context; watched: boolean; operation?: 'chat' },
  ): Promise<Submission> {
    // A request the cache cannot serve (cache off, `cache: "bypass"`, sampling) gets no lookup span:
    // nothing is looked up, and a span per job for nothing is a cost at 100% sampling.
    const cache = !this.deps.cache.consulted(req, model)
      ? ({ outcome: 'bypass' } as const)
      : await withSpan(
          'cache.lookup',
          { parent: trace, attributes: { [Attr.genAiRequestModel]: model.name, [Attr.task]: req.task } },
          async (span) => {
            const found = await this.deps.cache.lookup(tenant, req, model);
            span.setAttribute(Attr.cacheResult, found.outcome);
            return found;
          },
        );
    if (cache.outcome === 'hit') return this.answerFromCache(tenant, id, req, model, cache);
    if (cache.outcome === 'bypass') {
      this.countCache(model, 'bypass');
      return this.enqueueNew(tenant, id, req, model, undefined, { trace, watched, operation });
    }
    const role: FlightRole = solo
      ? { kind: 'independent' }
      : await this.joinFlight(tenant, id, model.name, cache.key);
    // A job with a webhook runs itself rather than follow: only its own job would notify its URL.
    if (role.kind === 'follower' && !req.webhook) {
      this.countCache(model, 'coalesced');
      return { view: toJobView(role.record), replayed: false, cache: 'coalesced' };
    }
    if (role.kind === 'leader') {
      // The previous leader may have filled the entry and landed its flight between our lookup and
      // our claim: look again, or an identical request would run the model a second time.
      const again = await this.deps.cache.lookup(tenant, req, model);
      if (again.outcome === 'hit') {
        await this.deps.flights.land(model.name, cache.key, id).catch(() => undefined);
        return this.answerFromCache(tenant, id, req, model, again);
      }
    }
    this.countCache(model, 'miss');
    try {
      const fills = role.kind !== 'independent' || solo;
      return await this.enqueueNew(tenant, id, req, model, fills ? cache : undefined, {
        trace,
        watched,
        operation,
      });
    } catch (err) {
      // Followers must not attach to a job that was never accepted.
      if (role.kind === 'leader')
        await this.deps.flights.land(model.name, cache.key, id).catch(() => undefined);
      throw err;
    }
  }

  /** A hit becomes a job born completed (`cached: true`), so GET and idempotency work as for any job. */
  private async answerFromCache(
    tenant: string,
    id: string,
    req: JobRequest,
    model: ModelConfig,
    hit: Extract<CacheLookupResult, { outcome: 'hit' }>,
  ): Promise<Submission> {
    const record = queuedRecord({
      id,
      tenant,
      request: req,
      model,
      shard: shardOf(req, model, this.deps.config.cluster.routing.prefix_chars),
      now: this.now(),
    });
    const total = Math.max(0, this.now() - record.createdAt);
    const done = {
      result: hit.entry.result,
      usage: hit.entry.usage,
      timings: { queue: 0, batch_wait: 0, inference: 0, total },
      cached: true,
    };
    await Promise.all([this.deps.store.createCompleted(record, done), this.indexed(record)]);
    this.countCache(model, 'hit');
    this.tenantMetrics.jobs.inc({
      tenant: this.tenantLabel(tenant),
      model: model.name,
      outcome: 'cache_hit',
    });
    await this.usage.add(tenant, model.name, { cache_hits: 1 }).catch(() => undefined);
    const finished = {
      ...record,
      ...done,
      status: 'completed' as const,
      startedAt: record.createdAt,
      finishedAt: this.now(),
    };
    return { view: toJobView(finished), replayed: false, cache: 'hit' };
  }

  /**
   * Single-flight: the first request for a key leads and runs; identical requests while it is queued
   * or running get the leader's job. A leader that failed, was cancelled or expired is taken over.
   * With `global` cache scope the leader may belong to another tenant, whose job this tenant may not
   * read: such a request runs on its own (it will still be a cache hit once the leader finishes).
   */
  private async joinFlight(tenant: string, id: string, model: string, key: string): Promise<FlightRole> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const claim = await this.deps.flights.claim(model, key, id);
      if (claim.kind === 'leader') return claim;
      const leader = await this.recordOf(claim.jobId);
      const alive = leader !== undefined && leader.status !== 'failed' && leader.status !== 'cancelled';
      if (alive)
        return leader.tenant === tenant ? { kind: 'follower', record: leader } : { kind: 'independent' };
      if (await this.deps.flights.takeover(model, key, claim.jobId, id)) return { kind: 'leader' };
    }
    return { kind: 'independent' };
  }

  /**
   * The record of a job another request claimed (a single-flight leader, or the first use of an
   * Idempotency-Key). Claims are taken just before the record is written, so a request that arrives
   * in between waits briefly instead of mistaking a job being created for a dead or expired one.
   */
  private async recordOf(jobId: string): Promise<JobRecord | undefined> {
    const deadline = this.now() + CLAIMED_RECORD_WAIT_MS;
    for (;;) {
      const rec = await this.deps.store.get(jobId);
      if (rec || this.now() >= deadline) return rec;
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private async enqueueNew(
    tenant: string,
    id: string,
    req: JobRequest,
    model: ModelConfig,
    cache: { key: string; digest: string } | undefined,
    how: { trace: Context; watched: boolean; operation?: 'chat' },
  ): Promise<Submission> {
    await this.assertServed(model, shardOf(req, model, this.deps.config.cluster.routing.prefix_chars));
    // The per-process estimate turns a full queue away without a Redis call; the gate decides
    // atomically for everyone else, so concurrent submissions through any replica cannot overshoot.
    const estimate = await withRedisTimeout(
      this.backlog.current(model.name, model.shards, model.max_waiting),
      QUEUE_CALL_TIMEOUT_MS,
    );
    if (estimate >= model.max_waiting) throw queueFull(model, estimate);
    const shard = shardOf(req, model, this.deps.config.cluster.routing.prefix_chars);
    // Far below the limit, a place comes from this process's lease (one gate call per block of jobs).
    const ticket = await withRedisTimeout(
      this.leases.take(model.name, model.shards, model.max_waiting, estimate),
      QUEUE_CALL_TIMEOUT_MS,
    ).catch(() => undefined);
    if (ticket) {
      try {
        return await this.createAndEnqueue(tenant, id, req, model, shard, cache, how);
      } finally {
        ticket.release();
      }
    }
    const gate = await withRedisTimeout(
      this.admission.reserve(model.name, model.shards, shard, id, model.max_waiting),
      QUEUE_CALL_TIMEOUT_MS,
    );
    if (!gate.admitted) throw queueFull(model, gate.backlog);
    try {
      return await this.createAndEnqueue(tenant, id, req, model, shard, cache, how);
    } finally {
      // Once added, the queue counts the job itself; a failed add frees its place.
      void this.admission.release(model.name, shard, id).catch(() => undefined);
    }
  }

  private async createAndEnqueue(
    tenant: string,
    id: string,
    req: JobRequest,
    model: ModelConfig,
    shard: number,
    cache: { key: string; digest: string } | undefined,
    { trace, watched, operation }: { trace: Context; watched: boolean; operation?: 'chat' },
  ): Promise<Submission> {
    const { store } = this.deps;
    const job: NewJob = {
      id,
      tenant,
      request: req,
      model,
      shard,
      now: this.now(),
      ...(cache ? { cacheKey: cache.key, modelDigest: cache.digest } : {}),
    };
    const record = queuedRecord(job);
    await Promise.all([store.create({ ...record, watched }), this.indexed(record)]);
    try {
      // Kept apart from the BullMQ payload, which only names the URL.
      if (req.webhook) await this.webhookSecrets.put(id, req.webhook.secret);
      const queue = shardQueueName(model.name, job.shard);
      await withSpan(
        `send ${queue}`,
        {
          parent: trace,
          kind: SpanKind.PRODUCER,
          attributes: {
            [Attr.messagingSystem]: 'bullmq',
            [Attr.messagingDestination]: queue,
            [Attr.messagingOperationType]: 'send',
            [Attr.messagingMessageId]: id,
            [Attr.priority]: req.priority,
          },
        },
        // The payload carries this span's context, so the worker's CONSUMER span continues the trace.
        // With HOTPATH_REDIS_WAIT_REPLICAS, the record and the queue entry are each acknowledged by
        // replicas (concurrently) before the 202: a master lost after it cannot take the job along.
        (_span, producer) =>
          withRedisTimeout(
            Promise.all([
              this.send(
                tenant,
                {
                  ...queuedPayload(job),
                  ...(operation ? { operation } : {}),
                  trace: injectTraceContext(producer),
                },
                model,
              ),
              store.durable(id),
            ]),
            QUEUE_CALL_TIMEOUT_MS,
          ),
      );
      this.backlog.accepted(model.name);
    } catch (err) {
      // A record without a queued job would stay "queued" forever.
      await store.delete(id).catch(() => undefined);
      if (err instanceof HotpathError && err.code === ErrorCode.RateLimited) throw err;
      throw redisUnavailable('the job could not be enqueued; retry later');
    }
    return { view: toJobView(record), replayed: false, cache: cache ? 'miss' : 'bypass' };
  }

  /**
   * Hands a job to its shard: through the tenant's fair queue when the model has fairness on
   * (straight to BullMQ when nothing waits there), else straight to BullMQ.
   */
  private async send(tenant: string, job: QueuedJob, model: ModelConfig): Promise<void> {
    const retry = retrySettings(this.deps.config.cluster.queue);
    const direct = this.deps.config.cluster.queue.direct_lane;
    if (!model.fairness.enabled) {
      // The lane while the shard has no backlog (bounded by one worker's slots), BullMQ behind one.
      if (direct && (await this.lane.add(job, { bound: model.concurrency }))) return;
      return this.deps.queues.enqueue(job, retry);
    }
    const limits = this.gate.limits(tenant);
    const elsewhere =
      limits.max_queued === undefined
        ? 0
        : await this.fair.tenantWaitingElsewhere(model.name, model.shards, job.shard, tenant);
    const admission = await this.fair.enqueue(
      job,
      {
        tenant,
        weight: limits.weight,
        ...(limits.max_running !== undefined ? { maxRunning: limits.max_running } : {}),
        ...(limits.max_queued !== undefined
          ? { maxQueuedHere: Math.max(0, limits.max_queued - elsewhere) }
          : {}),
      },
      fairLookahead(model),
    );
    if (admission.kind === 'full') {
      throw await this.gate.overQueued(
        tenant,
        model.name,
        admission.queued + elsewhere,
        limits.max_queued ?? 0,
      );
    }
    if (admission.kind === 'queued') {
      // Workers that saw this shard's fair queue empty run no hand-off round until told (or their tick).
      if (admission.first)
        void this.deps.producer
          .publish(FAIR_WAITING_CHANNEL, fairWaitingMessage(model.name, job.shard))
          .catch(() => undefined);
      return;
    }
    try {
      const held = admission.held === true;
      const payload: QueuedJob = admission.counted ? job : { ...job, fair_uncounted: true as const };
      if (direct) await this.lane.add(payload, { front: held });
      else await this.deps.queues.enqueue(payload, retry, held);
      // The worker holding the slot gives it back now, to this job.
      if (held)
        void this.deps.producer
          .publish(FAIR_WAITING_CHANNEL, fairHeldMessage(model.name, job.shard, tenant))
          .catch(() => undefined);
    } catch (err) {
      if (admission.counted) await this.fair.release(model.name, job.shard, tenant).catch(() => undefined);
      throw err;
    } finally {
      // Not awaited: an unconfirmed entry only holds a lookahead place until it is reclaimed.
      void this.fair.confirm(model.name, job.shard, job.id).catch(() => undefined);
    }
  }

  /** Takes a queued job out of its fair queue, its shard's direct lane or its BullMQ queue (a cancel). */
  private async removeQueued(rec: JobRecord): Promise<void> {
    const model = findModel(this.deps.config.cluster, rec.model);
    const fair = model?.fairness.enabled ?? false;
    if (fair && (await this.fair.remove(rec.model, rec.shard, rec.tenant, rec.id))) return;
    const laned = await this.lane.remove(rec.model, rec.shard, rec.id);
    const { outcome, payload }: { outcome: RemoveOutcome; payload?: unknown } =
      laned.outcome === 'missing' ? await this.deps.queues.remove(rec.model, rec.shard, rec.id) : laned;
    // A job removed from BullMQ never finishes on a worker, which would have freed its running place.
    if (fair && outcome === 'removed' && countsAsRunning(payload))
      await this.fair.release(rec.model, rec.shard, rec.tenant);
  }

  private tenantLabel(tenant: string): string {
    return tenantMetricLabel(this.tenants.current(), tenant, this.knownTenants);
  }

  /**
   * Refuses a job no live worker would take (`503 model_unavailable`), unless the model queues
   * anyway (`queue_when_unserved`). A miss is re-read fresh first: a worker may have just started.
   */
  private async assertServed(model: ModelConfig, shard: number): Promise<void> {
    const cache = this.deps.availability;
    if (!cache || model.queue_when_unserved) return;
    const served = async (fresh: boolean): Promise<boolean> => {
      const a = await withRedisTimeout(fresh ? cache.fresh() : cache.current(), QUEUE_CALL_TIMEOUT_MS);
      return a.servesShard(model.name, shard);
    };
    if ((await served(false)) || (await served(true))) return;
    throw new HotpathError(
      ErrorCode.ModelUnavailable,
      `no worker serves model "${model.name}" (shard ${shard}) right now; retry later`,
      'model',
      UNSERVED_RETRY_AFTER_S,
    );
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
  private async waitForTerminal(
    id: string,
    ms: number,
    signal: AbortSignal,
    stopIf?: (rec: JobRecord) => boolean,
  ): Promise<JobRecord | undefined> {
    const bound = new AbortController();
    const timer = setTimeout(() => bound.abort(), ms + 1000);
    const either = AbortSignal.any([signal, bound.signal]);
    let settled = false;
    const fallback = new Promise<void>((resolve) =>
      either.addEventListener('abort', () => resolve(), { once: true }),
    ).then(() => (settled ? undefined : this.deps.store.get(id)));
    try {
      return await Promise.race([this.deps.waiter.waitForTerminal(id, ms, either, stopIf), fallback]);
    } finally {
      settled = true;
      clearTimeout(timer);
    }
  }

  /** Listing is a convenience: a job whose index entry failed is still accepted (and readable by id). */
  private indexed(record: JobRecord): Promise<void> {
    return this.index.add(record.tenant, record.id, record.createdAt).catch(() => undefined);
  }

  private countCache(model: ModelConfig, result: CacheOutcome): void {
    this.deps.metrics.cacheRequests.inc({ model: model.name, result });
  }

  private count(req: JobRequest, outcome: 'accepted' | 'rejected'): void {
    this.deps.metrics.jobsTotal.inc({ model: req.model, task: req.task, stage: 'api', outcome });
  }
}

/** An error that means Redis could not be reached (as opposed to an answer from it). */
export function isRedisFailure(err: unknown): boolean {
  return (
    (err instanceof HotpathError && err.code === ErrorCode.RedisUnavailable) || isRedisConnectionError(err)
  );
}

function queueFull(model: ModelConfig, backlog: number): HotpathError {
  return new HotpathError(
    ErrorCode.QueueFull,
    `model "${model.name}" has ${backlog} jobs waiting (limit ${model.max_waiting}); retry later`,
    undefined,
    QUEUE_FULL_RETRY_AFTER_S,
  );
}

function notFound(id: string): HotpathError {
  return new HotpathError(ErrorCode.NotFound, `job "${id.slice(0, 64)}" not found`);
}

function alreadyFinished(rec: JobRecord): HotpathError {
  return new HotpathError(ErrorCode.Conflict, `job "${rec.id}" is already ${rec.status}`);
}
