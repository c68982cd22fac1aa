import { strict as assert } from 'node:assert';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { HotpathClient } from './hotpath-client';

/**
 * A real HTTP server whose `/v1/jobs/{id}/events` sends a `done` event, then ends the stream
 * (`end`) or keeps it open (`hang`), counting the TCP connections it accepted.
 */
describe('SseReader.close on real HTTP', () => {
  let server: Server;
  let base: string;
  let connections = 0;
  const open: ServerResponse[] = [];

  before(async () => {
    server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('event: done\ndata: {"status":"completed"}\n\n');
      // The end follows the last event a moment later, as over a real network.
      if (req.url?.includes('end')) setTimeout(() => res.end(), 20);
      else open.push(res);
    });
    server.on('connection', () => connections++);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    open.forEach((res) => res.destroy());
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  async function followToDone(client: HotpathClient, id: string, graceMs?: number): Promise<void> {
    const res = await client.events(id);
    assert.ok(res.reader);
    const batch = await res.reader.next();
    assert.equal(batch?.[0]?.event, 'done');
    await res.reader.close(graceMs);
  }

  it('waits for the end of the stream so the next request reuses the connection', async () => {
    const client = new HotpathClient(base);
    const before = connections;
    for (let i = 0; i < 3; i++) await followToDone(client, `end-${i}`);
    assert.equal(connections - before, 1, 'three streams, one keep-alive connection');
  });

  it('gives up after the grace time on a stream the server keeps open', async () => {
    const client = new HotpathClient(base);
    const t0 = performance.now();
    await followToDone(client, 'hang', 100);
    const waited = performance.now() - t0;
    assert.ok(waited >= 90 && waited < 2000, `closed after ${waited} ms`);
  });
});
