import { Controller, Get, Module } from '@nestjs/common';
import { demoTenancyOptions, TOKENS_USED_HEADER } from '@tenant/example-shared';
import type { AdapterExtras, TenancyOptions, TenantAdmitted, TenantConfig } from '@tenant/core';
import { CurrentDecision, CurrentTenant, TenancyModule } from '@tenant/nestjs';
import { ChatController } from './chat.controller.js';
import { NotesController } from './notes.controller.js';

@Controller()
export class InfoController {
  // `/health` is in skipPaths: no tenant needed, none in context
  @Get('health')
  health() {
    return { status: 'ok' };
  }

  @Get('whoami')
  whoami(@CurrentTenant() tenant: TenantConfig, @CurrentDecision() decision: TenantAdmitted | undefined) {
    return { id: tenant.id, name: tenant.name, plan: tenant.plan, viaRequest: tenant.id, quota: decision?.quota?.dimensions };
  }
}

// The options every adapter example shares (examples/shared/src/demo.ts):
// the demo tenants in memory, resolution by subdomain or X-Tenant-Id, /health
// skipped. Policy and cost are not taken from the path here (the shared
// options do that for the other frameworks): /chat declares them with
// decorators, keyed on the route Nest matched.
const { policyRequest: _byPath, cost: _costByPath, actualCost: _settleByPath, ...shared } = demoTenancyOptions() as TenancyOptions & AdapterExtras;

@Module({
  imports: [
    TenancyModule.forRoot({
      ...shared,
      // the real token count, from the header only the chat route sets
      actualCost: (_request, response) => {
        const used = response.getHeader(TOKENS_USED_HEADER);
        return used === undefined ? undefined : { requests: 1, tokens: Number(used) };
      },
    }),
  ],
  controllers: [InfoController, NotesController, ChatController],
})
export class AppModule {}
