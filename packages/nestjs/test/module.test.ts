import { Controller, Get, Inject, Injectable, Module } from '@nestjs/common';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdapterTestStore, sendRequest } from '@tenant/adapter-testkit';
import { createMemoryTenantStore, createTenancy, fromHeader, type MemoryTenantStore, type Tenancy } from '@tenant/core';
import { TENANCY_OPTIONS, TENANCY_PIPELINE, TenancyModule, TenancyService } from '../src/index.js';
import { PLATFORMS, startNest, type StartedApp } from './platforms.js';

const apps: StartedApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const STORE = Symbol('store');
const SETTINGS = Symbol('settings');

/** Stands for a config or database module: providers built asynchronously. */
@Module({
  providers: [
    { provide: STORE, useFactory: async () => createAdapterTestStore() },
    { provide: SETTINGS, useValue: { tenantHeader: 'x-org' } },
  ],
  exports: [STORE, SETTINGS],
})
class InfraModule {}

/** A feature module that does not import TenancyModule. */
@Injectable()
class FeatureService {
  constructor(readonly tenancy: TenancyService) {}
}
@Controller('feature')
class FeatureController {
  constructor(
    private readonly feature: FeatureService,
    @Inject(TENANCY_PIPELINE) private readonly pipeline: Tenancy,
  ) {}
  @Get()
  get() {
    return { tenant: this.feature.tenancy.require().id, pipeline: this.pipeline === this.feature.tenancy.pipeline };
  }
}
@Module({ controllers: [FeatureController], providers: [FeatureService] })
class FeatureModule {}

describe.each(PLATFORMS)('TenancyModule on %s', (platform) => {
  it('forRootAsync builds the options from injected providers of imported modules', async () => {
    let calls = 0;
    const app = await startNest(platform, {
      imports: [
        TenancyModule.forRootAsync({
          imports: [InfraModule],
          inject: [STORE, SETTINGS],
          useFactory: async (store: MemoryTenantStore, settings: { tenantHeader: string }) => {
            calls += 1;
            await new Promise((resolve) => setTimeout(resolve, 1));
            return { store, resolve: fromHeader(settings.tenantHeader) };
          },
        }),
        FeatureModule,
      ],
    });
    apps.push(app);
    expect(calls).toBe(1);
    const res = await sendRequest(app.url, { path: '/feature', headers: { 'x-org': 'globex' } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ tenant: 'globex', pipeline: true });
    // the factory's resolver, not the default header
    expect((await sendRequest(app.url, { path: '/feature', headers: { 'x-tenant-id': 'globex' } })).status).toBe(400);
  });

  it('is global by default: a module that does not import it injects TenancyService', async () => {
    const app = await startNest(platform, { imports: [TenancyModule.forRoot({ store: createAdapterTestStore() }), FeatureModule] });
    apps.push(app);
    expect((await sendRequest(app.url, { path: '/feature', headers: { 'x-tenant-id': 'acme' } })).json()).toEqual({ tenant: 'acme', pipeline: true });
  });

  it('works in a testing module (@nestjs/testing), with the options overridden for the test', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'test-only' }] });
    const moduleRef = await Test.createTestingModule({ imports: [TenancyModule.forRoot({ store: createAdapterTestStore() }), FeatureModule] })
      .overrideProvider(TENANCY_OPTIONS)
      .useValue({ store })
      .compile();
    const app = platform === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: false }) : moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    try {
      expect((await sendRequest(url, { path: '/feature', headers: { 'x-tenant-id': 'test-only' } })).json()).toEqual({ tenant: 'test-only', pipeline: true });
      const refused = await sendRequest(url, { path: '/feature', headers: { 'x-tenant-id': 'acme' } });
      expect(refused.status).toBe(404);
      expect(refused.headers['content-type']).toBe('application/problem+json');
    } finally {
      await app.close();
    }
  });

  it('runs a pipeline given as { tenancy }, shared with code outside Nest', async () => {
    const tenancy = createTenancy({ store: createAdapterTestStore() });
    const app = await startNest(platform, { imports: [TenancyModule.forRoot({ tenancy }), FeatureModule] });
    apps.push(app);
    expect(app.app.get(TENANCY_PIPELINE)).toBe(tenancy);
    expect(app.app.get(TenancyService).pipeline).toBe(tenancy);
    expect((await sendRequest(app.url, { path: '/feature', headers: { 'x-tenant-id': 'acme' } })).status).toBe(200);
  });
});

describe('TenancyModule options', () => {
  const create = (module: ReturnType<typeof TenancyModule.forRoot>, extra: unknown[] = []) => {
    @Module({ imports: [module, ...(extra as never[])] })
    class AppModule {}
    return NestFactory.create(AppModule, { logger: false, abortOnError: false });
  };

  it('isGlobal: false keeps TenancyService to the modules that import it', async () => {
    await expect(create(TenancyModule.forRoot({ store: createAdapterTestStore(), isGlobal: false }), [FeatureModule])).rejects.toThrow(/TenancyService/);
    const app = await create(TenancyModule.forRoot({ store: createAdapterTestStore(), isGlobal: false }));
    expect(app.get(TenancyService)).toBeInstanceOf(TenancyService);
    await app.close();
  });

  it('refuses nonsense at start-up with the reason', async () => {
    await expect(create(TenancyModule.forRoot({} as never))).rejects.toThrow(/needs a store/);
    await expect(create(TenancyModule.forRoot({ store: createAdapterTestStore(), trustProxy: 'yes' } as never))).rejects.toThrow(/trustProxy must be a boolean/);
    await expect(create(TenancyModule.forRoot({ tenancy: createTenancy({ store: createAdapterTestStore() }), skipPaths: ['/x'] } as never))).rejects.toThrow(/either \{ tenancy \}/);
    expect(() => TenancyModule.forRoot({ store: createAdapterTestStore(), isGlobal: 'no' } as never)).toThrow(/isGlobal must be a boolean/);
    expect(() => TenancyModule.forRoot(null as never)).toThrow(TypeError);
    expect(() => TenancyModule.forRootAsync({} as never)).toThrow(/useFactory/);
    await expect(
      create(TenancyModule.forRootAsync({ useFactory: async () => Promise.reject(new Error('config service down')) })),
    ).rejects.toThrow(/config service down/);
  });
});
