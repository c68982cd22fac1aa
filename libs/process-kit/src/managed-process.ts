import { spawn, type ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import { LineSplitter, OutputBuffer, TailBuffer } from './line-buffer';

/** How a child ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** How a stop ended: the exit, and whether the SIGKILL fallback was needed. */
export type StopResult = ExitInfo & { forced: boolean };

/** Where a child's output lines go, as they arrive. */
export interface LogSink {
  write(stream: 'stdout' | 'stderr', line: string): void;
}

/** What to run. The environment is passed as is: nothing of this process's own is added. */
export interface ProcessSpec {
  /** Short name used in messages and log prefixes (`api`, `worker-2`, `redis`). */
  name: string;
  command: string;
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Own process group: Ctrl-C in a terminal then reaches only the parent, which stops its
   * children in order (`hotpath up` drains the API and workers before Redis).
   */
  detached?: boolean;
  /** Gets every output line (for `hotpath up`'s prefixed log, a bench's log file). */
  sink?: LogSink;
  /**
   * The child (and its pipes) must not keep this process alive: a test file still ends when a
   * hook forgot one. Waits hold a timer of their own instead.
   */
  unref?: boolean;
}

/** Formats an exit for humans: `exit code 1` or `signal SIGKILL`. */
export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code ?? '?'}`;
}

/**
 * After `exit`, how long to wait for the pipes to close, so the last output lines are in the logs
 * before anyone reads them; a grandchild holding the pipes open cannot delay the exit longer.
 */
const PIPE_DRAIN_MS = 200;

/** How long a SIGKILLed child may take to be reaped before that is an error. */
const KILL_REAP_MS = 30_000;

/**
 * A child process owned by `hotpath up`, a bench or a test: its output captured (the last 512 KiB,
 * and the last stderr lines for error messages) and optionally forwarded line by line, its exit
 * observed, stoppable with a bounded wait and a SIGKILL fallback.
 */
export class ManagedProcess {
  readonly name: string;
  /** Resolves once the process has exited (or failed to spawn). Never rejects. */
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly output = new OutputBuffer(512 * 1024);
  private readonly stderrTail = new TailBuffer(20);
  private readonly outputTail = new TailBuffer(20);
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<StopResult> | undefined;

  private constructor(readonly spec: ProcessSpec) {
    this.name = spec.name;
    this.child = spawn(spec.command, [...spec.args], {
      cwd: spec.cwd,
      env: spec.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: spec.detached ?? false,
    });
    let open = 2;
    let pipesClosed: () => void = () => undefined;
    const drained = new Promise<void>((r) => (pipesClosed = r));
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter();
      const src = this.child[stream];
      src?.setEncoding('utf8');
      const emit = (line: string): void => {
        this.outputTail.push(line);
        if (stream === 'stderr') this.stderrTail.push(line);
        spec.sink?.write(stream, line);
      };
      src?.on('data', (chunk: string) => {
        this.output.push(chunk);
        splitter.push(chunk).forEach(emit);
      });
      src?.on('close', () => {
        splitter.flush().forEach(emit);
        if (--open === 0) pipesClosed();
      });
      if (spec.unref) (src as Socket | null)?.unref();
    }
    if (spec.unref) this.child.unref();
    this.exited = new Promise<ExitInfo>((resolve) => {
      const done = (info: ExitInfo): void => {
        if (this.exitInfo) return;
        this.exitInfo = info;
        resolve(info);
      };
      this.child.once('error', (err) => {
        this.output.push(`[spawn error] ${err.message}\n`);
        this.stderrTail.push(`failed to start: ${err.message}`);
        done({ code: 127, signal: null });
      });
      this.child.once('exit', (code, signal) => {
        const timer = setTimeout(() => pipesClosed(), PIPE_DRAIN_MS);
        if (spec.unref) timer.unref();
        void drained.then(() => {
          clearTimeout(timer);
          done({ code, signal });
        });
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
    return this.exitInfo === undefined;
  }

  /** Set once the child has exited. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** Everything the process printed (stdout and stderr interleaved), the last 512 KiB. */
  logs(): string {
    return this.output.text();
  }

  /** The last lines it wrote to stderr (or to stdout, when stderr stayed empty). */
  lastLines(): string[] {
    const err = this.stderrTail.toArray();
    return err.length > 0 ? err : this.outputTail.toArray();
  }

  /** Sends a signal without waiting, unless it has exited already. */
  signal(sig: NodeJS.Signals): void {
    if (this.exitInfo || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.kill(sig);
    } catch {
      // already gone
    }
  }

  /** Waits for the exit for at most `timeoutMs`; `undefined` when still running. */
  async waitForExit(timeoutMs: number): Promise<ExitInfo | undefined> {
    if (this.exitInfo) return this.exitInfo;
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

  /**
   * Sends `signal` (SIGTERM by default), waits up to `timeoutMs` (10 s by default), then SIGKILLs.
   * Once only: later calls share the first call's result, because a second SIGTERM means "exit
   * now" to the API and the worker, skipping their drain.
   */
  stop(opts: { signal?: NodeJS.Signals; timeoutMs?: number } = {}): Promise<StopResult> {
    this.stopping ??= this.terminate(opts.signal ?? 'SIGTERM', opts.timeoutMs ?? 10_000);
    return this.stopping;
  }

  /** SIGKILL now and wait for the exit. */
  async kill(): Promise<ExitInfo> {
    this.killNow();
    return this.exitAfterKill();
  }

  /** Synchronous SIGKILL (usable from an `exit` handler). */
  killNow(): void {
    this.signal('SIGKILL');
  }

  private async terminate(sig: NodeJS.Signals, timeoutMs: number): Promise<StopResult> {
    if (this.exitInfo) return { ...this.exitInfo, forced: false };
    this.signal(sig);
    const graceful = await this.waitForExit(timeoutMs);
    if (graceful) return { ...graceful, forced: false };
    this.killNow();
    return { ...(await this.exitAfterKill()), forced: true };
  }

  /** Waits for an exit that is certain to come (after SIGKILL). */
  private async exitAfterKill(): Promise<ExitInfo> {
    const info = await this.waitForExit(KILL_REAP_MS);
    if (!info)
      throw new Error(`${this.name} (pid ${this.pid}) survived SIGKILL for ${KILL_REAP_MS / 1000} s`);
    return info;
  }
}
