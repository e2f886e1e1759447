import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { StartedServer } from './types.js';

/**
 * Listens on `127.0.0.1` and a free port (unless the server already
 * listens) and returns what `start()` must return: the URL, and a `close()`
 * that also ends keep-alive connections, so that it does not hang, and
 * that does nothing once the server is closed.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { listen, runAdapterConformance } from '@tenant/adapter-testkit';
 *
 * runAdapterConformance('my adapter', ({ options, handler }) => listen(createServer(myAdapter(options, handler))));
 * ```
 */
export async function listen(server: Server): Promise<StartedServer> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  }
  const address = server.address() as AddressInfo | string | null;
  if (address === null || typeof address === 'string') throw new TypeError('[@tenant/adapter-testkit] listen() needs a TCP server');
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve(); // closed already: closing twice is harmless
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections();
      }),
  };
}
