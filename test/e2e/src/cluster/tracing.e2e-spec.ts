import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { E2eCluster, asJob, describe, generateJob, waitFor } from '@hotpath/e2e-harness';

// One trace per request across both services, decoded from the real OTLP payloads the processes
// export (OTLP/HTTP JSON to a receiver inside this test).

interface OtlpAttr {
  key: string;
  value: {
    stringValue?: string;
    intValue?: string | number;
    doubleValue?: number;
    boolValue?: boolean;
    arrayValue?: unknown;
  };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes?: OtlpAttr[];
  links?: { traceId: string; spanId: string }[];
}
interface Exported extends OtlpSpan {
  service: string;
}

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };
const SECRET = 'SECRET-PROMPT-7f3a';

const spans: Exported[] = [];
const rawBodies: string[] = [];
/** `traceparent` of each webhook POST the worker made to this test. */
const webhookTraceparents: string[] = [];
let receiver: Server;
let hookUrl = '';
const cluster = new E2eCluster('tracing');
const model = cluster.modelName('traced');
const onnxModel = cluster.modelName('traced-tiny');
/** A model execution span of the sim model: a prefill forward or a run of decode steps. */
const isBatchSpan = (s: Exported): boolean => s.name === `prefill ${model}` || s.name === `decode ${model}`;

function attr(span: OtlpSpan, key: string): string | number | boolean | undefined {
  const a = span.attributes?.find((x) => x.key === key)?.value;
  if (!a) return undefined;
  if (a.stringValue !== undefined) return a.stringValue;
  if (a.intValue !== undefined) return Number(a.intValue);
  if (a.doubleValue !== undefined) return Number(a.doubleValue);
  return a.boolValue;
}

cluster.hooks(
  {
    models: [
      cluster.simModel(model, {
        tasks: ['generate'],
        concurrency: 32,
        sim: { base_ms: 150, per_item_ms: 1, embedding_dim: 8 },
        batching: { enabled: true, continuous: { max_running_sequences: 8 } },
      }),
      {
        name: onnxModel,
        backend: 'onnx',
        tasks: ['generate'],
        path: 'models/tiny',
        forge: { arch: 'llama', preset: 'tiny', seed: 1 },
        // One replica, so the three jobs below share its running batch (with one per core they
        // may land on different replicas and never decode together).
        replicas: 1,
        concurrency: 8,
      },
    ],
  },
  {
    prepare: async () => {
      receiver = createServer((req, res) => {
        if (req.url === '/hook') {
          webhookTraceparents.push(String(req.headers['traceparent'] ?? ''));
          req.resume();
          req.on('end', () => res.writeHead(204).end());
          return;
        }
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          rawBodies.push(text);
          try {
            const body = JSON.parse(text) as {
              resourceSpans?: { resource: { attributes: OtlpAttr[] }; scopeSpans: { spans: OtlpSpan[] }[] }[];
            };
            for (const rs of body.resourceSpans ?? []) {
              const service = String(
                rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue,
              );
              for (const ss of rs.scopeSpans) for (const s of ss.spans) spans.push({ ...s, service });
            }
          } catch {
            // not JSON: the assertions below will notice missing spans
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
        });
      });
      await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    },
    start: async () => {
      const endpoint = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
      hookUrl = `${endpoint}/hook`;
      const env = {
        OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        HOTPATH_WEBHOOK_ALLOWED_HOSTS: '127.0.0.1',
      };
      await Promise.all([cluster.startApi({ env }), cluster.startWorker({ env })]);
    },
    cleanUp: () => receiver.close(),
  },
);

