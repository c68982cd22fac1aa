import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Reads a text file (cgroup files here); tests pass their own. */
export type ReadFile = (path: string) => string;
export const readText: ReadFile = (path) => readFileSync(path, 'utf8');

/**
 * The CPU quota of this process's cgroup in cores (cgroup v2 `cpu.max`, else v1's CFS quota), or
 * undefined when there is none. A Kubernetes CPU limit lands here; `os.availableParallelism()`
 * still reports every core of the node, which would oversubscribe a limited pod many times over.
 */
export function cgroupCpuLimit(read: ReadFile = readText): number | undefined {
  try {
    const [quota, period] = read('/sys/fs/cgroup/cpu.max').trim().split(/\s+/);
    if (quota === 'max') return undefined;
    const cores = Number(quota) / Number(period);
    if (Number.isFinite(cores) && cores > 0) return cores;
  } catch {
    // no cgroup v2 controller here: try v1
  }
  try {
    const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim());
    const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us').trim());
    if (quota > 0 && period > 0) return quota / period;
  } catch {
    // no cgroup CPU controller: no limit
  }
  return undefined;
}

/**
 * Cores this process can keep busy: the cores it may run on, lowered to a cgroup CPU limit (whole
 * cores, at least one). The default replica count (`replicas: auto`) and the default intra-op
 * threads are shared out of this.
 */
export function hostCores(read: ReadFile = readText, cores = availableParallelism()): number {
  const limit = cgroupCpuLimit(read);
  return limit === undefined ? cores : Math.max(1, Math.min(cores, Math.floor(limit)));
}
