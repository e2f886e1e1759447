import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { All, Controller, Get, Post, Req, Res } from '@nestjs/common';
import { expect, it } from 'vitest';
import type { TenantConfig } from '@tenant/core';
import { runAdapterConformance, type ConformanceHandler, type ConformanceRoute } from '@tenant/adapter-testkit';
import { CurrentTenant, TenancyModule } from '../src/index.js';
import { NEST_MAJOR, PLATFORMS, startNest } from './platforms.js';

type AnyRequest = IncomingMessage & { raw?: IncomingMessage; body?: unknown };
type AnyResponse = ServerResponse & { raw?: ServerResponse; hijack?: () => void };

/** The routes the suite asks for, mounted with Nest's router: one handler each, for its method only. */
function routesOf(routes: readonly ConformanceRoute[], handler: ConformanceHandler) {
  @Controller()
  class RoutesController {}
  const proto = RoutesController.prototype as unknown as Record<string, unknown>;
  routes.forEach((route, i) => {
    const name = `route${i}`;
    proto[name] = async function (req: AnyRequest, res: AnyResponse, tenant: TenantConfig | undefined): Promise<void> {
      const body = req.raw === undefined ? undefined : (req.body as Readable | undefined);
      await handler({ req: req.raw ?? req, res: res.raw ?? res, tenant, route: route.path, ...(body === undefined ? {} : { body }) });
      res.hijack?.();
    };
    Req()(proto, name, 0);
    Res()(proto, name, 1);
    CurrentTenant()(proto, name, 2);
    (route.method === 'GET' ? Get : Post)(route.path)(proto, name, Object.getOwnPropertyDescriptor(proto, name)!);
  });
  return RoutesController;
}

function catchAll(handler: ConformanceHandler) {
  @Controller()
  class CatchAllController {
    // every method and path, with the raw request and response on both platforms
    @All('*')
    async all(@Req() req: AnyRequest, @Res() res: AnyResponse, @CurrentTenant() tenant: TenantConfig | undefined): Promise<void> {
      const body = req.raw === undefined ? undefined : (req.body as Readable | undefined);
      // a rejection goes to Nest's exception layer (500)
      await handler({ req: req.raw ?? req, res: res.raw ?? res, tenant, ...(body === undefined ? {} : { body }) });
      // fastify: the handler answered on the raw response
      res.hijack?.();
    }
  }
  return CatchAllController;
}

it('runs on the major of NestJS this run is for', () => {
  // 12 in development; compat/nest11 runs this suite again on 11
  expect(NEST_MAJOR).toBe(Number(process.env['NEST_MAJOR'] ?? '12'));
});

for (const platform of PLATFORMS) {
  runAdapterConformance(`nestjs ${NEST_MAJOR} on ${platform}`, async ({ options, handler, routes }) =>
    // the suite's routes before the catch-all: Nest registers controllers' routes in order
    startNest(platform, { imports: [TenancyModule.forRoot(options)], controllers: [routesOf(routes, handler), catchAll(handler)], rawBodies: true }),
  );
}
