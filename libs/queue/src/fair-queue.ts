import type { RedisClient } from './redis-connection';
import { PRIORITY_VALUE, shardQueueKey, type Priority, type QueuedJob } from '@hotpath/contracts';
import {
  FAIR_DISPATCH_LUA,
  FAIR_ENQUEUE_LUA,
  FAIR_HOLD_LUA,
  FAIR_RELEASE_LUA,
  FAIR_REMOVE_LUA,
} from './fair-queue.lua';

/** How old a transit entry (taken from the fair queue, not yet confirmed in BullMQ) must be to be handed out again. */
export const FAIR_RECLAIM_MS = 30_000;

/**
 * Whether a BullMQ job's payload counts in its tenant's running jobs, i.e. whether its end (or its
 * removal) must uncount it: all but those admitted `direct` uncounted (see {@link FairAdmission}).
 */
export function countsAsRunning(payload: unknown): boolean {
  return (payload as { fair_uncounted?: unknown } | undefined)?.fair_uncounted !== true;
}

/**
 * Where the API announces that jobs started to wait in a shard's fair queue (no tenant waited there
 * before): workers whose dispatcher saw the shard empty run a hand-off round at once. While jobs
 * wait, every job start and end runs one anyway, so this is one message per such transition, not
 * per job; a lost message costs at most the dispatcher's tick (1 s).
 */
export const FAIR_WAITING_CHANNEL = 'hp:fair-waiting';

/** The {@link FAIR_WAITING_CHANNEL} message for a shard. */
export function fairWaitingMessage(model: string, shard: number): string {
  return `${model} ${shard}`;
}

/**
 * The {@link FAIR_WAITING_CHANNEL} message that a job of `tenant` went into BullMQ through a slot a
 * worker holds for it (the worker stops holding at once). Its first word keeps workers that only know
 * {@link fairWaitingMessage} from reading it as one.
 */
export function fairHeldMessage(model: string, shard: number, tenant: string): string {
  return `held ${model} ${shard} ${tenant}`;
}

/** A {@link FAIR_WAITING_CHANNEL} message: jobs wait in a shard, or a held slot was taken. */
export type FairChannelMessage =
  | { kind: 'waiting'; model: string; shard: number }
  | { kind: 'held'; model: string; shard: number; tenant: string };

/** Reads a {@link FAIR_WAITING_CHANNEL} message; undefined when it is none of ours. */
export function parseFairChannelMessage(message: string): FairChannelMessage | undefined {
  const words = message.split(' ');
  const held = words[0] === 'held';
  const [model, shard, tenant, ...rest] = held ? words.slice(1) : words;
  const n = Number(shard);
  if (!model || rest.length > 0 || !Number.isInteger(n) || n < 0) return undefined;
  if (!held) return tenant === undefined ? { kind: 'waiting', model, shard: n } : undefined;
  return tenant ? { kind: 'held', model, shard: n, tenant } : undefined;
}

/** A shard's fair-queue key: `hp:{model:shard}:fq:<suffix>`, in the shard's hash tag. */
export function fairKey(model: string, shard: number, suffix: string): string {
  return shardQueueKey(model, shard, `fq:${suffix}`);
}

/**
 * The key whose length is the shard's backlog waiting in its fair queue (not yet in BullMQ): a hash
 * of the payloads of waiting jobs only, counted with `HLEN`, as KEDA's `redis` scaler counts hashes.
 */
export function fairBacklogKey(model: string, shard: number): string {
  return fairKey(model, shard, 'data');
}

/** The KEYS 1-11 every fair-queue script shares (see fair-queue.lua.ts). */
function sharedKeys(model: string, shard: number): string[] {
  return [
    fairKey(model, shard, 'ring'),
    fairKey(model, shard, 'deficit'),
    fairKey(model, shard, 'weight'),
    fairKey(model, shard, 'maxrun'),
    fairKey(model, shard, 'inflight'),
    fairKey(model, shard, 'data'),
    fairKey(model, shard, 'count'),
    fairKey(model, shard, 'transit'),
    shardQueueKey(model, shard, 'wait'),
    shardQueueKey(model, shard, 'prioritized'),
    fairKey(model, shard, 'handoff'),
  ];
}