cluster.test(
  'jobs batched together: one trace per job across API and worker, batch span linked to every member',
  async () => {
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const responses = await Promise.all(
      Array.from({ length: 4 }, (_, i) =>
        cluster.client.request('POST', '/v1/jobs', {
          body: generateJob(model, { prompt: `${SECRET} number ${i}` }),
          headers: i === 0 ? { traceparent, prefer: 'wait=10' } : { prefer: 'wait=10' },
        }),
      ),
    );
    const jobs = responses.map((r) => {
      assert.equal(r.status, 200, describe(r));
      return asJob(r);
    });
    const traceIds = responses.map((r) => r.headers.get('x-trace-id'));
    assert.equal(traceIds[0], '0af7651916cd43dd8448eb211c80319c', 'an incoming traceparent is honoured');
    for (const t of traceIds) assert.match(t ?? '', /^[0-9a-f]{32}$/, 'x-trace-id on job routes');

    // Each process exports its ended spans on its own timer (about every second), so the worker's
    // spans can be here while the API's SERVER spans, ended after the response was sent, are still
    // in its buffer: wait for every span the checks below look up, from both services.
    const isJobSpan = (s: Exported, kind: number, id: string): boolean =>
      s.kind === kind && attr(s, 'messaging.message.id') === id;
    await waitFor(
      () => {
        const batchLinks = spans.filter(isBatchSpan).flatMap((b) => (b.links ?? []).map((l) => l.traceId));
        return jobs.every((j, i) => {
          const inTrace = spans.filter((s) => s.traceId === traceIds[i]);
          const consumer = inTrace.find((s) => isJobSpan(s, SPAN_KIND.CONSUMER, j.id));
          return (
            consumer !== undefined &&
            inTrace.some(
              (s) => s.parentSpanId === consumer.spanId && s.name === `text_completion ${model}`,
            ) &&
            inTrace.some((s) => s.kind === SPAN_KIND.SERVER && s.service === 'hotpath-api') &&
            inTrace.some((s) => isJobSpan(s, SPAN_KIND.PRODUCER, j.id)) &&
            batchLinks.includes(traceIds[i]!)
          );
        });
      },
      { timeoutMs: 15_000, what: 'the SERVER, PRODUCER, CONSUMER, inference and batch spans of every job' },
    );

    for (const [i, job] of jobs.entries()) {
      const traceId = traceIds[i]!;
      const inTrace = spans.filter((s) => s.traceId === traceId);
      const server = inTrace.find((s) => s.kind === SPAN_KIND.SERVER && s.service === 'hotpath-api');
      const producer = inTrace.find(
        (s) => s.kind === SPAN_KIND.PRODUCER && attr(s, 'messaging.message.id') === job.id,
      );
      const consumer = inTrace.find(
        (s) => s.kind === SPAN_KIND.CONSUMER && attr(s, 'messaging.message.id') === job.id,
      );
      assert.ok(server, `SERVER span in trace ${traceId}`);
      assert.ok(producer, `PRODUCER span for ${job.id}`);
      assert.ok(consumer, `CONSUMER span for ${job.id}`);
      assert.equal(producer.service, 'hotpath-api');
      assert.equal(consumer.service, 'hotpath-worker', 'one trace id spans both services');
      assert.equal(
        consumer.parentSpanId,
        producer.spanId,
        'the consumer continues the producer across the queue',
      );
      assert.equal(attr(producer, 'messaging.system'), 'bullmq');
      assert.equal(attr(producer, 'messaging.destination.name'), `{${model}:0}`);
      assert.equal(typeof attr(consumer, 'hotpath.queue_wait_ms'), 'number', 'queue wait is visible');
      // The job's GenAI inference span (OpenTelemetry GenAI conventions) is the consumer's child.
      assert.equal(attr(consumer, 'gen_ai.request.model'), model);
      const inference = inTrace.find(
        (s) => s.parentSpanId === consumer.spanId && s.name === `text_completion ${model}`,
      );
      assert.ok(inference, 'a "{operation} {model}" span under the consumer');
      assert.equal(attr(inference, 'gen_ai.operation.name'), 'text_completion');
      assert.equal(attr(inference, 'gen_ai.provider.name'), 'hotpath');
      assert.equal(attr(inference, 'gen_ai.system'), undefined, 'the deprecated attribute is gone');
      assert.equal(attr(inference, 'gen_ai.request.model'), model);
      assert.equal(attr(inference, 'gen_ai.request.max_tokens'), 8);
      assert.equal(attr(inference, 'gen_ai.response.id'), job.id);
      assert.equal(attr(inference, 'gen_ai.response.model'), model);
      assert.equal(typeof attr(inference, 'gen_ai.usage.input_tokens'), 'number');
      assert.equal(typeof attr(inference, 'gen_ai.usage.output_tokens'), 'number');
      assert.equal(typeof attr(inference, 'hotpath.batch.size'), 'number');
    }

    const batches = spans.filter((s) => isBatchSpan(s) && s.service === 'hotpath-worker');
    const linked = new Set(batches.flatMap((b) => (b.links ?? []).map((l) => l.traceId)));
    for (const t of traceIds) assert.ok(linked.has(t!), `a batch span links to the trace of job ${t}`);
    const multi = batches.find((b) => (b.links ?? []).length > 1);
    assert.ok(multi, 'the jobs ran batched together');
    assert.equal(attr(multi, 'messaging.batch.message_count'), (multi.links ?? []).length);
    // The batch span is the model execution (sim generate is continuously batched: a prefill
    // forward or a run of decode steps): GenAI attributes, batch size, execution provider.
    assert.match(multi.name, new RegExp(`^(prefill|decode) ${model}$`));
    assert.equal(attr(multi, 'gen_ai.request.model'), model);
    assert.equal(attr(multi, 'hotpath.batch.size'), (multi.links ?? []).length);
    assert.equal(attr(multi, 'hotpath.execution_provider'), 'sim');
    assert.ok(Number(attr(multi, 'gen_ai.usage.output_tokens')) > 0, 'batch token usage');

    assert.ok(
      rawBodies.every((b) => !b.includes(SECRET)),
      'prompt text never appears on spans unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true',
    );
    assert.ok(
      !spans.some((s) => /redis|bullmq\.(get|move)/i.test(s.name)),
      'BullMQ polling creates no spans',
    );
  },
  { timeout: 60_000 },
);

