import { benchmarkAdapter } from '@tenant/adapter-testkit/bench';
const variant = process.env.VARIANT;
await benchmarkAdapter({
  name: `exp ${variant}`,
  script: import.meta.url,
  async serve({ options, hello }) {
    await import('reflect-metadata');
    const { Controller, Get, Module, Injectable, RequestMethod } = await import('@nestjs/common');
    const { NestFactory, APP_GUARD } = await import('@nestjs/core');
    class HelloController { hello() { return hello(); } }
    Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
    Controller()(HelloController);
    class Noop { use(req, res, next) { next(); } }
    Injectable()(Noop);
    class NoopGuard { canActivate() { return true; } }
    Injectable()(NoopGuard);
    const imports = []; const providers = [];
    const v = options ? variant : 'bare';
    class AppModule { configure(consumer) { if (v === 'mw' || v === 'mwguard') consumer.apply(Noop).forRoutes({ path: '*', method: RequestMethod.ALL }); } }
    if (v === 'guard' || v === 'mwguard') providers.push({ provide: APP_GUARD, useClass: NoopGuard });
    if (v === 'tenant') imports.push((await import('../dist/index.js')).TenancyModule.forRoot(options));
    Module({ imports, controllers: [HelloController], providers })(AppModule);
    const adapter = process.env.PLATFORM === 'express' ? new (await import('@nestjs/platform-express')).ExpressAdapter() : new (await import('@nestjs/platform-fastify')).FastifyAdapter();
    const app = await NestFactory.create(AppModule, adapter, { logger: false });
    await app.listen(0, '127.0.0.1');
    return app.getHttpServer().address().port;
  },
});