/** Jobs waiting in a shard's fair queue, not yet in BullMQ (one single-slot read). */
export async function fairWaiting(redis: RedisClient, model: string, shard: number): Promise<number> {
  return await redis.hlen(fairBacklogKey(model, shard));
}

/** How a submission entered the fair queue. */
export type FairAdmission =
  /**
   * Nothing waits: the caller adds the job to BullMQ itself, then calls {@link FairQueue.confirm}.
   * `counted`: the job counts as running for its tenant's max_running. A tenant without one is not
   * counted; its job carries `fair_uncounted` so that its end is not uncounted either.
   */
  | {
      kind: 'direct';
      counted: boolean;
      /**
       * Taken through a slot a worker holds for the tenant: add it ahead of the jobs already in
       * BullMQ, then publish {@link fairHeldMessage}.
       */
      held?: boolean;
    }
  /**
   * The job waits in its tenant's queue; `queued` of the tenant's jobs wait in this shard. `first`:
   * no tenant waited in the shard before it, so the workers' dispatchers may not know that jobs wait
   * (publish {@link fairWaitingMessage} on {@link FAIR_WAITING_CHANNEL}).
   */
  | { kind: 'queued'; queued: number; first: boolean }
  /** `max_queued` refused it. */
  | { kind: 'full'; queued: number };

/** What one dispatch call handed out. */
export interface FairDispatch {
  jobs: QueuedJob[];
  /** Tenants with jobs still waiting in the shard after the call. */
  waitingTenants: number;
  /** The first of them, by name (at most FAIR_LISTED_TENANTS). */
  waitingNames: string[];
}

/** The tenant's fair-queue settings a submission carries into Redis. */
export interface FairTenant {
  tenant: string;
  weight: number;
  maxRunning?: number;
  /** Jobs of the tenant that may wait in this shard (max_queued minus those in other shards). */
  maxQueuedHere?: number;
}

interface FairCommands {
  hpFairEnqueue(n: number, ...args: (string | number)[]): Promise<[number, number, number?, number?]>;
  hpFairDispatch(n: number, ...args: (string | number)[]): Promise<(string | string[])[]>;
  hpFairHold(n: number, ...args: (string | number)[]): Promise<number>;
  hpFairRemove(n: number, ...args: (string | number)[]): Promise<number>;
  hpFairRelease(n: number, ...args: (string | number)[]): Promise<number>;
}

/**
 * Fair queuing inside one model shard. Jobs wait in per-tenant sorted sets (priority, then
 * arrival) and move to the shard's BullMQ queue in weighted deficit round-robin order, only as far
 * as `lookahead` jobs ahead of the workers; BullMQ stays the place jobs run from (locks, retries,
 * stalled-job recovery are unchanged). State per shard, all under its hash tag:
 * `ring` (tenants with waiting jobs, in service order), `deficit` and `weight` (per tenant),
 * `maxrun` and `inflight` (max_running and jobs handed to BullMQ, not finished), `data` (payloads
 * of waiting jobs: its HLEN is the backlog autoscalers read, {@link fairBacklogKey}), `count`
 * (waiting jobs, for the admission script), `transit` (taken, add not yet confirmed: handed out
 * again after {@link FAIR_RECLAIM_MS}, so a crashed dispatcher loses no job) and `handoff` (the
 * payloads of those taken jobs).
 */
export class FairQueue {
  private readonly cmd: FairCommands;

  constructor(
    private readonly redis: RedisClient,
    private readonly now: () => number = Date.now,
  ) {
    redis.defineCommand('hpFairEnqueue', { lua: FAIR_ENQUEUE_LUA });
    redis.defineCommand('hpFairDispatch', { lua: FAIR_DISPATCH_LUA });
    redis.defineCommand('hpFairRemove', { lua: FAIR_REMOVE_LUA });
    redis.defineCommand('hpFairRelease', { lua: FAIR_RELEASE_LUA });
    redis.defineCommand('hpFairHold', { lua: FAIR_HOLD_LUA });
    this.cmd = redis as unknown as FairCommands;
  }

