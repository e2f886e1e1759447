import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import type { AdapterOptions, TenantConfig } from '@tenant/core';
import type { FetchAdapterOptions } from '@tenant/core/fetch';

/**
 * The catch-all route an adapter author mounts AFTER the tenant middleware,
 * for every method and path. It writes the response itself, on the raw
 * `node:http` response.
 *
 * The returned promise may reject (the `/throw` route does, on purpose): the
 * adapter's `start()` must route that rejection to the framework's error
 * handling (express `next(error)`, a rejected fastify handler, a koa throw),
 * which answers 5xx.
 */
export type ConformanceHandler = (input: {
  /** The raw `node:http` request. */
  readonly req: IncomingMessage;
  /** The raw `node:http` response: the handler writes status, headers and body here. */
  readonly res: ServerResponse;
  /** The tenant as the framework exposes it (`req.tenant`, `request.tenant`, `ctx.state.tenant`). */
  readonly tenant: TenantConfig | undefined;
  /**
   * The request body stream, when the framework took it from `req` (fastify
   * hands it to a content-type parser). Leave it out to have the handler read `req`.
   */
  readonly body?: Readable;
  /**
   * The `path` of the {@link ConformanceRoute} that the framework's router
   * matched, when the handler is mounted on one of `setup.routes`; leave it
   * out for the catch-all.
   */
  readonly route?: string;
}) => Promise<void>;

/**
 * A route the adapter author mounts with the framework's own router, before
 * the catch-all, calling the handler with `route: path`. The `path` uses the
 * `:param` syntax that express, fastify, koa-router, hono and nestjs share.
 */
export interface ConformanceRoute {
  /** The HTTP method: mount the route for this method only. */
  readonly method: 'GET' | 'POST';
  /** The route pattern, such as `/guarded/projects/:id/export`. */
  readonly path: string;
}

/** What the suite gives the adapter under test: the adapter options and the route to mount. */
export interface ConformanceSetup {
  /** Pass these to the adapter as they are. */
  readonly options: AdapterOptions;
  /** Mount this after the tenant middleware, for every method and path. */
  readonly handler: ConformanceHandler;
  /**
   * Routes to mount with the framework's router, after the tenant middleware
   * and before the catch-all, each calling `handler({ ..., route: route.path })`
   * (the `path-variants` case needs them; mount them with the router your
   * users use, with its default settings).
   *
   * @example
   * ```ts
   * for (const route of routes) {
   *   app[route.method === 'GET' ? 'get' : 'post'](route.path, (req, res, next) => {
   *     handler({ req, res, tenant: req.tenant, route: route.path }).catch(next);
   *   });
   * }
   * ```
   */
  readonly routes: readonly ConformanceRoute[];
}

/** A listening server, as `start()` returns it. */
export interface StartedServer {
  /** The server's base URL, such as `http://127.0.0.1:41234` (no trailing slash). */
  readonly url: string;
  /** Stops the server (the suite calls it once, after its cases). */
  close(): Promise<void>;
}

/** Starts a real HTTP server with the adapter under test, on `127.0.0.1` and a free port. */
export type StartServer = (setup: ConformanceSetup) => Promise<StartedServer>;

/** Options of {@link runAdapterConformance} and {@link runConformanceCases}. */
export interface ConformanceOptions {
  /**
   * How many concurrent requests the interleaving case sends.
   * @default 1000
   */
  readonly concurrency?: number;
  /**
   * The size of the large request body, in bytes.
   * @default 4 MiB (4_194_304)
   */
  readonly largeBodyBytes?: number;
  /**
   * Only the cases whose `id` is listed (for debugging); every case by default.
   * @default undefined (all cases)
   */
  readonly only?: readonly string[];
  /**
   * The time one case may take, in milliseconds; a case that takes longer fails.
   * @default 30_000
   */
  readonly caseTimeoutMs?: number;
}

/** The two kinds of adapter the suite certifies. */
export type ConformanceMode = 'node' | 'fetch';

/**
 * The catch-all route of the fetch mode: a Web `Request` in, a Web
 * `Response` out. Mount it AFTER the tenant middleware, for every method
 * and path, and pass the tenant as the framework exposes it (Hono
 * `c.get('tenant')`). The returned promise may reject (`/throw`): let the
 * framework's error handling answer 5xx (Hono's `onError`), or let it
 * through (the testkit answers 500 for a fetch function that throws, as
 * Bun, Deno and workerd do).
 */
export type FetchConformanceHandler = (input: {
  /** The Web request, as the framework has it (Hono `c.req.raw`). */
  readonly request: Request;
  /** The tenant as the framework exposes it. */
  readonly tenant: TenantConfig | undefined;
  /**
   * The `path` of the {@link ConformanceRoute} that the framework's router
   * matched, when the handler is mounted on one of `setup.routes`; leave it
   * out for the catch-all.
   */
  readonly route?: string;
}) => Promise<Response>;

/** What the fetch-mode suite gives the adapter under test. */
export interface FetchConformanceSetup {
  /** Pass these to the adapter as they are (`principal` reads the Web `Request`). */
  readonly options: FetchAdapterOptions;
  /** Mount this after the tenant middleware, for every method and path. */
  readonly handler: FetchConformanceHandler;
  /**
   * Routes to mount with the framework's own router, before the catch-all,
   * each calling `handler` with `route: path` (the `path-variants` case
   * checks that no spelling of them escapes their policy and cost). A
   * framework without a router matches them in its own code, as an
   * application would.
   *
   * @example
   * ```ts
   * for (const route of routes) {
   *   app.on(route.method, route.path, (c) => handler({ request: c.req.raw, tenant: c.get('tenant'), route: route.path }));
   * }
   * ```
   */
  readonly routes: readonly ConformanceRoute[];
}

/** A fetch function: what `app.fetch`, `Bun.serve({ fetch })` and a Workers module's `fetch` are. */
export type FetchFunction = (request: Request) => Response | Promise<Response>;

/** Builds the fetch function of the adapter under test (an app with the adapter and the handler). */
export type StartFetchAdapter = (setup: FetchConformanceSetup) => FetchFunction | Promise<FetchFunction>;

/** How the fetch-mode suite reaches the fetch function. */
export type FetchTransport = 'in-process' | 'http';

/** Options of {@link runFetchAdapterConformance} and {@link runFetchConformanceCases}. */
export interface FetchConformanceOptions extends ConformanceOptions {
  /**
   * Serves the fetch function over real HTTP for the `http` transport: your
   * runtime's server (`@hono/node-server`'s `serve`), resolving to
   * `{ url, close }`.
   * @default listenFetch (node:http with a Request/Response bridge)
   */
  readonly serve?: (fetch: FetchFunction) => Promise<StartedServer>;
}
