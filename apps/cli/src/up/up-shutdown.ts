import type { ServiceSupervisor } from '@hotpath/process-kit';
import type { ResolvedRedis } from './redis-resolver';
import type { UpLogs } from './up-services';

/** A second signal this soon after the first is the same Ctrl-C delivered twice, not a "kill now". */
const DUPLICATE_SIGNAL_MS = 1000;

/** Extra time a worker gets beyond its configured drain before SIGKILL. */
const STOP_SLACK_MS = 5000;

/**
 * How `hotpath up` ends. Signals are handled from the start, so an early Ctrl-C still cleans up:
 * the first SIGINT/SIGTERM drains (the services get the workers' shutdown grace plus slack), a
 * second one kills the children at once, and the process exiting kills whatever is left. A
 * service that keeps crashing ends the run with code 1. {@link shutdown} stops the services, then
 * Redis (after the workers' drain, so hand-backs reach it), then closes the log files.
 */
export class UpLifecycle {
  /** Set once a signal arrived. */
  signalled = false;
  private exitCode = 0;
  private firstSignalAt = 0;
  private services: ServiceSupervisor[] = [];
  private redis: ResolvedRedis | undefined;
  private requestStop: (code: number) => void = () => undefined;
  /** Resolves when the run should end (a signal, or a service gave up). */
  readonly stopRequested = new Promise<number>((resolve) => {
    this.requestStop = resolve;
  });
  private readonly graceMs: number;

  constructor(
    shutdownGraceMs: number,
    private readonly logs: UpLogs,
    private readonly io: { say(line: string): void; warn(line: string): void },
  ) {
    this.graceMs = shutdownGraceMs + STOP_SLACK_MS;
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
    process.on('exit', this.killAll);
  }

  /** The exit code of a run that got as far as serving: 1 when a service gave up. */
  get code(): number {
    return this.exitCode;
  }

  /** Redis to stop last. */
  useRedis(redis: ResolvedRedis): void {
    this.redis = redis;
  }

  /** Services to stop on a signal (at start-up too: that ends their readiness wait). */
  useServices(services: ServiceSupervisor[]): void {
    this.services = services;
  }

  /** A service keeps dying: stop the cluster, exit 1. */
  fail(): void {
    this.exitCode = 1;
    this.requestStop(1);
  }

  private readonly onSignal = (sig: NodeJS.Signals): void => {
    if (this.signalled) {
      // `npm start` forwards the terminal's Ctrl-C to us as well: one press can arrive twice.
      if (Date.now() - this.firstSignalAt < DUPLICATE_SIGNAL_MS) return;
      this.io.warn(`${sig} again: killing children now`);
      this.killAll();
      return;
    }
    this.signalled = true;
    this.firstSignalAt = Date.now();
    this.io.say(`\n${sig}: stopping (press Ctrl-C again to kill at once)`);
    this.requestStop(0);
    // During start-up the children may still be waiting for readiness: end that wait now.
    this.services.forEach((s) => void s.stop(this.graceMs));
  };

  private readonly killAll = (): void => this.services.forEach((s) => s.kill());

  /** Stops everything started so far, in order, and removes the signal handlers. */
  async shutdown(): Promise<void> {
    const results = await Promise.all(this.services.map((s) => s.stop(this.graceMs)));
    results.forEach((r, i) => {
      if (r?.forced)
        this.io.warn(`${this.services[i]?.spec.name} did not exit within ${this.graceMs} ms and was killed`);
    });
    if (this.redis) {
      this.io.say(`stopping ${this.redis.description}`);
      await this.redis
        .stop()
        .catch((err: unknown) => this.io.warn(`stopping Redis: ${(err as Error).message}`));
    }
    await this.logs.close();
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
    process.off('exit', this.killAll);
  }
}
