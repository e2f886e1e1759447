import 'reflect-metadata';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { requireTenant, type TenantConfig } from '@tenant/core';
import { CurrentTenant, TenancyModule } from '@tenant/nestjs';
import { quickstartOptions } from './quickstart-tenants.js';

@Controller()
class AppController {
  @Get('health') // in skipPaths: no tenant
  health() {
    return { status: 'ok' };
  }

  @Get('whoami')
  whoami(@CurrentTenant() tenant: TenantConfig) {
    return { tenant: requireTenant().id, plan: tenant.plan };
  }
}

@Module({ imports: [TenancyModule.forRoot(quickstartOptions())], controllers: [AppController] })
class AppModule {}

export function createApp(): Promise<INestApplication> {
  return NestFactory.create(AppModule, { logger: false }); // on fastify: NestFactory.create(AppModule, new FastifyAdapter())
}
