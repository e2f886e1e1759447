import Fastify, { type FastifyInstance } from 'fastify';
import { requireTenant } from '@tenant/core';
import { fastifyTenancy } from '@tenant/fastify';
import { quickstartOptions } from './quickstart-tenants.js';

export async function createApp(): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(fastifyTenancy, quickstartOptions());
  app.get('/health', async () => ({ status: 'ok' }));
  app.get('/whoami', async (request) => ({ tenant: requireTenant().id, plan: request.tenant?.plan }));
  return app;
}
