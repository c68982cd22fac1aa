import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * One keep-alive pool per protocol for every request the client sends. The benches' load
 * generator shares the cores with the system it measures, so the client's own cost per request
 * matters: `node:http` with a keep-alive pool takes a fraction of the CPU of `fetch` (undici plus
 * an `AbortSignal.timeout` per call), leaving more of the machine to the API, workers and Redis.
 */
const agents = {
  'http:': new HttpAgent({ keepAlive: true, maxSockets: Infinity }),
  'https:': new HttpsAgent({ keepAlive: true, maxSockets: Infinity }),
};

/** One HTTP answer: status, headers, the raw text and the parsed JSON (`undefined` when not JSON). */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  json: unknown;
}

/** What one request sends. */
export interface TransportRequest {
  method: string;
  headers: Record<string, string>;
  /** Already serialised. */
  body?: string;
  /** Bound of the whole exchange, from sending to the last byte. */
  timeoutMs: number;
}

/** An answer whose body has not been read: for streams (SSE) the caller consumes it. */
export interface OpenResponse {
  status: number;
  headers: Headers;
  body: IncomingMessage;
  /** Ends the exchange (and its deadline) early. */
  close(): void;
}

function toHeaders(raw: IncomingMessage['headers']): Headers {
  const h = new Headers();
  for (const [k, v] of Object.entries(raw)) {
    if (Array.isArray(v)) for (const one of v) h.append(k, one);
    else if (v !== undefined) h.set(k, v);
  }
  return h;
}

/**
 * Sends one request and resolves once the status line and headers arrived; the body is left to
 * the caller. Rejects on network errors and when `timeoutMs` passes first; the same deadline then
 * still bounds the body, which is destroyed with an error when it outlives it.
 */
export function openRequest(url: URL, req: TransportRequest): Promise<OpenResponse> {
  return new Promise((resolve, reject) => {
    const isHttps = url.protocol === 'https:';
    const send = isHttps ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = { ...req.headers };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const r = send(
      url,
      { method: req.method, agent: agents[isHttps ? 'https:' : 'http:'], headers },
      (res) => {
        resolve({
          status: res.statusCode ?? 0,
          headers: toHeaders(res.headers),
          body: res,
          close: () => {
            clearTimeout(timer);
            res.destroy();
          },
        });
        res.once('close', () => clearTimeout(timer));
      },
    );
    const timer = setTimeout(
      () => r.destroy(new Error(`no complete answer from ${url.pathname} within ${req.timeoutMs} ms`)),
      req.timeoutMs,
    );
    r.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    r.end(req.body);
  });
}

/** Sends one request and reads the whole answer; any status resolves. */
export async function sendRequest(url: URL, req: TransportRequest): Promise<HttpResponse> {
  const res = await openRequest(url, req);
  const chunks: Buffer[] = [];
  for await (const c of res.body) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  let json: unknown;
  try {
    json = text.length > 0 ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}
