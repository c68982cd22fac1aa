import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** One request the receiver got. */
export interface ReceivedHook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** The status the receiver answered with. */
  answered: number;
  at: number;
}

/**
 * A real HTTP webhook receiver for tests. Each path answers with the status its `script` gives for
 * the n-th request on it (default 200), and records everything it got.
 */
export class WebhookReceiver {
  readonly received: ReceivedHook[] = [];
  private readonly scripts = new Map<string, (n: number) => number>();
  private server: Server | undefined;
  url = '';

  /** `status(n)` for the n-th (1-based) request on `path`. */
  script(path: string, status: (n: number) => number): void {
    this.scripts.set(path, status);
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => {
        const path = req.url ?? '/';
        const n = this.received.filter((r) => r.path === path).length + 1;
        const answered = this.scripts.get(path)?.(n) ?? 200;
        this.received.push({
          path,
          id: String(req.headers['webhook-id'] ?? ''),
          timestamp: String(req.headers['webhook-timestamp'] ?? ''),
          signature: String(req.headers['webhook-signature'] ?? ''),
          body,
          answered,
          at: Date.now(),
        });
        res.statusCode = answered;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server?.listen(0, '127.0.0.1', () => r()));
    const a = this.server.address();
    this.url = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  }

  on(path: string): ReceivedHook[] {
    return this.received.filter((r) => r.path === path);
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }
}

/**
 * Standard Webhooks verification, written independently of the worker's signer: base64
 * HMAC-SHA256 with the secret's UTF-8 bytes over `<id>.<timestamp>.<body>`, header `v1,<sig>`.
 */
export function verifySignature(secret: string, hook: ReceivedHook, toleranceS = 300): boolean {
  if (Math.abs(Date.now() / 1000 - Number(hook.timestamp)) > toleranceS) return false;
  const expected = createHmac('sha256', Buffer.from(secret, 'utf8'))
    .update(`${hook.id}.${hook.timestamp}.${hook.body}`)
    .digest();
  return hook.signature.split(' ').some((s) => {
    if (!s.startsWith('v1,')) return false;
    const got = Buffer.from(s.slice(3), 'base64');
    return got.length === expected.length && timingSafeEqual(got, expected);
  });
}
