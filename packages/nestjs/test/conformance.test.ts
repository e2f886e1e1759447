import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { All, Controller, Req, Res } from '@nestjs/common';
import type { TenantConfig } from '@tenant/core';
import { runAdapterConformance, type ConformanceHandler } from '@tenant/adapter-testkit';
import { CurrentTenant, TenancyModule } from '../src/index.js';
import { PLATFORMS, startNest } from './platforms.js';

type AnyRequest = IncomingMessage & { raw?: IncomingMessage; body?: unknown };
type AnyResponse = ServerResponse & { raw?: ServerResponse; hijack?: () => void };

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

for (const platform of PLATFORMS) {
  runAdapterConformance(`nestjs 11 on ${platform}`, async ({ options, handler }) =>
    startNest(platform, { imports: [TenancyModule.forRoot(options)], controllers: [catchAll(handler)], rawBodies: true }),
  );
}
