/**
 * Teardown steps, registered while the worker starts and run in reverse: what started last stops
 * first (the heartbeat before the consumers, the consumers before their backends, the backends
 * before Redis). Used both by shutdown and when start-up fails half-way.
 */
export class CleanupStack {
  private readonly steps: (() => Promise<unknown>)[] = [];

  push(...steps: (() => Promise<unknown>)[]): void {
    this.steps.push(...steps);
  }

  /** Runs every step, newest first; a failing step does not keep the others from running. */
  async run(): Promise<void> {
    const steps = this.steps.splice(0).reverse();
    for (const step of steps) await step().catch(() => undefined);
  }
}
