/**
 * Redis Cluster slot arithmetic, so that every multi-key operation can be checked (in unit tests and
 * at the call sites that build key lists) to stay inside one slot. A key's slot is CRC16 (XMODEM) of
 * its hash tag — the text between the first `{` and the next `}` when that is non-empty — or of the
 * whole key, modulo 16384.
 */

export const CLUSTER_SLOTS = 16_384;

const CRC16_TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 8;
    for (let k = 0; k < 8; k++) c = c & 0x8000 ? ((c << 1) ^ 0x1021) & 0xffff : (c << 1) & 0xffff;
    t[i] = c;
  }
  return t;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const b of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ b) & 0xff] ?? 0);
  return crc;
}

/** The part of `key` Redis Cluster hashes: its hash tag when it has a non-empty one, else the whole key. */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** The cluster slot of `key` (0..16383), as `CLUSTER KEYSLOT` computes it. */
export function keySlot(key: string): number {
  return crc16(Buffer.from(hashTagOf(key), 'utf8')) % CLUSTER_SLOTS;
}

/** A key under hash tag `tag`: `hp:<kind>:{<tag>}:<rest...>`; keys of one tag share a slot. */
export function taggedKey(kind: string, tag: string, ...rest: string[]): string {
  return [`hp:${kind}:{${tag}}`, ...rest].join(':');
}

/** Thrown when the keys of one atomic operation would span cluster slots (CROSSSLOT on a cluster). */
export class CrossSlotError extends Error {
  constructor(what: string, keys: readonly string[]) {
    super(`${what}: keys span several Redis Cluster slots: ${keys.slice(0, 4).join(', ')}`);
    this.name = 'CrossSlotError';
  }
}

/** Whether all `keys` hash to one slot (true for zero or one key). */
export function sameSlot(keys: readonly string[]): boolean {
  if (keys.length < 2) return true;
  const first = keySlot(keys[0] ?? '');
  return keys.every((k) => keySlot(k) === first);
}

/** Throws {@link CrossSlotError} unless all `keys` of operation `what` share a slot. */
export function assertSameSlot(what: string, keys: readonly string[]): void {
  if (!sameSlot(keys)) throw new CrossSlotError(what, keys);
}

/** Groups items by the slot of their key, keeping their order inside each group. */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const g = groups.get(slot);
    if (g) g.push(item);
    else groups.set(slot, [item]);
  }
  return groups;
}
