import { redactRedisUrl, type RedisSource } from './redis-resolver';

/** The host to put in URLs and probes: a wildcard bind address is reached through loopback. */
export function reachableHost(host: string | undefined): string {
  if (!host || host === '0.0.0.0' || host === '::' || host === '[::]') return '127.0.0.1';
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** What the summary shows once everything is ready. */
export interface UpSummary {
  apiBase: string;
  /** Undefined with `--no-worker`. */
  workerBase: string | undefined;
  redisUrl: string;
  redisSource: RedisSource;
  redisDescription: string;
  configSource: string;
  models: readonly string[];
  /** The model/task the curl example uses. */
  example: { model: string; task: 'generate' | 'embed' };
  /** API keys are configured, so the example needs an Authorization header. */
  authRequired: boolean;
  logFilesDir: string | undefined;
  pids: { api: number | undefined; worker: number | undefined };
  elapsedMs: number;
}

/** A `curl` that submits one job and waits up to 5 s for its result. */
export function curlExample(
  apiBase: string,
  model: string,
  task: 'generate' | 'embed',
  authRequired: boolean,
): string {
  const body =
    task === 'generate'
      ? { model, task, input: { prompt: 'hello' } }
      : { model, task, input: { texts: ['hello'] } };
  const auth = authRequired ? ` -H 'authorization: Bearer <key>'` : '';
  return (
    `curl -s ${apiBase}/v1/jobs -H 'content-type: application/json' -H 'Prefer: wait=5'${auth} ` +
    `-d '${JSON.stringify(body)}'`
  );
}

/** The lines printed when the cluster is ready (both in a terminal and in CI). */
export function formatSummary(s: UpSummary): string[] {
  const secs = (s.elapsedMs / 1000).toFixed(1);
  const lines = [
    `hotpath is up (${secs} s)`,
    `  API        ${s.apiBase}   (pid ${s.pids.api ?? '?'})`,
    `  API docs   ${s.apiBase}/docs`,
    `  metrics    ${s.apiBase}/metrics (api)`,
  ];
  if (s.workerBase) {
    lines.push(`             ${s.workerBase}/metrics (worker, pid ${s.pids.worker ?? '?'})`);
  } else {
    lines.push('  worker     not started (--no-worker)');
  }
  lines.push(
    `  Redis      ${redactRedisUrl(s.redisUrl)}   (${s.redisDescription})`,
    `  config     ${s.configSource}; models: ${s.models.join(', ')}`,
  );
  if (s.logFilesDir) lines.push(`  logs       ${s.logFilesDir}/{api,worker}.log`);
  lines.push(`  try        ${curlExample(s.apiBase, s.example.model, s.example.task, s.authRequired)}`);
  lines.push('Ctrl-C (or SIGTERM) drains and stops everything.');
  return lines;
}
