import { strict as assert } from 'node:assert';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SpanKind, context, trace } from '@opentelemetry/api';
import { extractTraceContext, injectTraceContext, startTelemetry } from './tracing';

// One process per test file: telemetry starts once per process by design.
describe('startTelemetry with OTLP http/json', () => {
  const bodies: { path: string; type: string; body: Buffer }[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      bodies.push({
        path: req.url ?? '',
        type: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks),
      });
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  let endpoint = '';
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => server.close());

  it('exports spans with the service resource, and a second start throws', async () => {
    const t = startTelemetry('hotpath-test', '1.2.3', {
      OTEL_EXPORTER_OTLP_ENDPOINT: endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
    });
    assert.equal(t.enabled, true);
    assert.throws(() => startTelemetry('again', '0', {}), /already started/);

    const parent = t.tracer.startSpan('POST /v1/jobs', { kind: SpanKind.SERVER });
    const carrier = injectTraceContext(trace.setSpan(context.active(), parent));
    assert.match(carrier['traceparent'] ?? '', /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const child = t.tracer.startSpan('job', { kind: SpanKind.CONSUMER }, extractTraceContext(carrier));
    child.end();
    parent.end();
    await t.shutdown();

    const traces = bodies.filter((b) => b.path === '/v1/traces');
    assert.ok(traces.length >= 1, 'the exporter posted to /v1/traces');
    assert.match(traces[0]!.type, /application\/json/);
    const payload = JSON.parse(traces.map((b) => b.body.toString()).join('')) as {
      resourceSpans: {
        resource: { attributes: { key: string; value: { stringValue?: string } }[] };
        scopeSpans: { spans: { name: string; traceId: string; kind: number }[] }[];
      }[];
    };
    const rs = payload.resourceSpans[0]!;
    const svc = rs.resource.attributes.find((a) => a.key === 'service.name');
    assert.equal(svc?.value.stringValue, 'hotpath-test');
    const spans = rs.scopeSpans.flatMap((s) => s.spans);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['POST /v1/jobs', 'job']);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'the consumer continues the producer trace');
  });
});
