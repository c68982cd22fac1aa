/**
 * Event ids of a job's stream, as readers hand them out (and SSE clients send back in
 * `Last-Event-ID`). An id is either a Redis Stream entry id (`<ms>-<seq>`) or, for the tokens of an
 * entry that holds several, `<entry id>.<k>`: the k-th token of that entry (0-based). The last
 * token of such an entry carries the plain entry id, so "after `<entry id>`" always means "after the
 * whole entry", and a reader that delivers whole entries never hands out a sub-id cursor it cannot
 * resume from.
 */

const EVENT_ID = /^\d{1,20}(-\d{1,20})?(\.\d{1,6})?$/;

/** The largest sequence number of a Redis Stream id (an unsigned 64-bit integer). */
const MAX_SEQ = 18446744073709551615n;

/**
 * Whether `s` is an event id to resume after (`0`, `1712345678901-0`, `1712345678901-0.3`): both
 * numbers within Redis's unsigned 64-bit range (a larger one makes XREAD fail).
 */
export function isStreamId(s: string): boolean {
  if (!EVENT_ID.test(s)) return false;
  const { ms, seq } = parse(s);
  return ms <= MAX_SEQ && seq <= MAX_SEQ;
}

interface ParsedId {
  ms: bigint;
  seq: bigint;
  /** Token index inside the entry; `null` for a plain entry id (after the entry's last token). */
  sub: number | null;
}

function parse(id: string): ParsedId {
  const [entry = '0', sub] = id.split('.');
  const [ms = '0', seq = '0'] = entry.split('-');
  return { ms: BigInt(ms), seq: BigInt(seq), sub: sub === undefined ? null : Number(sub) };
}

/** Orders event ids: by entry, then by token inside an entry (`X.0 < X.1 < X`). */
export function compareStreamIds(a: string, b: string): number {
  const pa = parse(a);
  const pb = parse(b);
  if (pa.ms !== pb.ms) return pa.ms < pb.ms ? -1 : 1;
  if (pa.seq !== pb.seq) return pa.seq < pb.seq ? -1 : 1;
  const sa = pa.sub ?? Infinity;
  const sb = pb.sub ?? Infinity;
  return sa === sb ? 0 : sa < sb ? -1 : 1;
}

/**
 * The Redis Stream id to read after (`XREAD` is exclusive) so that nothing past event id `id` is
 * missed: `id` itself for a plain id; for `X.k` the id just before entry `X`, because the rest of
 * `X` is still to be delivered (the reader drops its first tokens by comparing ids).
 */
export function streamReadCursor(id: string): string {
  const dot = id.indexOf('.');
  if (dot < 0) return id;
  const { ms, seq } = parse(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  return ms > 0n ? `${ms - 1n}-${MAX_SEQ}` : '0';
}

/** The id of the k-th of `count` tokens of stream entry `entryId` (the last one is the entry id). */
export function tokenEventId(entryId: string, k: number, count: number): string {
  return k === count - 1 ? entryId : `${entryId}.${k}`;
}
