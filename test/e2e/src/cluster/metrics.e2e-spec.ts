import assert from 'node:assert/strict';
import { HOTPATH_METRIC_NAMES } from '@hotpath/telemetry';
import {
  E2eCluster,
  asJob,
  describe,
  fetchMetrics,
  generateJob,
  metricNames,
  type WorkerHandle,
} from '@hotpath/e2e-harness';

// /metrics on the API and the worker expose every metric of docs/observability.md, with bounded labels.

const cluster = new E2eCluster('metrics');
const model = cluster.modelName('met');
let worker: WorkerHandle;

cluster.hooks(
  { models: [cluster.simModel(model, { sim: { base_ms: 10 } })] },
  {
    start: async () => {
      [, worker] = await cluster.startApiAndWorker();
    },
  },
);

cluster.test(
  'API and worker /metrics carry every documented metric name and count finished jobs',
  async () => {
    const res = await cluster.client.submit(generateJob(model, { prompt: 'count me' }), { preferWaitS: 5 });
    assert.equal(res.status, 200, describe(res));
    const job = asJob(res);
    assert.equal(job.status, 'completed');

    const apiText = await fetchMetrics(`${cluster.client.baseUrl}/metrics`);
    const workerText = await fetchMetrics(worker.metricsUrl);
    for (const [name, text] of [
      ['api', apiText],
      ['worker', workerText],
    ] as const) {
      const names = metricNames(text);
      const missing = HOTPATH_METRIC_NAMES.filter((m) => !names.has(m));
      assert.deepEqual(missing, [], `${name} /metrics lacks documented metrics`);
      assert.ok(
        [...names].some((n) => n.startsWith('process_') || n.startsWith('nodejs_')),
        `${name} exposes default process metrics`,
      );
      assert.ok(!text.includes(job.id), `${name} metrics never carry job ids`);
    }

    const jobsLine = new RegExp(`^hotpath_jobs_total\\{[^}]*model="${model}"[^}]*\\} [1-9]`, 'm');
    assert.ok(
      jobsLine.test(apiText) || jobsLine.test(workerText),
      'hotpath_jobs_total counts the finished job for the model',
    );
    assert.match(
      workerText,
      new RegExp(`^hotpath_inference_duration_seconds_count\\{[^}]*model="${model}"[^}]*\\} [1-9]`, 'm'),
    );
    assert.match(apiText, /^hotpath_http_request_duration_seconds_count\{[^}]*route="[^"]*"/m);
  },
);
