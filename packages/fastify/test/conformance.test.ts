import type { Readable } from 'node:stream';
import Fastify from 'fastify';
import { runAdapterConformance } from '@tenant/adapter-testkit';
import { fastifyTenancy } from '../src/index.js';

runAdapterConformance('fastify 5', async ({ options, handler }) => {
  const app = Fastify();
  await app.register(fastifyTenancy, options);
  // every body reaches the handler as the raw stream
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.all('/*', async (request, reply) => {
    const body = request.body as Readable | undefined;
    // a rejection goes to fastify's error handling (500)
    await handler({ req: request.raw, res: reply.raw, tenant: request.tenant, ...(body === undefined ? {} : { body }) });
    // the handler answered on the raw response
    reply.hijack();
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
