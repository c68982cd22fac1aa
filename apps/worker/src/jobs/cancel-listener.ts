import { JOB_CANCEL_CHANNEL, JOB_WATCH_CHANNEL, untilReady, type RedisClient } from '@hotpath/queue';
import type { Logger } from '@hotpath/telemetry';
import type { JobRunner } from './job-runner';

/**
 * Listens on {@link JOB_CANCEL_CHANNEL} (the API publishes a job id there after cancelling its
 * record) and aborts the matching job if it runs in this worker; and on {@link JOB_WATCH_CHANNEL},
 * where the first follower of a job is announced, so that its token events start. Messages sent
 * while the subscriber was disconnected are lost, so after every reconnect the running jobs'
 * records are re-read instead.
 */
export class CancelListener {
  private connectedOnce = false;

  constructor(
    private readonly subscriber: RedisClient,
    private readonly runner: JobRunner,
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, message: string) => {
      const id = message.trim();
      if (channel === JOB_WATCH_CHANNEL) this.runner.watched(id);
      else if (channel === JOB_CANCEL_CHANNEL && this.runner.cancel(id))
        this.logger.info('cancelling running job', { job_id: id });
    });
    this.subscriber.on('ready', () => {
      if (!this.connectedOnce) {
        this.connectedOnce = true;
        return;
      }
      this.runner.recheckCancelled().catch((err: unknown) => {
        this.logger.warn('could not re-check cancelled jobs after a reconnect', { error: err });
      });
    });
    if (this.subscriber.status === 'ready') this.connectedOnce = true;
    await untilReady(this.subscriber);
    await this.subscriber.subscribe(JOB_CANCEL_CHANNEL, JOB_WATCH_CHANNEL);
  }
}
