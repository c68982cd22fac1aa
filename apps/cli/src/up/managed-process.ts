import { spawn, type ChildProcess } from 'node:child_process';
import { LineSplitter, TailBuffer } from './line-buffer';

/** How a child ended. */
export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Where a child's output lines go. */
export interface LogSink {
  write(stream: 'stdout' | 'stderr', line: string): void;
}

/** One run of a Node.js program as a child process. */
export interface ManagedProcessSpec {
  /** Short name used in messages and log prefixes (`api`, `worker`). */
  name: string;
  /** Script run with this Node.js binary. */
  entry: string;
  env: NodeJS.ProcessEnv;
  sink: LogSink;
  cwd?: string;
}

/** Formats an exit for humans: `exit code 1` or `signal SIGKILL`. */
export function describeExit(e: ExitInfo): string {
  return e.signal ? `signal ${e.signal}` : `exit code ${e.code ?? '?'}`;
}

/**
 * A running child. It gets its own process group (`detached`), so Ctrl-C in the terminal reaches only
 * `hotpath up`, which then stops children in order (API and worker drain first, Redis last). Its
 * output is forwarded line by line and the last lines of stderr are kept for error messages.
 */
export class ManagedProcess {
  readonly exited: Promise<ExitInfo>;
  private readonly child: ChildProcess;
  private readonly stderrTail = new TailBuffer(20);
  private readonly outputTail = new TailBuffer(20);
  private exitInfo: ExitInfo | undefined;
  private stopping: Promise<ExitInfo & { killed: boolean }> | undefined;

  constructor(readonly spec: ManagedProcessSpec) {
    this.child = spawn(process.execPath, [spec.entry], {
      env: spec.env,
      cwd: spec.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const splitter = new LineSplitter();
      const src = this.child[stream];
      src?.setEncoding('utf8');
      const emit = (line: string): void => {
        this.outputTail.push(line);
        if (stream === 'stderr') this.stderrTail.push(line);
        spec.sink.write(stream, line);
      };
      src?.on('data', (chunk: string) => splitter.push(chunk).forEach(emit));
      src?.on('end', () => splitter.flush().forEach(emit));
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      this.child.once('error', (err) => {
        this.stderrTail.push(`failed to start: ${err.message}`);
        this.exitInfo ??= { code: 127, signal: null };
        resolve(this.exitInfo);
      });
      // 'close' (not 'exit') so the last output lines are in the tail before anyone reads it.
      this.child.once('close', (code, signal) => {
        this.exitInfo ??= { code, signal };
        resolve(this.exitInfo);
      });
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Set once the child has exited. */
  get exit(): ExitInfo | undefined {
    return this.exitInfo;
  }

  /** The last lines it wrote to stderr (or to stdout, when stderr stayed empty). */
  lastLines(): string[] {
    const err = this.stderrTail.toArray();
    return err.length > 0 ? err : this.outputTail.toArray();
  }

  /** Sends a signal unless it has exited already. */
  signal(sig: NodeJS.Signals): void {
    if (this.exitInfo || this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      this.child.kill(sig);
    } catch {
      // already gone
    }
  }

  /**
   * SIGTERM, then SIGKILL if it has not exited after `graceMs`. Resolves with how it ended and
   * whether it had to be killed. Later calls share the first call's result.
   */
  stop(graceMs: number): Promise<ExitInfo & { killed: boolean }> {
    // Once only: a second SIGTERM means "exit now" to the API and the worker, skipping their drain.
    this.stopping ??= this.terminate(graceMs);
    return this.stopping;
  }

  private async terminate(graceMs: number): Promise<ExitInfo & { killed: boolean }> {
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), graceMs);
    });
    const first = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (first !== 'timeout') return { ...first, killed: false };
    this.signal('SIGKILL');
    return { ...(await this.exited), killed: true };
  }
}
