import { randomUUID } from 'node:crypto';
import { get } from 'node:http';
import {
  ClusterConfigSchema,
  type ClusterConfig,
  type ClusterConfigInput,
  type Priority,
  type QueuedEmbedJob,
  type QueuedGenerateJob,
  type QueuedJob,
} from '@hotpath/contracts';
import {
  JobStore,
  JobWaiter,
  ShardLane,
  ShardQueues,
  createRedisConnection,
  waitForRedis,
  type JobRecord,
  type RedisClient,
} from '@hotpath/queue';
import type { HotpathMetrics } from '@hotpath/telemetry';
import { startWorker, type WorkerHandle, type WorkerOptions } from '../worker-app';

/** A model name no other test uses, so queue keys never collide on the shared Redis. */
export function uniqueModel(prefix = 't'): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A cluster config tuned for fast tests: 2 s locks, 1 s stalled checks, quick retries. */
export function testCluster(
  models: ClusterConfigInput['models'],
  queue: ClusterConfigInput['queue'] = {},
): ClusterConfig {
  return ClusterConfigSchema.parse({
    models,
    queue: { attempts: 3, backoff_ms: 50, lock_duration_ms: 2000, stalled_interval_ms: 1000, ...queue },
  });
}

/** Starts an in-process worker on a free metrics port with quiet logs; `options` override the rest. */
export function startTestWorker(
  redisUrl: string,
  cluster: ClusterConfig,
  options: Partial<WorkerOptions> = {},
): Promise<WorkerHandle> {
  return startWorker({
    redis: redisUrl,
    cluster,
    shards: 'all',
    metricsHost: '127.0.0.1',
    metricsPort: 0,
    workerId: `test-${randomUUID().slice(0, 8)}`,
    resultTtlS: 120,
    logLevel: 'error',
    queueDepthIntervalMs: 200,
    ...options,
  });
}

/** What a backend test hands a backend directly (no queue): one tenant, shard 0, no deadline. */
const BACKEND_JOB = {
  id: 'j',
  tenant: 't',
  priority: 'normal',
  shard: 0,
  deadline_at: null,
  enqueued_at: 0,
} as const;

/** A generate job as a backend receives it from the job runner. */
export function backendGenerateJob(
  model: string,
  prompt: string,
  params: QueuedGenerateJob['params'] = {},
): QueuedGenerateJob {
  return { ...BACKEND_JOB, model, task: 'generate', input: { prompt }, params };
}

/** An embed job as a backend receives it from the job runner. */
export function backendEmbedJob(model: string, texts: string[]): QueuedEmbedJob {
  return { ...BACKEND_JOB, model, task: 'embed', input: { texts }, params: {} };
}

/** What a test submits; the rest of the queued payload is filled like the API does. */
export interface Submission {
  model: string;
  shard?: number;
  priority?: Priority;
  deadlineAt?: number | null;
  generate?: { prompt: string; max_tokens?: number; seed?: number; stop?: string[] };
  embed?: { texts: string[] };
  /** Through the shard's direct lane (as the API sends a job that finds no backlog), not BullMQ. */
  lane?: boolean;
}

/** The API's side of the queue, for tests: creates records and enqueues jobs exactly as the API does. */
export class TestProducer {
  readonly redis: RedisClient;
  readonly store: JobStore;
  readonly queues: ShardQueues;
  readonly lane: ShardLane;
  private readonly sub: RedisClient;
  private readonly waiter: JobWaiter;

  constructor(
    redisUrl: string,
    private readonly cluster: ClusterConfig,
  ) {
    this.redis = createRedisConnection(redisUrl, 'producer', 'test-producer');
    this.sub = createRedisConnection(redisUrl, 'subscriber', 'test-producer-sub');
    this.store = new JobStore(this.redis, { resultTtlS: 120 });
    this.queues = new ShardQueues(this.redis);
    this.lane = new ShardLane(this.redis);
    this.waiter = new JobWaiter(this.sub, this.store);
  }

  async ready(): Promise<void> {
    await waitForRedis(this.redis, 5000);
  }

  async submit(s: Submission): Promise<string> {
    const id = randomUUID();
    const now = Date.now();
    const shard = s.shard ?? 0;
    const priority = s.priority ?? 'normal';
    const common = {
      id,
      tenant: 'test',
      model: s.model,
      priority,
      shard,
      deadline_at: s.deadlineAt ?? null,
      enqueued_at: now,
    };
    const job: QueuedJob = s.embed
      ? { ...common, task: 'embed', input: { texts: s.embed.texts }, params: {} }
      : {
          ...common,
          task: 'generate',
          input: { prompt: s.generate?.prompt ?? 'hello' },
          params: {
            ...(s.generate?.max_tokens !== undefined ? { max_tokens: s.generate.max_tokens } : {}),
            ...(s.generate?.seed !== undefined ? { seed: s.generate.seed } : {}),
            ...(s.generate?.stop ? { stop: s.generate.stop } : {}),
          },
        };
    await this.store.create({
      id,
      tenant: 'test',
      model: s.model,
      task: job.task,
      priority,
      shard,
      createdAt: now,
    });
    if (s.lane) await this.lane.add(job);
    else
      await this.queues.enqueue(job, {
        attempts: this.cluster.queue.attempts,
        backoff_ms: this.cluster.queue.backoff_ms,
      });
    return id;
  }

  waitForTerminal(id: string, timeoutMs = 10_000): Promise<JobRecord | undefined> {
    return this.waiter.waitForTerminal(id, timeoutMs);
  }

  /** Polls the record until `predicate` holds (bounded). */
  async waitForRecord(
    id: string,
    predicate: (r: JobRecord) => boolean,
    timeoutMs = 5000,
  ): Promise<JobRecord> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.store.get(id);
      if (r && predicate(r)) return r;
      if (Date.now() > until) throw new Error(`record ${id} never matched; last status ${r?.status}`);
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    await this.queues.close();
    this.redis.disconnect();
    this.sub.disconnect();
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true (bounded). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** One series of a metrics registry (what `/metrics` serves), 0 when absent. */
export async function metricValue(
  metrics: HotpathMetrics,
  name: string,
  labels: Record<string, string>,
): Promise<number> {
  const m = (await metrics.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = m?.values.find((x) => Object.entries(labels).every(([k, val]) => x.labels[k] === val));
  return v?.value ?? 0;
}

/** A GET on the worker's metrics/health server. */
export function httpGet(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = get({ host: '127.0.0.1', port, path, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}
