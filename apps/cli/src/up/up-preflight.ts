import { loadClusterConfig } from '@hotpath/config';
import type { ClusterConfig } from '@hotpath/contracts';
import { portAvailable } from '@hotpath/ports';
import { appEntry } from '@hotpath/process-kit';
import type { UpOptions } from './up-options';

/** What `hotpath up` checked before starting anything. */
export interface UpPlan {
  apiEntry: string;
  /** Undefined with `--no-worker`. */
  workerEntry: string | undefined;
  config: ClusterConfig;
  /** Where the config came from (a file, or the built-in one), for the summary. */
  configSource: string;
}

/**
 * The checks that need nothing started: the apps are built, the cluster config loads, the API and
 * metrics ports are free. Resolves with the plan, or with the one line telling what to fix.
 */
export async function preflight(opts: UpOptions): Promise<UpPlan | { problem: string }> {
  const apiEntry = appEntry('api');
  const workerEntry = opts.worker ? appEntry('worker') : undefined;
  if (!apiEntry || (opts.worker && !workerEntry))
    return {
      problem: 'the API or the worker is not built (apps/*/dist/main.js missing); run "npm run build" first',
    };
  let loaded: { config: ClusterConfig; source: string };
  try {
    loaded = loadClusterConfig(opts.configPath, opts.dataDir);
  } catch (err) {
    return { problem: (err as Error).message };
  }
  if (!(await portAvailable(opts.port, opts.host ?? '0.0.0.0')))
    return { problem: `port ${opts.port} is in use (another hotpath up?); pass --port N or set PORT` };
  if (opts.worker && !(await portAvailable(opts.metricsPort, '0.0.0.0')))
    return {
      problem: `metrics port ${opts.metricsPort} is in use; pass --metrics-port N or set METRICS_PORT`,
    };
  return { apiEntry, workerEntry, config: loaded.config, configSource: loaded.source };
}
