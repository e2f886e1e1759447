/**
 * The conformance suite for `@tenant/*` HTTP framework adapters: given a
 * function that starts a real HTTP server with an adapter, it runs the same
 * cases over real HTTP (resolution and its priority, every rejection,
 * policy, quota headers, settle, hooks, skip paths, the tenant context
 * across await, timers and streams, large bodies, 1,000 concurrent requests,
 * a throwing handler, and path variants of a guarded route).
 *
 * @example
 * ```ts
 * import { runAdapterConformance } from '@tenant/adapter-testkit';
 *
 * runAdapterConformance('my adapter', async ({ options, handler }) => {
 *   // start a server: your framework, your adapter with `options`, then `handler` for every route
 *   return { url, close };
 * });
 * ```
 *
 * @packageDocumentation
 */
export { runAdapterConformance, runConformanceCases, runFetchAdapterConformance, runFetchConformanceCases } from './run.js';
export type { ConformanceResult } from './run.js';
export type {
  ConformanceHandler,
  ConformanceRoute,
  ConformanceSetup,
  StartedServer,
  StartServer,
  ConformanceOptions,
  ConformanceMode,
  FetchConformanceHandler,
  FetchConformanceSetup,
  FetchFunction,
  StartFetchAdapter,
  FetchTransport,
  FetchConformanceOptions,
} from './types.js';
export { conformanceCases, createConformanceContext, parseRateLimit, requireRateLimit, describeRequest } from './cases.js';
export type { ConformanceCase, ConformanceContext, CaseRequest, ConformanceTarget } from './cases.js';
export { createFetchConformanceHandler } from './fetch-handler.js';
export { sendFetchRequest, listenFetch, IN_PROCESS_ORIGIN } from './fetch-transport.js';
export { pathVariants } from './path-variants.js';
export type { PathVariant, PathVariantKind, PathVariantOptions } from './path-variants.js';
export {
  createConformanceFixture,
  createFetchConformanceFixture,
  SUBDOMAIN_BASE,
  CLAIM_HEADER,
  MODEL_HEADER,
  ESTIMATE_HEADER,
  ACTUAL_TOKENS_HEADER,
  REQUEST_ID_HEADER,
  QUOTA_LIMIT,
  TOKEN_LIMIT,
  QUOTA_WINDOW_MS,
  ALLOWED_MODELS,
  GUARDED_FEATURE,
  GUARDED_ROUTES,
  isGuarded,
} from './setup.js';
export type { ConformanceFixture, ConformanceTenants, ConformanceHosts } from './setup.js';
export { createConformanceHandler, CONFORMANCE_ROUTES, routeOf } from './handler.js';
export type { HandlerCallListener } from './handler.js';
export { createHookLog } from './hook-log.js';
export type { HookLog, HookCounts, CountedHook, RequestHookRecord } from './hook-log.js';
export { sendRequest, sendMany } from './http-client.js';
export { listen } from './listen.js';
export type { TestRequest, TestResponse, SendManyOptions } from './http-client.js';
export { assertProblem, assertServed, assertContexts } from './assertions.js';
export {
  ADAPTER_TEST_TENANTS,
  ADAPTER_TEST_REFUSALS,
  createAdapterTestStore,
  closeAfterEach,
  assertRefusals,
  assertTenantsApart,
  traceContext,
  quotaTestCost,
  assertQuotaEnforced,
  createSettleProbe,
} from './adapter-tests.js';
export type { ServerTracker, SettleProbe } from './adapter-tests.js';
export type { SentResponse, HandlerAnswer } from './assertions.js';
