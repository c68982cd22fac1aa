import { createServer, type IncomingMessage, type Server } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { readProtoFields } from '@hotpath/model-runtime';

/** What an {@link OtlpSink} has received so far. */
export interface OtlpSinkStats {
  requests: number;
  bytes: number;
  spans: number;
}

/** A minimal in-process OTLP/HTTP trace receiver: accepts, counts and drops. */
export interface OtlpSink {
  /** `OTEL_EXPORTER_OTLP_ENDPOINT` for the processes under test. */
  endpoint: string;
  stats(): OtlpSinkStats;
  close(): Promise<void>;
}

/** Spans in an `ExportTraceServiceRequest` (resource_spans=1 → scope_spans=2 → spans=2). */
export function countProtobufSpans(body: Uint8Array): number {
  let n = 0;
  for (const rs of readProtoFields(body)) {
    if (rs.field !== 1 || rs.wire !== 2) continue;
    for (const ss of readProtoFields(rs.value)) {
      if (ss.field !== 2 || ss.wire !== 2) continue;
      for (const sp of readProtoFields(ss.value)) if (sp.field === 2 && sp.wire === 2) n++;
    }
  }
  return n;
}

function countJsonSpans(text: string): number {
  const doc = JSON.parse(text) as { resourceSpans?: { scopeSpans?: { spans?: unknown[] }[] }[] };
  let n = 0;
  for (const rs of doc.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) n += ss.spans?.length ?? 0;
  return n;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * Starts the sink on 127.0.0.1 and a free port. Answers `POST /v1/traces` with an empty success.
 * Bodies are only kept while the load runs and decoded when {@link OtlpSink.stats} is asked: the sink
 * stands in for a Jaeger on another host, so its decoding must not take CPU from the run it measures.
 */
export async function startOtlpSink(): Promise<OtlpSink> {
  const stats: OtlpSinkStats = { requests: 0, bytes: 0, spans: 0 };
  const pending: { raw: Buffer; json: boolean; gzip: boolean }[] = [];
  const countPending = (): void => {
    for (const { raw, json, gzip } of pending.splice(0)) {
      try {
        const body = gzip ? gunzipSync(raw) : raw;
        stats.spans += json ? countJsonSpans(body.toString('utf8')) : countProtobufSpans(body);
      } catch {
        // Counting is best effort; the exporter only needs its 200.
      }
    }
  };
  const server: Server = createServer((req, res) => {
    void readBody(req).then(
      (raw) => {
        stats.requests++;
        stats.bytes += raw.length;
        const json = (req.headers['content-type'] ?? '').includes('json');
        pending.push({ raw, json, gzip: req.headers['content-encoding'] === 'gzip' });
        res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
        res.end(json ? '{}' : undefined);
      },
      () => {
        res.writeHead(400);
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('OTLP sink has no TCP address');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stats: () => {
      countPending();
      return { ...stats };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
