import { readdirSync, statSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { readText, type ReadFile } from './host-cores';

/**
 * Memory this process may use: the cgroup limit (v2 `memory.max`, else v1's `limit_in_bytes`; a
 * Kubernetes memory limit lands here) when below the host's RAM, else the host's RAM.
 */
export function hostMemoryBytes(read: ReadFile = readText, total = totalmem()): number {
  for (const path of ['/sys/fs/cgroup/memory.max', '/sys/fs/cgroup/memory/memory.limit_in_bytes']) {
    try {
      const limit = Number(read(path).trim());
      // "max" (v2) and v1's "no limit" (close to 2^63) both mean the host's RAM.
      if (Number.isFinite(limit) && limit > 0 && limit < total) return limit;
    } catch {
      // no such controller here
    }
  }
  return total;
}

/** Bytes of the files under `dir` (recursively), leaving out Hotpath's own `.hotpath` cache; 0 when missing. */
export function folderBytes(dir: string): number {
  let total = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (e.name !== '.hotpath') total += folderBytes(p);
    } else if (e.isFile()) {
      total += statSync(p).size;
    }
  }
  return total;
}

/**
 * How many replicas of the model in `dir` fit in half of this process's memory, counting each as
 * twice the folder (a replica's sessions can hold the weights twice: the wide and the GQA graph)
 * and leaving the other half to the KV arenas, the prefix cache and the process itself. A folder
 * with several graph variants is counted whole, so the estimate errs towards fewer replicas.
 */
export function replicasThatFit(dir: string | undefined, memory = hostMemoryBytes()): number {
  const bytes = dir ? folderBytes(dir) : 0;
  return bytes > 0 ? memory / 2 / (2 * bytes) : Infinity;
}
