import { hostname } from 'node:os';
import {
  HEARTBEAT_INTERVAL_MS,
  type ServedModelBeat,
  type WorkerHeartbeat,
  type WorkerRegistry,
} from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';

export interface HeartbeatOptions {
  workerId: string;
  version: string;
  models: readonly ServedModelBeat[];
  activeJobs: () => number;
}

/**
 * Announces this worker and what it serves every {@link HEARTBEAT_INTERVAL_MS}, so the API can
 * refuse jobs no worker would take (`model_unavailable`) and the queue dashboard can list workers.
 * The timer is unref'd; a failed beat is logged once per burst and retried on the next tick.
 */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly startedAt = Date.now();
  private failing = false;

  constructor(
    private readonly registry: WorkerRegistry,
    private readonly options: HeartbeatOptions,
    private readonly logger: Logger,
  ) {}

  /** Writes the first beat (the worker is not ready before the API can see it), then keeps beating. */
  async start(): Promise<void> {
    await this.registry.beat(this.snapshot());
    void this.registry.prune().catch(() => undefined);
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops beating and removes the entry, so the API stops routing to this worker at once. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.registry.leave(this.options.workerId).catch(() => undefined);
  }

  private async tick(): Promise<void> {
    try {
      await this.registry.beat(this.snapshot());
      if (this.failing) this.logger.info('heartbeat restored');
      this.failing = false;
    } catch (err) {
      if (!this.failing) this.logger.warn('heartbeat failed', { error: err });
      this.failing = true;
    }
  }

  private snapshot(): WorkerHeartbeat {
    return {
      worker_id: this.options.workerId,
      host: hostname(),
      pid: process.pid,
      started_at: this.startedAt,
      last_seen: Date.now(),
      active_jobs: this.options.activeJobs(),
      version: this.options.version,
      models: [...this.options.models],
    };
  }
}
