import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClusterConfigInput } from '@hotpath/contracts';
import { E2eCluster } from '@hotpath/e2e-harness';

/** Settings of one test cluster. */
export interface ClusterOptions {
  config: ClusterConfigInput;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

/**
 * A private cluster for one test file, from the e2e harness (its own `redis-server`, so webhook
 * queues and dead letters are not shared with other tests; the real `api` and `worker` processes),
 * plus a folder for the test's own files (model folders its config points at).
 */
export class TestCluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'hotpath-openai-e2e-'));
  apiUrl = '';
  private readonly cluster = new E2eCluster('openai');

  async start(opts: ClusterOptions): Promise<void> {
    await this.cluster.setUp(opts.config);
    await this.cluster.startWorker({ env: opts.workerEnv });
    this.apiUrl = (await this.cluster.startApi({ env: opts.apiEnv })).url;
  }

  /** Every process's output, for a failing test. */
  printLogs(): void {
    this.cluster.printLogs('openai e2e');
  }

  async stop(): Promise<void> {
    try {
      await this.cluster.tearDown();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}
