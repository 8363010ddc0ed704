import { createServer } from 'node:net';

/**
 * A TCP port free on the loopback interface right now, for servers that local runs, tests,
 * the smoke test and the benchmark start (embedded PostgreSQL, app processes, stand-ins).
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}
