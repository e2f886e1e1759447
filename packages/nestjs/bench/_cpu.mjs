// node bench/_cpu.mjs <platform> <bare|tenant>: server CPU µs per request over 20k requests
import { fork } from 'node:child_process';
if (process.env.CHILD) {
  const { serveNest } = await import('./serve.mjs');
  const { createMemoryTenantStore, currentTenantId } = await import('@tenant/core');
  const extra = process.argv[3] === 'noquota' ? { quota: false, policy: false } : process.argv[3] === 'skip' ? { skipPaths: ['/hello'] } : {};
  const options = process.argv[3] === 'bare' ? undefined : {
    store: createMemoryTenantStore({ tenants: [{ id: 'acme', policy: { models: ['small', 'large'] }, quota: { requests: { limit: 1e12, windowMs: 60_000 } } }] }),
    policyRequest: () => ({ model: 'small' }), skipPaths: ['/health'], ...extra,
  };
  const v = process.argv[3];
  let port;
  if (v === 'bare' || v === 'tenant' || v === 'noquota' || v === 'skip') port = await serveNest(process.argv[2], { options, hello: () => `hello ${currentTenantId?.() ?? 'acme'}` });
  else {
    await import('reflect-metadata');
    const { Controller, Get, Module, Injectable, RequestMethod } = await import('@nestjs/common');
    const { NestFactory, APP_GUARD, APP_FILTER } = await import('@nestjs/core');
    const { TenancyExceptionFilter } = await import('../dist/index.js');
    class HelloController { hello() { return 'hello'; } }
    Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
    Controller()(HelloController);
    const { runWithTenant } = await import('@tenant/core');
    const t = { id: 'acme' };
    class Noop { use(req, res, next) { if (v.includes('async')) Promise.resolve().then(() => runWithTenant(t, next)); else if (v.includes('als')) runWithTenant(t, next); else next(); } }
    Injectable()(Noop);
    class NoopGuard { async canActivate() { await null; return true; } }
    Injectable()(NoopGuard);
    const providers = [];
    class AppModule { configure(consumer) { if (v.includes('mw')) consumer.apply(Noop).forRoutes({ path: '*', method: RequestMethod.ALL }); } }
    if (v.includes('guard')) providers.push({ provide: APP_GUARD, useClass: NoopGuard });
    if (v.includes('filter')) providers.push({ provide: APP_FILTER, useClass: TenancyExceptionFilter });
    Module({ controllers: [HelloController], providers })(AppModule);
    const adapter = process.argv[2] === 'express' ? new (await import('@nestjs/platform-express')).ExpressAdapter() : new (await import('@nestjs/platform-fastify')).FastifyAdapter();
    const app = await NestFactory.create(AppModule, adapter, { logger: false });
    await app.listen(0, '127.0.0.1');
    port = app.getHttpServer().address().port;
  }
  process.on('message', () => { const c = process.cpuUsage(); process.send(c.user + c.system); }); process.on('SIGINT', () => process.exit(0));
  process.send(port);
} else {
  const child = fork(new URL(import.meta.url), process.argv.slice(2), { env: { ...process.env, CHILD: '1' }, execArgv: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.PROF] : [] });
  const port = await new Promise((r) => child.once('message', r));
  const ac = (await import('autocannon')).default;
  const run = (amount) => ac({ url: `http://127.0.0.1:${port}/hello`, connections: 10, amount, headers: { 'x-tenant-id': 'acme' } });
  await run(5000);
  const cpu = () => new Promise((r) => { child.once('message', r); child.send('cpu'); });
  const c0 = await cpu(); const r = await run(20000); const c1 = await cpu();
  console.log(process.version, process.argv.slice(2).join(' '), ((c1 - c0) / 20000).toFixed(1), 'µs CPU/request', r.non2xx, 'non2xx');
  child.kill('SIGINT');
}