cluster.test(
  "a webhook delivery is a CLIENT span in the job's trace and carries traceparent to the receiver",
  async () => {
    const res = await cluster.client.request('POST', '/v1/jobs', {
      body: {
        ...generateJob(model, { prompt: 'notify me' }),
        webhook: { url: hookUrl, secret: 'whsec-trace-0123456789' },
      },
    });
    assert.equal(res.status, 202, describe(res));
    const traceId = res.headers.get('x-trace-id') ?? '';
    await waitFor(() => spans.some((s) => s.traceId === traceId && s.name === 'POST webhook'), {
      timeoutMs: 15_000,
      what: 'webhook delivery span exported',
    });
    const inTrace = spans.filter((s) => s.traceId === traceId);
    const delivery = inTrace.find((s) => s.name === 'POST webhook')!;
    const consumer = inTrace.find((s) => s.kind === SPAN_KIND.CONSUMER);
    assert.equal(delivery.kind, SPAN_KIND.CLIENT);
    assert.equal(delivery.service, 'hotpath-worker');
    assert.equal(
      delivery.parentSpanId,
      consumer?.spanId,
      "the delivery is a child of the job's CONSUMER span",
    );
    assert.equal(attr(delivery, 'http.response.status_code'), 204);
    assert.ok(
      webhookTraceparents.some((t) => t.split('-')[1] === traceId && t.split('-')[2] === delivery.spanId),
      'the receiver got a traceparent naming the delivery span',
    );
  },
  { timeout: 60_000 },
);

