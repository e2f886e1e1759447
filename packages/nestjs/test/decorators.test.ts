import assert from 'node:assert/strict';
import {
  Body,
  Catch,
  Controller,
  Get,
  Inject,
  Post,
  UseFilters,
  type ArgumentsHost,
  type ExceptionFilter,
} from '@nestjs/common';
import { APP_FILTER, HttpAdapterHost } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdapterTestStore, parseRateLimit, sendRequest } from '@tenant/adapter-testkit';
import { currentTenantId, type TenantAdmitted, type TenantConfig } from '@tenant/core';
import {
  CurrentDecision,
  CurrentTenant,
  RequirePolicy,
  SkipTenancy,
  TenancyException,
  TenancyModule,
  TenancyService,
  TenantCost,
  replyWithRejection,
  type TenancyModuleOptions,
} from '../src/index.js';
import { PLATFORMS, startNest, type StartOptions, type StartedApp } from './platforms.js';

const apps: StartedApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const acme = { 'x-tenant-id': 'acme' };
const globex = { 'x-tenant-id': 'globex' };

/** Tenants of the adapter test store, plus one with a model allow-list. */
function storeWithPolicy() {
  const store = createAdapterTestStore();
  return store.create({ id: 'umbrella', policy: { models: ['small'], features: ['export'] }, quota: { requests: { limit: 5, windowMs: 60_000 } } }).then(() => store);
}

let tokenCalls = 0;

@Controller()
class RoutesController {
  constructor(private readonly tenancy: TenancyService) {}

  @Get('whoami')
  whoami(@CurrentTenant() tenant: TenantConfig | undefined, @CurrentTenant('id') id: string | undefined) {
    return { tenant: tenant?.id ?? null, id: id ?? null, context: currentTenantId() ?? null, service: this.tenancy.current()?.id ?? null };
  }

  @Get('decision')
  decision(@CurrentDecision() decision: TenantAdmitted | undefined) {
    return { source: decision?.source ?? null, remaining: decision?.quota?.dimensions.requests?.remaining ?? null, headers: Object.keys(decision?.headers ?? {}) };
  }

  @Get('public')
  @SkipTenancy()
  public(@CurrentTenant() tenant: TenantConfig | undefined) {
    return { tenant: tenant?.id ?? null, context: currentTenantId() ?? null };
  }

  @Get('models/small')
  @RequirePolicy({ models: 'small' })
  small() {
    return { ok: currentTenantId() };
  }

  @Get('models/large')
  @RequirePolicy({ models: 'large' })
  large() {
    return { ok: currentTenantId() };
  }

  @Get('models/by-header')
  @RequirePolicy((request) => ({ models: request.header('x-model') ?? 'none' }))
  byHeader() {
    return { ok: currentTenantId() };
  }

  @Get('expensive')
  @TenantCost({ requests: 10 })
  expensive() {
    return { ok: currentTenantId() };
  }

  @Get('tokens')
  @TenantCost((request) => {
    const tokens = request.header('x-tokens') ?? '0';
    if (tokens === 'boom') throw new Error('cost estimator failed');
    return { requests: 1, tokens: Number(tokens) };
  })
  tokens() {
    tokenCalls += 1;
    return { ok: currentTenantId() };
  }

  @Post('chat')
  async chat(@Body() body: { model?: string }) {
    const admitted = await this.tenancy.authorize({ policy: { models: body.model ?? 'none' }, cost: { tokens: 0 } });
    return { ok: admitted.tenant.id, context: currentTenantId() };
  }
}

@Controller('reports')
@RequirePolicy({ features: 'reports' })
class ReportsController {
  @Get()
  list() {
    return { ok: true };
  }

  @Get('export')
  @RequirePolicy({ features: 'export' })
  export() {
    return { ok: true };
  }

  @Get('open')
  @SkipTenancy()
  open() {
    return { ok: true };
  }
}

@Controller('skipped')
@SkipTenancy()
class SkippedController {
  @Get()
  all() {
    return { context: currentTenantId() ?? null };
  }
}

