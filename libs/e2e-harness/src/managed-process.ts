import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { guardProcess, releaseProcess } from './exit-guard';

/** How a child process ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** What to run. The environment is passed as is: nothing of the test runner's own is inherited. */
export interface ProcessSpec {
  /** Short label used in log dumps, e.g. `api` or `worker-2`. */
  name: string;
  command: string;
  args: readonly string[];
  env: Record<string, string>;
  cwd: string;
}

/** Keeps the last `capBytes` of a process's output: enough to debug a failure, bounded in memory. */
class OutputBuffer {
  private chunks: string[] = [];
  private size = 0;
  private dropped = 0;

  constructor(private readonly capBytes: number) {}

  push(chunk: string): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.size > this.capBytes && this.chunks.length > 1) {
      const first = this.chunks.shift() ?? '';
      this.size -= first.length;
      this.dropped += first.length;
    }
  }

  text(): string {
    const head = this.dropped > 0 ? `[... ${this.dropped} earlier characters dropped ...]\n` : '';
    return head + this.chunks.join('');
  }
}

/**
 * A child process owned by a test: output captured into a buffer, exit observed, stoppable with a
 * bounded wait and a SIGKILL fallback.
 */
export class ManagedProcess {
  readonly name: string;
  /** Resolves once the process has exited (or failed to spawn). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly output = new OutputBuffer(512 * 1024);
  private exit: ExitInfo | undefined;

  private constructor(spec: ProcessSpec) {
    this.name = spec.name;
    this.child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.setEncoding('utf8').on('data', (d: string) => this.output.push(d));
    this.child.stderr?.setEncoding('utf8').on('data', (d: string) => this.output.push(d));
    // A child must never keep this test process alive: if a test or hook leaves one running, the
    // file still ends and the exit guard kills it. Waits below hold a timer of their own instead.
    this.child.unref();
    (this.child.stdout as Socket | null)?.unref();
    (this.child.stderr as Socket | null)?.unref();
    guardProcess(this);
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.exit) return;
        this.exit = info;
        releaseProcess(this);
        resolve(info);
      };
      this.child.on('exit', (code, signal) => done({ code, signal }));
      this.child.on('error', (err) => {
        this.output.push(`[spawn error] ${err.message}\n`);
        done({ code: null, signal: null });
      });
    });
  }

  static start(spec: ProcessSpec): ManagedProcess {
    return new ManagedProcess(spec);
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.exit;
  }

  /** Everything the process printed (stdout and stderr interleaved), last 512 KiB. */
  logs(): string {
    return this.output.text();
  }

  /** Sends a signal without waiting (e.g. SIGTERM to observe a drain while jobs run). */
  signal(sig: NodeJS.Signals): void {
    if (this.running) this.child.kill(sig);
  }

  /** Waits for the exit for at most `timeoutMs`; `undefined` when still running. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (this.exit) return this.exit;
    // This (ref'd) timer is also what keeps the event loop alive while waiting on an unref'd child.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits for an exit that is certain to come (after SIGKILL). */
  private async exitAfterKill(): Promise<ExitInfo> {
    const info = await this.waitForExit(30_000);
    if (!info) throw new Error(`${this.name} (pid ${this.pid}) survived SIGKILL for 30 s`);
    return info;
  }

  /**
   * Sends `signal` (SIGTERM by default), waits up to `timeoutMs`, then SIGKILLs. Returns how the
   * process ended; `forced` tells whether the fallback was needed.
   */
  async stop(
    opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {},
  ): Promise<ExitInfo & { forced: boolean }> {
    if (this.exit) return { ...this.exit, forced: false };
    this.child.kill(opts.signal ?? 'SIGTERM');
    const graceful = await this.waitForExit(opts.timeoutMs ?? 10_000);
    if (graceful) return { ...graceful, forced: false };
    this.killNow();
    return { ...(await this.exitAfterKill()), forced: true };
  }

  /** SIGKILL now and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    this.killNow();
    return this.exitAfterKill();
  }

  /** Synchronous SIGKILL (usable from an `exit` handler). */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
