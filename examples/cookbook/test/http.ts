// Test helpers: real servers on 127.0.0.1, real HTTP requests (the Host header can be set).
import type { AddressInfo } from 'node:net';
import { listen, sendRequest, type StartedServer, type TestRequest, type TestResponse } from '@tenant/adapter-testkit';
import type { FastifyInstance } from 'fastify';

export { listen, sendRequest };
export type { StartedServer, TestRequest, TestResponse };

/** Starts a fastify instance on a free port of 127.0.0.1. */
export async function listenFastify(app: FastifyInstance): Promise<StartedServer> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** The problem+json body of a refusal, checked for its media type. */
export function problem(response: TestResponse): { code: string; status: number; detail?: string } {
  if (!String(response.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`expected application/problem+json, got ${String(response.headers['content-type'])}: ${response.text()}`);
  }
  return response.json();
}
