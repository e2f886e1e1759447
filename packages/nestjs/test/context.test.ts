import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  Param,
  Scope,
  UseGuards,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  RequestMethod,
  type ExecutionContext,
  type MiddlewareConsumer,
  type NestMiddleware,
  type NestModule,
  type NestInterceptor,
  type PipeTransform,
} from '@nestjs/common';
import { APP_GUARD, APP_INTERCEPTOR, REQUEST } from '@nestjs/core';
import { lastValueFrom, from, type Observable } from 'rxjs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { createAdapterTestStore, sendMany, sendRequest } from '@tenant/adapter-testkit';
import { currentTenantId } from '@tenant/core';
import { CurrentTenant, TenancyModule, TenancyService } from '../src/index.js';
import { PLATFORMS, startNest, type StartedApp } from './platforms.js';

const apps: StartedApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const here = (): string | null => currentTenantId() ?? null;

/** Where each step of a request saw the context, by request id. */
const trace = new Map<string, Record<string, string | null>>();
const note = (requestId: unknown, step: string, value = here()): void => {
  const id = String(requestId);
  trace.set(id, { ...trace.get(id), [step]: value });
};
const requestIdOf = (context: ExecutionContext): unknown => context.switchToHttp().getRequest<{ headers: Record<string, string> }>().headers['x-request-id'];

@Injectable()
class GlobalUserGuard implements CanActivate {
  async canActivate(context: ExecutionContext) {
    await sleep(1);
    note(requestIdOf(context), 'globalGuard');
    return true;
  }
}

@Injectable()
class RouteGuard implements CanActivate {
  canActivate(context: ExecutionContext) {
    note(requestIdOf(context), 'routeGuard');
    return true;
  }
}

@Injectable()
class TimingInterceptor implements NestInterceptor {
  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const id = requestIdOf(context);
    note(id, 'interceptorBefore');
    // the context after `await next.handle()`, as interceptors written with async/await do
    const result = await lastValueFrom(next.handle());
    note(id, 'interceptorAfter');
    await sleep(2);
    note(id, 'interceptorAfterTimer');
    return from([result]);
  }
}

@Injectable()
class GlobalInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    note(requestIdOf(context), 'globalInterceptor');
    return next.handle();
  }
}

@Injectable()
class TenantPipe implements PipeTransform {
  async transform(value: string) {
    await sleep(1);
    return `${value}:${here() ?? 'none'}`;
  }
}

/** A singleton service that reads the context, and starts work that outlives its call. */
@Injectable()
class NotesService {
  static instances = 0;
  constructor(readonly tenancy: TenancyService) {
    NotesService.instances += 1;
  }
  async list() {
    await sleep(1);
    return { owner: this.tenancy.require().id };
  }
  later(): Promise<string | null> {
    return new Promise((resolve) => setTimeout(() => resolve(here()), 3));
  }
}

/** A request-scoped provider beside the module: it gets the request, and sees the same tenant. */
@Injectable({ scope: Scope.REQUEST })
class RequestInfo {
  static instances = 0;
  readonly tenantAtCreation: string | null;
  constructor(
    @Inject(REQUEST) readonly request: { headers: Record<string, string> },
    readonly tenancy: TenancyService,
  ) {
    RequestInfo.instances += 1;
    this.tenantAtCreation = here();
  }
}

@Controller()
@UseGuards(RouteGuard)
class TraceController {
  static instances = 0;
  constructor(
    private readonly notes: NotesService,
    private readonly tenancy: TenancyService,
  ) {
    TraceController.instances += 1;
  }

  @Get('trace/:name')
  @UseInterceptors(TimingInterceptor)
  async trace(@Param('name', TenantPipe) name: string, @CurrentTenant('id') id: string | undefined) {
    const later = this.notes.later();
    const notes = await this.notes.list();
    return { name, id, handler: here(), notes, later: await later, service: this.tenancy.current()?.id ?? null };
  }
}

@Controller('scoped')
class ScopedController {
  static instances = 0;
  constructor(private readonly info: RequestInfo) {
    ScopedController.instances += 1;
  }
  @Get()
  async get() {
    await sleep(1);
    return { created: this.info.tenantAtCreation, now: this.info.tenancy.current()?.id ?? null, header: this.info.request.headers['x-tenant-id'] ?? null };
  }
}

