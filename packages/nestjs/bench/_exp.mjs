await import('reflect-metadata');
import { createRequire } from 'node:module';
const require = createRequire('/work/wt/nestjs/packages/nestjs/package.json');
const { Controller, Get, Module, Injectable } = await import(require.resolve('@nestjs/common'));
const { NestFactory, APP_GUARD } = await import(require.resolve('@nestjs/core'));
const { FastifyAdapter } = await import(require.resolve('@nestjs/platform-fastify'));
const { ExpressAdapter } = await import(require.resolve('@nestjs/platform-express'));
const autocannon = (await import(require.resolve('autocannon'))).default;
const { TenancyModule } = await import('/work/wt/nestjs/packages/nestjs/dist/index.js');
const { createMemoryTenantStore } = await import(require.resolve('@tenant/core'));
const variant = process.argv[2]; const platform = process.argv[3] ?? 'fastify';
class HelloController { hello() { return 'hello'; } }
Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
Controller()(HelloController);
class Noop { use(req, res, next) { next(); } }
Injectable()(Noop);
class NoopGuard { canActivate() { return true; } }
Injectable()(NoopGuard);
const imports = [];
const providers = [];
class AppModule { configure(consumer) { if (variant === 'mw') consumer.apply(Noop).forRoutes({ path: '*', method: 13 }); } }
if (variant === 'guard') providers.push({ provide: APP_GUARD, useClass: NoopGuard });
if (variant === 'tenant') imports.push(TenancyModule.forRoot({ store: createMemoryTenantStore({ tenants: [{ id: 'acme', quota: { requests: { limit: 1e12, windowMs: 60000 } } }] }) }));
Module({ imports, controllers: [HelloController], providers })(AppModule);
const app = await NestFactory.create(AppModule, platform === 'express' ? new ExpressAdapter() : new FastifyAdapter(), { logger: false });
await app.listen(0, '127.0.0.1');
const port = app.getHttpServer().address().port;
const url = `http://127.0.0.1:${port}/hello`;
await autocannon({ url, connections: 10, duration: 1, headers: { 'x-tenant-id': 'acme' } });
const c0 = process.cpuUsage();
const r = await autocannon({ url, connections: 10, duration: 3, headers: { 'x-tenant-id': 'acme' } });
const c = process.cpuUsage(c0);
console.log(variant, platform, Math.round(r.requests.average), 'req/s', r.non2xx, 'non2xx');
await app.close();