const seen: TenancyException[] = [];

@Catch(TenancyException)
class RecordingFilter implements ExceptionFilter<TenancyException> {
  constructor(@Inject(HttpAdapterHost) private readonly host: HttpAdapterHost) {}
  catch(exception: TenancyException, host: ArgumentsHost) {
    seen.push(exception);
    const res: unknown = host.switchToHttp().getResponse();
    this.host.httpAdapter.setHeader(res, 'x-seen-by', 'recording-filter');
    replyWithRejection(this.host.httpAdapter, res, exception.rejection);
  }
}

@Controller('filtered')
@UseFilters(RecordingFilter)
class FilteredController {
  @Get()
  get() {
    return { ok: true };
  }
}

@Catch()
class CatchEverything implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost) {
    const res = host.switchToHttp().getResponse<{ raw?: unknown }>();
    seen.push(exception as TenancyException);
    // the user's own shape: this filter wins over the module's, as Nest orders filters
    const status = exception instanceof TenancyException ? exception.getStatus() : 500;
    const body = JSON.stringify({ mine: true, code: exception instanceof TenancyException ? exception.code : null });
    if (res.raw !== undefined) {
      (res as unknown as { code(n: number): { type(t: string): { send(b: string): void } } }).code(status).type('application/json').send(body);
    } else {
      (res as unknown as { status(n: number): { type(t: string): { send(b: string): void } } }).status(status).type('application/json').send(body);
    }
  }
}

async function start(platform: (typeof PLATFORMS)[number], options: TenancyModuleOptions, extra: Partial<StartOptions> = {}): Promise<string> {
  const app = await startNest(platform, {
    imports: [TenancyModule.forRoot(options)],
    controllers: [RoutesController, ReportsController, SkippedController, FilteredController],
    ...extra,
  });
  apps.push(app);
  return app.url;
}

