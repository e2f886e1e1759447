import { Inject, Module, RequestMethod, type DynamicModule, type InjectionToken, type MiddlewareConsumer, type ModuleMetadata, type NestModule, type OptionalFactoryDependency, type Provider } from '@nestjs/common';
import { APP_GUARD, ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { tenancyFrom, type AdapterOptions, type Tenancy } from '@tenant/core';
import { TenancyExceptionFilter } from './filter.js';
import { TenancyGuard } from './guard.js';
import { TenancyMiddleware } from './middleware.js';
import { TenancyService } from './service.js';
import { TENANCY_OPTIONS, TENANCY_PIPELINE } from './tokens.js';

/** What the module itself takes, beside the adapter options. */
export interface TenancyModuleExtras {
  /**
   * Register the module globally, so that every module can inject
   * `TenancyService` without importing it.
   * @default true
   */
  readonly isGlobal?: boolean;
}

/**
 * The options of {@link TenancyModule.forRoot}: the adapter options of
 * `@tenant/core` (the pipeline's options with a `store`, or `{ tenancy }`,
 * plus `actualCost`, `principal`, `trustProxy`) and {@link TenancyModuleExtras}.
 */
export type TenancyModuleOptions = AdapterOptions & TenancyModuleExtras;

/** The options of {@link TenancyModule.forRootAsync}. */
export interface TenancyModuleAsyncOptions extends TenancyModuleExtras {
  /** Modules whose providers the factory injects (a config module, a database module). */
  readonly imports?: ModuleMetadata['imports'];
  /** The providers given to the factory, in order. @default [] */
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the adapter options (for example the store from an injected kysely instance). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the injected values are the caller's to type, as in Nest's own FactoryProvider
  readonly useFactory: (...args: any[]) => AdapterOptions | Promise<AdapterOptions>;
}

function withoutExtras(options: TenancyModuleOptions): AdapterOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('[@tenant/nestjs] TenancyModule.forRoot takes the adapter options: { store, ... } or { tenancy }');
  }
  const { isGlobal: _isGlobal, ...rest } = options;
  return rest as AdapterOptions;
}

function checkGlobal(isGlobal: unknown): boolean {
  if (isGlobal !== undefined && typeof isGlobal !== 'boolean') throw new TypeError('[@tenant/nestjs] isGlobal must be a boolean');
  return isGlobal !== false;
}

function define(options: Provider, isGlobal: boolean, imports: ModuleMetadata['imports'] = []): DynamicModule {
  return {
    module: TenancyModule,
    global: isGlobal,
    imports,
    providers: [
      options,
      { provide: TENANCY_PIPELINE, useFactory: (adapterOptions: AdapterOptions): Tenancy => tenancyFrom(adapterOptions), inject: [TENANCY_OPTIONS] },
      TenancyService,
      TenancyMiddleware,
      { provide: APP_GUARD, useClass: TenancyGuard },
    ],
    exports: [TenancyService, TENANCY_PIPELINE, TENANCY_OPTIONS],
  };
}

/**
 * Multi-tenancy for a Nest application, on `@nestjs/platform-express` and
 * `@nestjs/platform-fastify` alike, with the `@tenant/core` pipeline:
 *
 * - a middleware on every route resolves the tenant and runs the rest of the
 *   request in its context (`currentTenant()`, `TenancyService`,
 *   `@CurrentTenant()` everywhere: guards, interceptors, pipes, controllers,
 *   services and what they start);
 * - a global guard refuses, for the route Nest matched, what the pipeline
 *   refuses (status, policy from `@RequirePolicy()`, quota charged
 *   `@TenantCost()`), unless the route has `@SkipTenancy()`;
 * - a global exception filter answers refusals with the pipeline's status,
 *   headers and `application/problem+json` body; exception filters of the
 *   application (on routes, controllers, `APP_FILTER`, `useGlobalFilters`)
 *   see refusals before it.
 *
 * Global by default. Everything is a singleton: nothing becomes request-scoped.
 *
 * @example
 * ```ts
 * import { Module } from '@nestjs/common';
 * import { createMemoryTenantStore } from '@tenant/core';
 * import { TenancyModule } from '@tenant/nestjs';
 *
 * @Module({
 *   imports: [TenancyModule.forRoot({ store: createMemoryTenantStore({ tenants: [{ id: 'acme' }] }), skipPaths: ['/health'] })],
 *   controllers: [NotesController],
 * })
 * export class AppModule {}
 * ```
 */
@Module({})
export class TenancyModule implements NestModule {
  // Nest tries global filters last-registered first, and registers APP_FILTER
  // providers and `app.useGlobalFilters()` after the modules are built: added
  // here, the module's filter comes after every filter of the application, so
  // theirs see a TenancyException first (an APP_FILTER of the module's own
  // would come before some of them).
  constructor(@Inject(ApplicationConfig) config: ApplicationConfig, @Inject(HttpAdapterHost) adapterHost: HttpAdapterHost) {
    config.addGlobalFilter(new TenancyExceptionFilter(adapterHost));
  }

  /**
   * The module with its options at hand.
   * @throws TypeError when the options make no sense (see `tenancyFrom` in `@tenant/core`), when the application starts.
   */
  static forRoot(options: TenancyModuleOptions): DynamicModule {
    const adapterOptions = withoutExtras(options);
    return define({ provide: TENANCY_OPTIONS, useValue: adapterOptions }, checkGlobal(options.isGlobal));
  }

  /**
   * The module with its options built by a factory from other providers
   * (a config service, a kysely instance, an ioredis client).
   *
   * @example
   * ```ts
   * TenancyModule.forRootAsync({
   *   imports: [DatabaseModule],
   *   inject: [KYSELY],
   *   useFactory: (db: Kysely<Database>) => ({ store: createCachedTenantStore(createSqlTenantStore({ db })), skipPaths: ['/health'] }),
   * });
   * ```
   */
  static forRootAsync(options: TenancyModuleAsyncOptions): DynamicModule {
    if (typeof options !== 'object' || options === null || typeof options.useFactory !== 'function') {
      throw new TypeError('[@tenant/nestjs] TenancyModule.forRootAsync needs { useFactory }');
    }
    const provider: Provider = { provide: TENANCY_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] };
    return define(provider, checkGlobal(options.isGlobal), options.imports);
  }

  /** Applies the module's middleware to every route (Nest calls this once, at start-up). */
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(TenancyMiddleware).forRoutes({ path: '*', method: RequestMethod.ALL });
  }
}