cluster.test(
  'continuous batching on onnx: decode iteration groups are batch spans linked to every member job',
  async () => {
    const responses = await Promise.all(
      // Long enough to overlap in the running batch even when the three arrive a few ms apart.
      [96, 128, 160].map((max_tokens, i) =>
        cluster.client.request('POST', '/v1/jobs', {
          body: generateJob(onnxModel, { prompt: `story ${i}`, params: { max_tokens, temperature: 0 } }),
          headers: { prefer: 'wait=30' },
        }),
      ),
    );
    const traceIds = responses.map((r) => {
      assert.equal(r.status, 200, describe(r));
      return r.headers.get('x-trace-id') ?? '';
    });
    const decodeSpans = (): Exported[] => spans.filter((s) => s.name === `decode ${onnxModel}`);
    const linkedTraces = (): Set<string> =>
      new Set(decodeSpans().flatMap((s) => (s.links ?? []).map((l) => l.traceId)));
    // Spans arrive in export batches: wait for the shared decode run too, not only for some span per
    // job, and for each job's CONSUMER and inference spans, which end after its first decode group.
    const jobSpansIn = (t: string): boolean =>
      spans.some((s) => s.traceId === t && s.kind === SPAN_KIND.CONSUMER) &&
      spans.some((s) => s.traceId === t && s.name === `text_completion ${onnxModel}`);
    await waitFor(
      () =>
        traceIds.every((t) => linkedTraces().has(t) && jobSpansIn(t)) &&
        decodeSpans().some((s) => (s.links ?? []).length > 1),
      { timeoutMs: 15_000, what: "decode group spans linked to every job, and every job's own spans" },
    );
    const together = decodeSpans().find((s) => (s.links ?? []).length > 1);
    assert.ok(together, 'sequences were decoded together');
    assert.equal(attr(together, 'messaging.batch.message_count'), (together.links ?? []).length);
    assert.equal(attr(together, 'gen_ai.request.model'), onnxModel);
    assert.equal(typeof attr(together, 'hotpath.batch.forwards'), 'number');
    assert.ok(
      spans.some((s) => s.name === `prefill ${onnxModel}`),
      'prefill forwards are spans too',
    );
    assert.equal(attr(together, 'gen_ai.operation.name'), 'text_completion');
    assert.equal(attr(together, 'hotpath.execution_provider'), 'cpu');
    assert.equal(typeof attr(together, 'hotpath.replica'), 'number');
    for (const t of traceIds) {
      const consumer = spans.find((s) => s.traceId === t && s.kind === SPAN_KIND.CONSUMER);
      assert.ok(consumer, `CONSUMER span in trace ${t}`);
      assert.equal(attr(consumer, 'gen_ai.request.model'), onnxModel);
      const inference = spans.find((s) => s.traceId === t && s.name === `text_completion ${onnxModel}`);
      assert.ok(inference, `inference span in trace ${t}`);
      assert.ok(Number(attr(inference, 'gen_ai.usage.output_tokens')) > 0, 'output tokens counted');
      assert.equal(attr(inference, 'gen_ai.request.temperature'), 0);
    }
  },
  { timeout: 90_000 },
);

cluster.test(
  'logs join traces: trace_id/span_id on the access line and on the job lines, no prompt text or key',
  async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
    const res = await cluster.client.request('POST', '/v1/jobs', {
      body: generateJob(model, { prompt: `${SECRET} logged` }),
      headers: { traceparent, prefer: 'wait=10' },
    });
    assert.equal(res.status, 200, describe(res));
    const job = asJob(res);
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const parse = (text: string): Record<string, unknown>[] =>
      text
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    const [api] = cluster.apiHandles();
    const [worker] = cluster.workerHandles();
    assert.ok(api && worker);
    const access = await waitFor(
      () =>
        parse(api.proc.logs()).find(
          (l) => l['msg'] === 'request' && l['trace_id'] === traceId && l['route'] === '/v1/jobs',
        ),
      { timeoutMs: 5000, what: 'the access log line of the request' },
    );
    assert.equal(access['method'], 'POST');
    assert.equal(access['status'], 200);
    assert.equal(typeof access['duration_ms'], 'number');
    assert.equal(typeof access['client_wait_ms'], 'number', 'the wait is logged apart');
    assert.equal(access['tenant'], 'default');
    assert.match(String(access['span_id']), /^[0-9a-f]{16}$/);
    const finished = await waitFor(
      () => parse(worker.proc.logs()).find((l) => l['msg'] === 'job finished' && l['job_id'] === job.id),
      { timeoutMs: 5000, what: 'the worker line of the job' },
    );
    assert.equal(finished['trace_id'], traceId, 'the worker line carries the same trace');
    assert.match(String(finished['span_id']), /^[0-9a-f]{16}$/);
    assert.ok(!api.proc.logs().includes(SECRET) && !worker.proc.logs().includes(SECRET), 'no prompt text');
  },
  { timeout: 30_000 },
);

cluster.test(
  'an OpenAI chat request is a "chat {model}" span; a completion is "text_completion {model}"',
  async () => {
    const chat = await cluster.client.request('POST', '/v1/chat/completions', {
      body: { model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4, top_p: 0.5, seed: 7 },
    });
    assert.equal(chat.status, 200, describe(chat));
    const traceId = chat.headers.get('x-trace-id') ?? '';
    const span = await waitFor(() => spans.find((s) => s.traceId === traceId && s.name === `chat ${model}`), {
      timeoutMs: 10_000,
      what: 'the chat inference span',
    });
    assert.equal(attr(span, 'gen_ai.operation.name'), 'chat');
    assert.equal(attr(span, 'gen_ai.request.top_p'), 0.5);
    assert.equal(attr(span, 'gen_ai.request.seed'), 7);
    assert.ok(attr(span, 'gen_ai.response.id'));
  },
);