  /** Enters a job; see {@link FairAdmission}. */
  async enqueue(job: QueuedJob, who: FairTenant, lookahead: number): Promise<FairAdmission> {
    const keys = [
      ...sharedKeys(job.model, job.shard),
      fairKey(job.model, job.shard, 'seq'),
      fairKey(job.model, job.shard, `q:${job.tenant}`),
      fairKey(job.model, job.shard, `hold:${job.tenant}`),
    ];
    const [kind, queued, first, held] = await this.cmd.hpFairEnqueue(
      keys.length,
      ...keys,
      job.tenant,
      job.id,
      JSON.stringify(job),
      PRIORITY_VALUE[job.priority as Priority],
      who.weight,
      who.maxRunning ?? 0,
      lookahead,
      who.maxQueuedHere ?? -1,
      this.now(),
    );
    if (kind === 1 || kind === 2)
      return held === 1
        ? { kind: 'direct', counted: kind === 1, held: true }
        : { kind: 'direct', counted: kind === 1 };
    return kind === 0 ? { kind: 'queued', queued, first: first === 1 } : { kind: 'full', queued };
  }

  /**
   * Takes the next jobs for BullMQ (see FAIR_DISPATCH_LUA); `finished` are the tenants of jobs
   * that ended since the last call, `added` the ids the caller has added to BullMQ since then;
   * `reclaim` also hands out again what a crashed dispatcher left in transit.
   */
  async dispatch(
    model: string,
    shard: number,
    lookahead: number,
    finished: readonly string[] = [],
    added: readonly string[] = [],
    reclaim = true,
  ): Promise<FairDispatch> {
    const keys = sharedKeys(model, shard);
    const flat = await this.cmd.hpFairDispatch(
      keys.length,
      ...keys,
      fairKey(model, shard, 'q:'),
      lookahead,
      this.now(),
      reclaim ? FAIR_RECLAIM_MS : 0,
      finished.length,
      ...finished,
      ...added,
    );
    const jobs: QueuedJob[] = [];
    for (let i = 1; i < flat.length - 2; i += 2) jobs.push(JSON.parse(flat[i] as string) as QueuedJob);
    const names = flat[flat.length - 2];
    return {
      jobs,
      waitingTenants: Number(flat[flat.length - 1] ?? 0),
      waitingNames: Array.isArray(names) ? names : [],
    };
  }

  /**
   * Holds a freed slot of `model`/`shard` for `tenant`'s next job for `ms` (anticipation): until
   * then the tenant's next submission goes to BullMQ ahead of the other tenants' jobs.
   */
  async hold(model: string, shard: number, tenant: string, ms: number): Promise<void> {
    await this.cmd.hpFairHold(1, fairKey(model, shard, `hold:${tenant}`), Math.max(1, Math.round(ms)));
  }

  /** Removes a job still waiting in its tenant's queue (a cancel); false when it is not there. */
  async remove(model: string, shard: number, tenant: string, id: string): Promise<boolean> {
    const keys = [
      fairKey(model, shard, 'ring'),
      fairKey(model, shard, 'deficit'),
      fairKey(model, shard, 'data'),
      fairKey(model, shard, 'count'),
      fairKey(model, shard, `q:${tenant}`),
    ];
    return (await this.cmd.hpFairRemove(keys.length, ...keys, tenant, id)) === 1;
  }

  /** Confirms that a job admitted `direct` is in BullMQ (or that its add failed): out of transit. */
  async confirm(model: string, shard: number, id: string): Promise<void> {
    await this.redis.zrem(fairKey(model, shard, 'transit'), id);
  }

  /** Uncounts a job of `tenant` counted as running that will not finish on a worker. */
  async release(model: string, shard: number, tenant: string): Promise<void> {
    await this.cmd.hpFairRelease(1, fairKey(model, shard, 'inflight'), tenant);
  }

  /** Jobs of `tenant` waiting in each of the other shards of a model (for max_queued). */
  async tenantWaitingElsewhere(
    model: string,
    shards: number,
    except: number,
    tenant: string,
  ): Promise<number> {
    if (shards <= 1) return 0;
    // One call per shard: the queues live in different slots on a cluster.
    const others = Array.from({ length: shards }, (_, s) => s).filter((s) => s !== except);
    const counts = await Promise.all(others.map((s) => this.redis.zcard(fairKey(model, s, `q:${tenant}`))));
    return counts.reduce((sum, n) => sum + n, 0);
  }
}
