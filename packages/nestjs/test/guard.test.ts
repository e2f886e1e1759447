import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { describe, expect, it } from 'vitest';
import { createAdapterTestStore } from '@tenant/adapter-testkit';
import { createTenancy, type AdapterOptions } from '@tenant/core';
import { SkipTenancy, TenancyException, TenancyGuard, TenancyMiddleware } from '../src/index.js';

// The guard on handlers that are not HTTP routes, as GraphQL resolvers are:
// their arguments carry the HTTP request (GraphQL's context object: { req }).

class Resolvers {
  notes() {}
  @SkipTenancy()
  status() {}
}

async function admitted(tenant: string | undefined) {
  const options: AdapterOptions = { store: createAdapterTestStore() };
  const pipeline = createTenancy(options as never);
  const req = { url: '/graphql', method: 'POST', headers: tenant === undefined ? {} : { 'x-tenant-id': tenant } } as unknown as IncomingMessage;
  await new Promise<void>((resolve, reject) => new TenancyMiddleware(pipeline, options).use(req, {} as ServerResponse, (error) => (error ? reject(error as Error) : resolve())));
  return { guard: new TenancyGuard(pipeline, options, new Reflector()), req };
}

/** An execution context of another kind than 'http', as Nest builds for resolvers and message handlers. */
function contextOf(type: string, args: unknown[], handler: keyof Resolvers = 'notes'): ExecutionContext {
  const none = () => {
    throw new Error(`not an HTTP context: ${type}`);
  };
  return {
    getType: <T extends string>() => type as T,
    getArgs: <T extends unknown[]>() => args as T,
    getArgByIndex: <T>(index: number) => args[index] as T,
    getClass: <T>() => Resolvers as T,
    getHandler: () => Resolvers.prototype[handler],
    switchToHttp: none,
    switchToRpc: none,
    switchToWs: none,
  } as ExecutionContext;
}
const graphqlContext = (args: unknown[], handler: keyof Resolvers = 'notes') => contextOf('graphql', args, handler);

describe('TenancyGuard on other kinds of handlers', () => {
  it('refuses a resolver serving an HTTP request whose tenant was refused', async () => {
    for (const tenant of [undefined, 'nobody', 'initech']) {
      const { guard, req } = await admitted(tenant);
      await expect(guard.canActivate(graphqlContext([{}, {}, { req }, {}]))).rejects.toBeInstanceOf(TenancyException);
      await expect(guard.canActivate(graphqlContext([{}, {}, { request: req }, {}]))).rejects.toBeInstanceOf(TenancyException);
      // unless the resolver needs no tenant
      await expect(guard.canActivate(graphqlContext([{}, {}, { req }, {}], 'status'))).resolves.toBe(true);
    }
  });

  it('lets through a resolver serving an admitted tenant, and handlers with no HTTP request at hand', async () => {
    const { guard, req } = await admitted('acme');
    await expect(guard.canActivate(graphqlContext([{}, {}, { req }, {}]))).resolves.toBe(true);
    await expect(guard.canActivate(contextOf('rpc', [{ pattern: 'x' }, {}]))).resolves.toBe(true);
  });
});