describe.each(PLATFORMS)('decorators and service on %s', (platform) => {
  it('@CurrentTenant(), currentTenant() and TenancyService agree', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    const res = await sendRequest(url, { path: '/whoami', headers: acme });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ tenant: 'acme', id: 'acme', context: 'acme', service: 'acme' });
  });

  it('refusals are problem+json with the status and headers of the pipeline', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    for (const [headers, status, code] of [
      [{}, 400, 'tenant_missing'],
      [{ 'x-tenant-id': 'NOT valid' }, 400, 'tenant_invalid'],
      [{ 'x-tenant-id': 'nobody' }, 404, 'tenant_not_found'],
      [{ 'x-tenant-id': 'initech' }, 403, 'tenant_suspended'],
    ] as const) {
      const res = await sendRequest(url, { path: '/whoami', headers });
      expect(res.status, code).toBe(status);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json()).toMatchObject({ type: `urn:tenant:error:${code}`, code, status });
    }
  });

  it('admitted responses carry RateLimit headers, on routes answered the Nest way', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    const first = await sendRequest(url, { path: '/whoami', headers: acme });
    expect(first.headers['ratelimit-policy']).toContain('"requests";q=100');
    expect(parseRateLimit(first.headers['ratelimit'], 'requests')?.r).toBe(99);
    const second = await sendRequest(url, { path: '/whoami', headers: acme });
    expect(parseRateLimit(second.headers['ratelimit'], 'requests')?.r).toBe(98);
    // a tenant with no quota: no headers
    expect((await sendRequest(url, { path: '/whoami', headers: globex })).headers['ratelimit']).toBeUndefined();
  });

  it('@CurrentDecision() is the admission: its resolver, quota and headers', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    expect((await sendRequest(url, { path: '/decision', headers: acme })).json()).toEqual({ source: 'header', remaining: 99, headers: ['ratelimit-policy', 'ratelimit'] });
    expect((await sendRequest(url, { path: '/decision', headers: globex })).json()).toEqual({ source: 'header', remaining: null, headers: [] });
  });

  it('@SkipTenancy() serves requests with no tenant, or a refused one, with no context and no charge', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    for (const headers of [{}, { 'x-tenant-id': 'nobody' }, { 'x-tenant-id': 'initech' }, { 'x-tenant-id': 'NOT valid' }]) {
      const res = await sendRequest(url, { path: '/public', headers });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ tenant: null, context: null });
    }
    // a tenant that may be served is still in context, and not charged
    const named = await sendRequest(url, { path: '/public', headers: acme });
    expect(named.json()).toEqual({ tenant: 'acme', context: 'acme' });
    expect(named.headers['ratelimit']).toBeUndefined();
    expect(parseRateLimit((await sendRequest(url, { path: '/whoami', headers: acme })).headers['ratelimit'], 'requests')?.r).toBe(99);
    // on a controller: every route; a route of a guarded controller: that one only
    expect((await sendRequest(url, { path: '/skipped' })).json()).toEqual({ context: null });
    expect((await sendRequest(url, { path: '/reports/open' })).status).toBe(200);
    expect((await sendRequest(url, { path: '/reports' })).status).toBe(400);
  });

  it('@RequirePolicy() checks the route policy: fixed, from the request, per controller and per method', async () => {
    const store = await storeWithPolicy();
    const url = await start(platform, { store });
    const umbrella = { 'x-tenant-id': 'umbrella' };
    expect((await sendRequest(url, { path: '/models/small', headers: umbrella })).status).toBe(200);
    const denied = await sendRequest(url, { path: '/models/large', headers: umbrella });
    expect(denied.status).toBe(403);
    expect(denied.json()).toMatchObject({ code: 'policy_denied', dimension: 'models' });
    expect((await sendRequest(url, { path: '/models/by-header', headers: { ...umbrella, 'x-model': 'small' } })).status).toBe(200);
    expect((await sendRequest(url, { path: '/models/by-header', headers: { ...umbrella, 'x-model': 'large' } })).status).toBe(403);
    // controller-level: features reports is not in umbrella's list; the method's own export is
    expect((await sendRequest(url, { path: '/reports', headers: umbrella })).json()).toMatchObject({ code: 'policy_denied', dimension: 'features' });
    expect((await sendRequest(url, { path: '/reports/export', headers: umbrella })).status).toBe(200);
    // a tenant with no allow-list may do anything
    expect((await sendRequest(url, { path: '/models/large', headers: globex })).status).toBe(200);
  });

  it('@RequirePolicy() replaces the policyRequest option on its route only', async () => {
    const store = await storeWithPolicy();
    const url = await start(platform, { store, policyRequest: () => ({ models: 'large' }) });
    const umbrella = { 'x-tenant-id': 'umbrella' };
    expect((await sendRequest(url, { path: '/whoami', headers: umbrella })).status).toBe(403);
    expect((await sendRequest(url, { path: '/models/small', headers: umbrella })).status).toBe(200);
  });

  it('@TenantCost() charges the route cost: fixed, and estimated from the request', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    const res = await sendRequest(url, { path: '/expensive', headers: acme });
    expect(res.status).toBe(200);
    expect(parseRateLimit(res.headers['ratelimit'], 'requests')?.r).toBe(90);
    const tokens = await sendRequest(url, { path: '/tokens', headers: { ...acme, 'x-tokens': '60' } });
    expect(parseRateLimit(tokens.headers['ratelimit'], 'tokens')?.r).toBe(40);
    const over = await sendRequest(url, { path: '/tokens', headers: { ...acme, 'x-tokens': '41' } });
    expect(over.status).toBe(429);
    expect(over.json()).toMatchObject({ code: 'quota_exceeded', exceeded: ['tokens'] });
    expect(Number(over.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // the refused request charged nothing
    expect(parseRateLimit((await sendRequest(url, { path: '/tokens', headers: { ...acme, 'x-tokens': '40' } })).headers['ratelimit'], 'tokens')?.r).toBe(0);
  });

  it('a route cost that throws or is not a cost is a 500 problem, and the route does not run', async () => {
    const url = await start(platform, { store: createAdapterTestStore() });
    const before = tokenCalls;
    for (const tokens of ['boom', '-1', 'NaN']) {
      const res = await sendRequest(url, { path: '/tokens', headers: { ...acme, 'x-tokens': tokens } });
      expect(res.status, tokens).toBe(500);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(res.json()).toMatchObject({ code: 'internal_error' });
    }
    expect(tokenCalls).toBe(before);
    expect((await sendRequest(url, { path: '/tokens', headers: { ...acme, 'x-tokens': '1' } })).status).toBe(200);
    expect(tokenCalls).toBe(before + 1);
  });

  it('TenancyService.authorize() checks what only the handler knows, and refuses through the exception layer', async () => {
    const store = await storeWithPolicy();
    const url = await start(platform, { store });
    const umbrella = { 'x-tenant-id': 'umbrella', 'content-type': 'application/json' };
    const ok = await sendRequest(url, { method: 'POST', path: '/chat', headers: umbrella, body: JSON.stringify({ model: 'small' }) });
    expect(ok.status).toBe(201);
    expect(ok.json()).toEqual({ ok: 'umbrella', context: 'umbrella' });
    const denied = await sendRequest(url, { method: 'POST', path: '/chat', headers: umbrella, body: JSON.stringify({ model: 'large' }) });
    expect(denied.status).toBe(403);
    expect(denied.headers['content-type']).toBe('application/problem+json');
    expect(denied.json()).toMatchObject({ code: 'policy_denied' });
  });

  it('exception filters of the application see the refusals: on a controller, and global ones', async () => {
    seen.length = 0;
    const url = await start(platform, { store: createAdapterTestStore() });
    const res = await sendRequest(url, { path: '/filtered', headers: { 'x-tenant-id': 'initech' } });
    expect(res.status).toBe(403);
    expect(res.headers['x-seen-by']).toBe('recording-filter');
    expect(res.headers['content-type']).toBe('application/problem+json');
    expect(seen.map((e) => e.code)).toEqual(['tenant_suspended']);
    assert.ok(TenancyException.is(seen[0]));

    seen.length = 0;
    const own = await start(platform, { store: createAdapterTestStore() }, { configure: (app) => app.useGlobalFilters(new CatchEverything()) });
    const mine = await sendRequest(own, { path: '/whoami', headers: { 'x-tenant-id': 'nobody' } });
    expect(mine.status).toBe(404);
    expect(mine.json()).toEqual({ mine: true, code: 'tenant_not_found' });
    expect(seen).toHaveLength(1);

    // a catch-all filter provided as APP_FILTER by the application module
    seen.length = 0;
    const provided = await start(platform, { store: createAdapterTestStore() }, { providers: [{ provide: APP_FILTER, useClass: CatchEverything }] });
    const answer = await sendRequest(provided, { path: '/whoami', headers: { 'x-tenant-id': 'nobody' } });
    expect(answer.json()).toEqual({ mine: true, code: 'tenant_not_found' });
    expect(seen).toHaveLength(1);
  });
});

describe('TenancyException', () => {
  it('is an HttpException with the problem as its response, recognised across copies by is()', async () => {
    const store = createAdapterTestStore();
    const { createTenancy } = await import('@tenant/core');
    const rejection = await createTenancy({ store }).handle({ method: 'GET', path: '/', query: '', host: undefined, header: () => undefined });
    assert.ok(!rejection.ok);
    const exception = new TenancyException(rejection);
    expect(exception.getStatus()).toBe(400);
    expect(exception.getResponse()).toEqual(rejection.body);
    expect(exception.headers['content-type']).toBe('application/problem+json');
    expect(TenancyException.is(exception)).toBe(true);
    expect(TenancyException.is({ name: 'TenancyException', rejection: { ok: false, status: 400 } })).toBe(true);
    expect(TenancyException.is(new Error('x'))).toBe(false);
    expect(TenancyException.is(null)).toBe(false);
  });
});
