import { createServer } from 'node:net';

/**
 * A TCP port the OS considered free a moment ago on `host` (listen on 0, read, close). Another
 * process may take it before the caller binds it: a child started on it can die with EADDRINUSE,
 * which {@link retryOnPortClash} settles.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port > 0 ? resolve(port) : reject(new Error('the OS assigned no port'))));
    });
  });
}

/** Whether `port` can be bound on `host` right now (so a child will not die on EADDRINUSE). */
export function portAvailable(port: number, host = '0.0.0.0'): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}