/** Middleware of the application: the module's (global) middleware runs before it. */
@Injectable()
class AppMiddleware implements NestMiddleware {
  use(req: { headers: Record<string, string> }, _res: unknown, next: () => void) {
    note(req.headers['x-request-id'], 'appMiddleware');
    setImmediate(next);
  }
}

/** Middleware of a feature module. */
@Injectable()
class FeatureMiddleware implements NestMiddleware {
  async use(req: { headers: Record<string, string> }, _res: unknown, next: () => void) {
    await sleep(1);
    note(req.headers['x-request-id'], 'featureMiddleware');
    next();
  }
}

@Module({ providers: [NotesService, RequestInfo], exports: [NotesService, RequestInfo] })
class NotesModule implements NestModule {
  configure(consumer: MiddlewareConsumer) {
    consumer.apply(FeatureMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}

describe.each(PLATFORMS)('tenant context on %s', (platform) => {
  async function start() {
    const app = await startNest(platform, {
      imports: [TenancyModule.forRoot({ store: createAdapterTestStore() }), NotesModule],
      controllers: [TraceController, ScopedController],
      middleware: [AppMiddleware],
      providers: [
        { provide: APP_GUARD, useClass: GlobalUserGuard },
        { provide: APP_INTERCEPTOR, useClass: GlobalInterceptor },
      ],
    });
    apps.push(app);
    return app.url;
  }

  it('guards, interceptors (also after await next.handle()), pipes, controllers, services and timers see the tenant', async () => {
    const url = await start();
    const id = `${platform}-one`;
    const res = await sendRequest(url, { path: '/trace/x', headers: { 'x-tenant-id': 'acme', 'x-request-id': id } });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ name: 'x:acme', id: 'acme', handler: 'acme', notes: { owner: 'acme' }, later: 'acme', service: 'acme' });
    expect(trace.get(id)).toEqual({
      appMiddleware: 'acme',
      featureMiddleware: 'acme',
      globalGuard: 'acme',
      routeGuard: 'acme',
      globalInterceptor: 'acme',
      interceptorBefore: 'acme',
      interceptorAfter: 'acme',
      interceptorAfterTimer: 'acme',
    });
  });

  it('interleaved requests of two tenants never see each other, and singletons stay singletons', async () => {
    const url = await start();
    NotesService.instances = 0;
    TraceController.instances = 0;
    const before = { notes: NotesService.instances, controller: TraceController.instances };
    const plan = Array.from({ length: 200 }, (_, i) => ({ tenant: i % 2 === 0 ? 'acme' : 'globex', id: `${platform}-many-${i}` }));
    const responses = await sendMany(
      url,
      plan.map(({ tenant, id }) => ({ path: `/trace/${id}`, headers: { 'x-tenant-id': tenant, 'x-request-id': id } })),
      { sockets: 32 },
    );
    responses.forEach((res, i) => {
      const { tenant, id } = plan[i]!;
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ name: `${id}:${tenant}`, id: tenant, handler: tenant, notes: { owner: tenant }, later: tenant, service: tenant });
      expect(Object.values(trace.get(id) ?? {})).toEqual(Array(8).fill(tenant));
    });
    // built once, when the application started, never per request
    expect(NotesService.instances).toBe(before.notes);
    expect(TraceController.instances).toBe(before.controller);
  });

  it('a request-scoped provider beside the module sees the tenant, and makes only its own callers request-scoped', async () => {
    const url = await start();
    const before = { info: RequestInfo.instances, controller: ScopedController.instances, notes: NotesService.instances };
    for (const tenant of ['acme', 'globex', 'acme']) {
      const res = await sendRequest(url, { path: '/scoped', headers: { 'x-tenant-id': tenant } });
      expect(res.status).toBe(200);
      expect(res.json()).toEqual({ created: tenant, now: tenant, header: tenant });
    }
    expect(RequestInfo.instances - before.info).toBe(3);
    expect(ScopedController.instances - before.controller).toBe(3);
    expect(NotesService.instances).toBe(before.notes);
  });
});
