import { describeExit, ManagedProcess, type LogSink, type StopResult } from './managed-process';
import { NotReadyError, waitForReady } from './readiness';
import { RestartPolicy } from './restart-policy';

/** A long-running Node.js program and the URL that says it is ready. */
export interface ServiceSpec {
  /** Short name used in messages and log prefixes (`api`, `worker`). */
  name: string;
  /** Script run with this Node.js binary, in its own process group. */
  entry: string;
  env: NodeJS.ProcessEnv;
  sink: LogSink;
  cwd?: string;
  readyUrl: string;
  readyTimeoutMs: number;
}

/** What the supervisor reports back to `hotpath up`. */
export interface SupervisorHooks {
  /** A status line (a crash, a restart). */
  note(line: string): void;
  /** Crash loop: the cluster should stop. */
  giveUp(name: string, reason: string, lastLines: string[]): void;
}

/** The child failed to become ready at start; `lastLines` are its last stderr lines. */
export class ServiceStartError extends Error {
  override readonly name = 'ServiceStartError';
  readonly code = 'start_failed';
  constructor(
    readonly service: string,
    message: string,
    readonly lastLines: string[],
  ) {
    super(message);
  }
}

/**
 * Keeps one service running: starts it and waits for its `/readyz`; if it later dies on its own it
 * is restarted with backoff, and a crash loop (see {@link RestartPolicy}) hands over to
 * `hooks.giveUp`, which stops the cluster. At start, a child that exits or does not get ready is an
 * error at once: a misconfiguration will not fix itself by restarting.
 */
export class ServiceSupervisor {
  private current: ManagedProcess | undefined;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly spec: ServiceSpec,
    private readonly hooks: SupervisorHooks,
    private readonly policy = new RestartPolicy(),
  ) {}

  get pid(): number | undefined {
    return this.current?.pid;
  }

  /** Spawns the child and resolves once its readiness URL answers 200. */
  async start(): Promise<void> {
    if (this.stopping)
      throw new ServiceStartError(this.spec.name, `${this.spec.name}: stopped before start`, []);
    const proc = this.spawn();
    try {
      await this.waitReady(proc);
    } catch (err) {
      await proc.stop({ timeoutMs: 2000 });
      const msg = (err as Error).message;
      throw new ServiceStartError(
        this.spec.name,
        `${this.spec.name} did not start: ${msg}`,
        proc.lastLines(),
      );
    }
    this.watch(proc);
  }

  /** SIGTERM, wait up to `graceMs`, then SIGKILL. Safe to call more than once. */
  async stop(graceMs: number): Promise<StopResult | undefined> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    return this.current?.stop({ timeoutMs: graceMs });
  }

  /** Immediate SIGKILL (a second Ctrl-C, or the process is exiting). */
  kill(): void {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    this.current?.signal('SIGKILL');
  }

  private spawn(): ManagedProcess {
    const { name, entry, env, sink, cwd } = this.spec;
    this.current = ManagedProcess.start({
      name,
      command: process.execPath,
      args: [entry],
      env,
      sink,
      cwd,
      detached: true,
    });
    return this.current;
  }

  private async waitReady(proc: ManagedProcess): Promise<void> {
    await waitForReady(this.spec.readyUrl, {
      timeoutMs: this.spec.readyTimeoutMs,
      abortReason: () => (proc.exit ? `exited with ${describeExit(proc.exit)}` : undefined),
    });
  }

  private watch(proc: ManagedProcess): void {
    void proc.exited.then((exit) => {
      if (this.stopping || proc !== this.current) return;
      const decision = this.policy.onCrash(Date.now());
      const lines = proc.lastLines();
      if (!decision.restart) {
        this.hooks.giveUp(this.spec.name, `${describeExit(exit)}; ${decision.reason}`, lines);
        return;
      }
      this.hooks.note(
        `${this.spec.name} died unexpectedly (${describeExit(exit)}); restart ${decision.attempt} in ` +
          `${decision.delayMs / 1000} s`,
      );
      this.restartTimer = setTimeout(() => void this.restart(), decision.delayMs);
    });
  }

  private async restart(): Promise<void> {
    if (this.stopping) return;
    const proc = this.spawn();
    this.watch(proc);
    try {
      await this.waitReady(proc);
      if (!this.stopping) this.hooks.note(`${this.spec.name} restarted (pid ${proc.pid}) and ready`);
    } catch (err) {
      // Exits are handled by watch(); a live child that never got ready is killed and counts as a crash.
      if (err instanceof NotReadyError && !err.aborted && !this.stopping) proc.signal('SIGKILL');
    }
  }
}
