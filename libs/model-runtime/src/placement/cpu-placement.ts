import { execFile } from 'node:child_process';
import { readFileSync, readlinkSync } from 'node:fs';
import { cgroupCpuLimit } from '../session/host-cores';
import { formatCpuList, parseCpuList } from './cpu-list';

/**
 * `auto`: a single-thread replica gets a core of its own while one is left for everything else;
 * `off`: the kernel places every thread. See docs/engine.md#cpu-placement.
 */
export const CPU_PLACEMENT_MODES = ['auto', 'off'] as const;
export type CpuPlacementMode = (typeof CPU_PLACEMENT_MODES)[number];

/** Sets the CPU affinity of one thread (`all`: every thread of the process `id`). */
export type PinThread = (id: number, cpus: readonly number[], all?: boolean) => Promise<void>;

/** `taskset` of util-linux: Node.js has no binding of `sched_setaffinity`. */
export const tasksetPin: PinThread = (id, cpus, all = false) =>
  new Promise((resolve, reject) => {
    const args = [...(all ? ['-a'] : []), '-pc', formatCpuList(cpus), String(id)];
    execFile('taskset', args, { timeout: 5000 }, (err, _stdout, stderr) => {
      if (!err) return resolve();
      const why =
        (err as NodeJS.ErrnoException).code === 'ENOENT'
          ? 'taskset (util-linux) is not installed'
          : stderr.trim() || err.message;
      reject(new Error(why));
    });
  });

/** The CPUs a process (or `/proc/<pid>/task/<tid>`) may run on; null off Linux. */
export function allowedCpus(proc: number | string = 'self'): number[] | null {
  try {
    const status = readFileSync(`/proc/${proc}/status`, 'utf8');
    const line = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status);
    return line?.[1] ? parseCpuList(line[1]) : null;
  } catch {
    return null;
  }
}

/** The kernel id of the calling thread (Linux; null elsewhere). */
export function currentThreadId(): number | null {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) && tid > 0 ? tid : null;
  } catch {
    return null;
  }
}

/** What a host offers placement: its allowed CPUs and its cgroup CPU quota (cores; none: undefined). */
export interface PlacementHost {
  allowed: number[] | null;
  quota: number | undefined;
}

/** Why `auto` placement stays off on `host`, or null when it may pin. */
export function placementBlocker(host: PlacementHost): string | null {
  if (host.allowed === null) return 'no CPU affinity on this platform';
  if (host.allowed.length < 2) return `one CPU allowed (${formatCpuList(host.allowed)})`;
  if (host.quota !== undefined && host.quota < host.allowed.length) {
    // Under a CFS quota smaller than the CPU set, the cores are shared with other containers by
    // time: a core "of its own" is not ours to give, and pinning would only narrow the scheduler.
    return `a CPU quota of ${host.quota} on ${host.allowed.length} allowed CPUs`;
  }
  return null;
}

/**
 * Process-wide core assignment for replica threads. A single-thread replica runs flat out for as
 * long as it has sequences; on shared cores every wake-up of the main thread, the API or Redis
 * preempts it (measured on 2 cores: 0.2 s/s spent runnable but not running). So while a core would
 * be left for the rest, each replica thread that asks gets the highest free core to itself and the
 * rest of the process (main thread, V8 and libuv threads) is confined to the cores no replica holds.
 * A replica asking when no such core is free runs unpinned, on every allowed core.
 */
export class CpuPlacement {
  private readonly held = new Map<number, number>();
  private restPinned = false;
  private disabled: string | null;

  constructor(
    private readonly host: PlacementHost,
    mode: CpuPlacementMode,
    private readonly log: (line: string) => void = () => undefined,
    private readonly pin: PinThread = tasksetPin,
    private readonly pid = process.pid,
  ) {
    this.disabled = mode === 'off' ? 'off' : placementBlocker(host);
    if (mode === 'auto' && this.disabled !== null) this.log(`cpu placement off: ${this.disabled}`);
  }

  /** Placement for this process on this host. */
  static forHost(mode: CpuPlacementMode, log?: (line: string) => void): CpuPlacement {
    return new CpuPlacement({ allowed: allowedCpus(), quota: cgroupCpuLimit() }, mode, log);
  }

  /** Why nothing is pinned, or null while placement is on. */
  get offReason(): string | null {
    return this.disabled;
  }

  /** The cores no replica holds: where the main thread and its helpers run. */
  get rest(): number[] {
    const held = new Set(this.held.values());
    return (this.host.allowed ?? []).filter((c) => !held.has(c));
  }

  /**
   * Gives each thread of `tids` (the single-thread replicas of one pool) a core of its own, all or
   * none: only when a core stays free beyond them. Returns the cores given, in order, or null when
   * the pool stays unpinned (placement off, or too few cores: half a pool pinned and half crowding
   * the rest would be slower than none). A failed `taskset` turns placement off for the process
   * (said once) and leaves threads where they were.
   */
  async place(tids: readonly number[]): Promise<number[] | null> {
    const allowed = this.host.allowed;
    if (this.disabled !== null || allowed === null || tids.length === 0) return null;
    const free = this.rest;
    try {
      if (free.length <= tids.length) {
        // Threads started after the rest was confined inherited the main thread's cores: give them
        // every allowed core back rather than crowd them onto the rest.
        if (this.restPinned) for (const tid of tids) await this.pin(tid, allowed);
        this.log(
          `cpu placement: ${tids.length} replica thread(s) left unpinned, ${free.length} core(s) free`,
        );
        return null;
      }
      const cores = tids.map((_, k) => free[free.length - 1 - k] as number);
      tids.forEach((tid, k) => this.held.set(tid, cores[k] as number));
      if (!this.restPinned) {
        await this.pin(this.pid, this.rest, true);
        this.restPinned = true;
      }
      for (const [k, tid] of tids.entries()) await this.pin(tid, [cores[k] as number]);
      this.log(
        `cpu placement: replica thread(s) ${tids.join(', ')} on CPU ${cores.join(', ')}; ` +
          `main thread and helpers on ${formatCpuList(this.rest)}`,
      );
      return cores;
    } catch (err) {
      for (const tid of tids) this.held.delete(tid);
      this.disabled = `taskset failed: ${(err as Error).message}`;
      this.log(`cpu placement off: ${this.disabled}`);
      return null;
    }
  }

  /** Frees the core of a thread that ended (a respawned replica asks again). */
  release(tid: number): void {
    this.held.delete(tid);
  }
}

/**
 * Confines processes started beside a worker on the same host (the API and Redis of `hotpath up`
 * or a bench cluster) to the cores the worker's main thread runs on, so they stop preempting its
 * pinned replicas. Returns those cores, or null (nothing moved) when the worker pinned nothing.
 */
export async function confineBesideWorker(
  workerPid: number,
  pids: readonly number[],
  pin: PinThread = tasksetPin,
): Promise<number[] | null> {
  const rest = allowedCpus(workerPid);
  const all = allowedCpus();
  if (!rest || !all || rest.length === 0 || rest.length >= all.length) return null;
  for (const pid of pids) await pin(pid, rest, true);
  return rest;
}
