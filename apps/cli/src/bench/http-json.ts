import { Agent, request } from 'node:http';

/**
 * One keep-alive agent for every JSON request the benches send. The load generator shares two
 * cores with the system it measures, so its own cost per request matters: `node:http` with a
 * keep-alive pool takes a fraction of the CPU of `fetch` (undici plus an `AbortSignal.timeout`
 * per call), leaving more of the machine to the API, the worker and Redis.
 */
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

/** An answer: status, one header the caller asked for, and the parsed JSON body (undefined if not JSON). */
export interface JsonAnswer<T> {
  status: number;
  header: string | undefined;
  body: T | undefined;
}

/**
 * Sends one HTTP request to a loopback `http://` URL and reads a JSON answer. Rejects on network
 * errors and after `timeoutMs` without an answer; any status resolves.
 */
export function requestJson<T>(
  url: string,
  opts: {
    method?: 'GET' | 'POST';
    body?: unknown;
    headers?: Record<string, string>;
    timeoutMs: number;
    readHeader?: string;
  },
): Promise<JsonAnswer<T>> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = request(
      url,
      {
        method: opts.method ?? (payload === undefined ? 'GET' : 'POST'),
        agent,
        headers: {
          ...opts.headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          let body: T | undefined;
          try {
            body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as T;
          } catch {
            body = undefined;
          }
          const h = opts.readHeader ? res.headers[opts.readHeader] : undefined;
          resolve({ status: res.statusCode ?? 0, header: Array.isArray(h) ? h[0] : h, body });
        });
      },
    );
    req.setTimeout(opts.timeoutMs, () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}
