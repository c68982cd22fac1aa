import { shardQueueName, type JobStatus } from '@hotpath/contracts';
import { tokenEventId } from './job-stream-ids';

/** What names a job's event stream: the job and the shard queue it runs from. */
export interface JobStreamRef {
  id: string;
  model: string;
  shard: number;
}

/**
 * The Redis Stream of one job's events (`status`, `token`, `done`, `error`):
 * `hp:events:{<model>:<shard>}:<id>`. It carries its shard queue's hash tag, so on Redis Cluster the
 * streams of one shard share the queue's slot: one `XREAD` serves every followed job of a shard, and
 * a worker writes a turn's events of a shard in one pipeline. Not under `hp:job:*`, which holds only
 * job record hashes (tools scan it).
 */
export function jobEventsKey(job: JobStreamRef): string {
  return `hp:events:${shardQueueName(job.model, job.shard)}:${job.id}`;
}

/**
 * Pub/Sub channel on which a worker names the job event streams it just appended to (their keys,
 * space-separated), in the same pipeline as the `XADD`s: an API process reads exactly those of
 * them it follows, once, instead of holding a blocking read over every followed stream.
 */
export const JOB_STREAMS_CHANNEL = 'hp:job-streams';

/**
 * Approximate length bound of one job's stream (`XADD MAXLEN ~`): room for the largest generation
 * (`JobLimits.maxTokens` = 4096) on two attempts plus status entries. Trimming is a safety net.
 */
export const JOB_EVENTS_MAXLEN = 10_000;

/** One generated token as it is streamed. */
export interface StreamToken {
  index: number;
  text: string;
  token_id: number;
}

/** One entry of a job's event stream, as the worker writes it. */
export type JobStreamEvent =
  /** The job (re)started (`running`, with its 1-based attempt) or went back to its queue (`queued`). */
  | { type: 'status'; status: JobStatus; attempt?: number }
  | ({ type: 'token' } & StreamToken)
  /**
   * Several consecutive tokens of the job in one entry: what the publisher writes when a job yields
   * more than one token within an event-loop turn (readers expand it into `token` entries).
   */
  | { type: 'tokens'; tokens: StreamToken[] }
  /** The job completed; its record holds the result. */
  | { type: 'done' }
  /** The job ended without a result: failed, deadline passed, or cancelled. */
  | { type: 'error'; code: string; message: string };

/**
 * One event as readers see it, with its event id (usable as an SSE `id`; see `job-stream-ids.ts`):
 * a `tokens` entry is expanded into one `token` event per token.
 */
export type JobStreamEntry = Exclude<JobStreamEvent, { type: 'tokens' }> & { id: string };

/** Field/value pairs of an XADD for `event`: `type` plus a compact JSON `data`. */
export function encodeJobEvent(event: JobStreamEvent): [string, string, string, string] {
  const { type, ...data } = event;
  return ['type', type, 'data', JSON.stringify(data)];
}

/**
 * Decodes one XRANGE/XREAD entry into the events it holds (a `tokens` entry holds several); none for
 * entries this version does not know (written by a newer worker), which readers skip.
 */
export function decodeJobEvents(id: string, fields: readonly string[]): JobStreamEntry[] {
  let type: string | undefined;
  let raw = '{}';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'type') type = fields[i + 1];
    else if (fields[i] === 'data') raw = fields[i + 1] ?? '{}';
  }
  let data: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null) return [];
    data = parsed as Record<string, unknown>;
  } catch {
    return [];
  }
  switch (type) {
    case 'status':
      if (typeof data['status'] !== 'string') return [];
      return [
        {
          id,
          type,
          status: data['status'] as JobStatus,
          ...(typeof data['attempt'] === 'number' ? { attempt: data['attempt'] } : {}),
        },
      ];
    case 'token': {
      const token = decodeToken(data);
      return token ? [{ id, type, ...token }] : [];
    }
    case 'tokens': {
      const list = Array.isArray(data['tokens']) ? (data['tokens'] as unknown[]) : [];
      const tokens = list.flatMap((t) => {
        const token =
          typeof t === 'object' && t !== null ? decodeToken(t as Record<string, unknown>) : undefined;
        return token ? [token] : [];
      });
      return tokens.map((t, k) => ({ id: tokenEventId(id, k, tokens.length), type: 'token', ...t }));
    }
    case 'done':
      return [{ id, type }];
    case 'error':
      return [
        {
          id,
          type,
          code: typeof data['code'] === 'string' ? data['code'] : 'internal_error',
          message: typeof data['message'] === 'string' ? data['message'] : '',
        },
      ];
    default:
      return [];
  }
}

function decodeToken(data: Record<string, unknown>): StreamToken | undefined {
  if (typeof data['index'] !== 'number' || typeof data['text'] !== 'string') return undefined;
  return {
    index: data['index'],
    text: data['text'],
    token_id: typeof data['token_id'] === 'number' ? data['token_id'] : -1,
  };
}
