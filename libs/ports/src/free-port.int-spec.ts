import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { freePort, portAvailable } from './free-port';

describe('free ports', () => {
  it('hands out a port that can be bound, and sees it taken while something listens on it', async () => {
    const port = await freePort();
    assert.ok(port > 0);
    assert.equal(await portAvailable(port, '127.0.0.1'), true);
    const srv = createServer();
    await new Promise<void>((resolve) => srv.listen(port, '127.0.0.1', resolve));
    try {
      assert.equal(await portAvailable(port, '127.0.0.1'), false);
    } finally {
      await new Promise((resolve) => srv.close(resolve));
    }
  });
});
