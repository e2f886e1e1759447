// One Nest server for the benchmarks, in plain JavaScript (decorators
// applied as functions): a hello route, on express or fastify, with
// TenancyModule.forRoot(options) when options are given. Loaded in each
// server's own process by benchmarkAdapter(): the bare one never loads
// @tenant/nestjs nor @tenant/core.
export async function serveNest(platform, { options, hello }) {
  await import('reflect-metadata');
  const { Controller, Get, Module } = await import('@nestjs/common');
  const { NestFactory } = await import('@nestjs/core');
  class HelloController {
    hello() {
      return hello();
    }
  }
  Get('hello')(HelloController.prototype, 'hello', Object.getOwnPropertyDescriptor(HelloController.prototype, 'hello'));
  Controller()(HelloController);
  const imports = options ? [(await import('../dist/index.js')).TenancyModule.forRoot(options)] : [];
  class AppModule {}
  Module({ imports, controllers: [HelloController] })(AppModule);
  const adapter =
    platform === 'express'
      ? new (await import('@nestjs/platform-express')).ExpressAdapter()
      : new (await import('@nestjs/platform-fastify')).FastifyAdapter();
  const app = await NestFactory.create(AppModule, adapter, { logger: false });
  await app.listen(0, '127.0.0.1');
  return app.getHttpServer().address().port;
}
