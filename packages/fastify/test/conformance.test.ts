import type { Readable } from 'node:stream';
import Fastify, { type FastifyReply, type FastifyRequest, type FastifyServerOptions } from 'fastify';
import { runAdapterConformance, type StartServer } from '@tenant/adapter-testkit';
import { fastifyTenancy } from '../src/index.js';

const start =
  (config: FastifyServerOptions = {}): StartServer =>
  async ({ options, handler, routes }) => {
    const app = Fastify(config);
    await app.register(fastifyTenancy, options);
    // every body reaches the handler as the raw stream
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    const serve = (route?: string) => async (request: FastifyRequest, reply: FastifyReply) => {
      const body = request.body as Readable | undefined;
      // a rejection goes to fastify's error handling (500)
      await handler({ req: request.raw, res: reply.raw, tenant: request.tenant, ...(body === undefined ? {} : { body }), ...(route === undefined ? {} : { route }) });
      // the handler answered on the raw response
      reply.hijack();
    };
    // the guarded routes, on fastify's own router
    for (const route of routes) app.route({ method: route.method, url: route.path, handler: serve(route.path) });
    app.all('/*', serve());
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    return { url, close: () => app.close() };
  };

runAdapterConformance('fastify 5', start());
// `useSemicolonDelimiter` is a router option fastify 5 reads, though its type leaves it out.
const LAX_ROUTER = { caseSensitive: false, ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, useSemicolonDelimiter: true } as NonNullable<FastifyServerOptions['routerOptions']>;
// The instance's router settings are read: the variants follow them.
runAdapterConformance(
  'fastify 5, lax router (caseSensitive: false, ignoreTrailingSlash, ignoreDuplicateSlashes, useSemicolonDelimiter)',
  start({ routerOptions: LAX_ROUTER }),
  { only: ['path-variants', 'policy', 'resolve-path'] },
);
