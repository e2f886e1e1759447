import {
  adapterFetchRequest,
  adapterFetchRequestRouted,
  finishResponse,
  rejectionResponse,
  tenancyFrom,
  toFetchTenantRequest,
  type FetchAdapterOptions,
  type TenantDecision,
} from '@tenant/core/fetch';
import { describe, expect, it } from 'vitest';
import { conformanceCases, runFetchConformanceCases, type ConformanceResult, type ConformanceRoute, type FetchConformanceHandler, type FetchFunction } from '../src/index.js';
import { laxFetchRoute } from './lax-fetch-router.js';

/** The mistakes a fetch adapter can make, one at a time. */
type Flaw =
  | 'outside-context' // calls the handler without entering the tenant context
  | 'no-stop' // builds the rejection but calls the handler anyway, answering its response
  | 'no-headers' // drops the decision's RateLimit headers
  | 'no-settle' // never settles the actual cost
  | 'no-hold' // returns the handler's body as is: pull() runs outside the context
  | 'handle-twice' // runs the pipeline twice per request
  | 'no-principal' // builds the request view without options.principal
  | 'no-host' // leaves the host out of the request view
  | 'leaky-error' // answers a handler error with 200 instead of a 5xx
  | 'relative-path' // gives the pipeline the path below the first segment, as a mounted sub-app sees it
  | 'exact-routing' // declares a case-sensitive, strict router while its router is lax
  | 'decision-cache'; // reuses the last admitted decision for requests that name no tenant

/** The reference fetch adapter (withTenancy's steps), with one flaw put in on purpose. */
function flawedFetchAdapter(options: FetchAdapterOptions, handler: FetchConformanceHandler, routes: readonly ConformanceRoute[], flaw: Flaw): FetchFunction {
  const pipeline = tenancyFrom(options);
  let last: TenantDecision | undefined;
  return async (raw) => {
    const view = flaw === 'no-principal' ? toFetchTenantRequest(raw) : flaw === 'no-host'
          ? { ...adapterFetchRequest(raw, options), host: undefined }
          : flaw === 'relative-path'
            ? (() => {
                const full = adapterFetchRequest(raw, options);
                return { ...full, path: full.path.replace(/^\/[^/]*/, '') || '/' };
              })()
            : flaw === 'exact-routing'
              ? adapterFetchRequestRouted(raw, options, { routing: { caseSensitive: true, strict: true, mergeSlashes: false } })
              : adapterFetchRequest(raw, options);
    if (flaw === 'handle-twice') await pipeline.handle(view);
    let decision = await pipeline.handle(view);
    if (flaw === 'decision-cache') {
      if (decision.ok && decision.tenant !== undefined) last = decision;
      else if (last !== undefined && raw.headers.get('x-tenant-id') === null) decision = last;
    }
    if (!decision.ok && flaw !== 'no-stop') return rejectionResponse(decision);
    const tenant = decision.ok ? decision.tenant : undefined;
    const call = () => handler({ request: raw, tenant, ...laxFetchRoute(routes, raw) });
    let response: Response;
    try {
      response = await (flaw === 'outside-context' ? call() : pipeline.run(decision, call));
    } catch (error) {
      if (flaw !== 'leaky-error') throw error;
      return Response.json({ swallowed: String(error) });
    }
    if (!decision.ok) return response;
    if (flaw === 'no-headers') return finishResponse(pipeline, { ...decision, headers: {} }, view, response, options.actualCost === undefined ? {} : { actualCost: options.actualCost });
    if (flaw === 'no-settle') return finishResponse(pipeline, decision, view, response);
    if (flaw === 'no-hold') return finishResponse(pipeline, decision, view, response, { holdContext: false, ...(options.actualCost === undefined ? {} : { actualCost: options.actualCost }) });
    return finishResponse(pipeline, decision, view, response, options.actualCost === undefined ? {} : { actualCost: options.actualCost });
  };
}

const failedIds = (results: readonly ConformanceResult[]) => results.filter((r) => !r.ok).map((r) => r.id);

describe('the fetch-mode suite catches broken fetch adapters', () => {
  const cases: readonly [Flaw, must: readonly string[], pass: readonly string[]][] = [
    // the body is still read in the context (finishResponse), so context-readable-stream passes
    ['outside-context', ['resolve-header', 'context-await', 'context-callbacks', 'context-stream', 'large-body', 'concurrency', 'skip-paths'], ['missing', 'context-readable-stream']],
    ['no-stop', ['missing', 'invalid', 'unknown', 'unknown-subdomain', 'suspended', 'inactive', 'deleted', 'policy', 'quota'], ['resolve-header', 'context-await']],
    ['no-headers', ['quota', 'settle'], ['resolve-header', 'suspended']],
    ['no-settle', ['settle', 'hooks-once'], ['quota', 'resolve-header']],
    ['no-hold', ['context-readable-stream'], ['context-stream', 'settle', 'context-await']],
    ['handle-twice', ['hooks-once', 'resolve-header', 'quota', 'missing'], ['context-await']],
    ['no-principal', ['resolve-claim', 'resolve-priority'], ['resolve-header', 'resolve-path']],
    ['no-host', ['resolve-subdomain', 'resolve-host', 'unknown-subdomain', 'resolve-priority'], ['resolve-header', 'resolve-path']],
    ['leaky-error', ['throw-no-leak'], ['resolve-header']],
    ['relative-path', ['resolve-path', 'skip-paths'], ['resolve-header', 'resolve-host']],
    ['exact-routing', ['path-variants'], ['resolve-header', 'policy', 'quota']],
    ['decision-cache', ['concurrency'], ['resolve-header']],
  ];
  for (const [flaw, must, pass] of cases) {
    it(`${flaw}: fails ${must.join(', ')}; still passes ${pass.join(', ')}`, async () => {
      const results = await runFetchConformanceCases(({ options, handler, routes }) => flawedFetchAdapter(options, handler, routes, flaw), { only: [...must, ...pass], concurrency: 120 });
      expect(failedIds(results).sort()).toEqual([...must].sort());
      for (const result of results.filter((r) => !r.ok)) expect(result.error).toBeInstanceOf(Error);
    }, 60_000);
  }

  it('over HTTP too: a flawed adapter fails the same cases', async () => {
    const results = await runFetchConformanceCases(({ options, handler, routes }) => flawedFetchAdapter(options, handler, routes, 'no-hold'), { only: ['context-readable-stream', 'context-stream'], transport: 'http' });
    expect(failedIds(results)).toEqual(['context-readable-stream']);
  }, 60_000);

  it('every case of the fetch mode is shown above to fail for some flaw', () => {
    const caught = new Set(cases.flatMap(([, must]) => must));
    expect(conformanceCases.filter((c) => c.modes === undefined || c.modes.includes('fetch')).map((c) => c.id).filter((id) => !caught.has(id))).toEqual([]);
  });

  it('failure messages name the request and the root cause', async () => {
    const [quota] = await runFetchConformanceCases(({ options, handler, routes }) => flawedFetchAdapter(options, handler, routes, 'no-headers'), { only: ['quota'] });
    expect(String((quota?.error as Error).message)).toMatch(/-r\d+ \(GET \/whoami\) answered 200 without a RateLimit header: the adapter must copy decision.headers/);
    const [settle] = await runFetchConformanceCases(({ options, handler, routes }) => flawedFetchAdapter(options, handler, routes, 'no-settle'), { only: ['settle'] });
    expect(String((settle?.error as Error).message)).toMatch(/settle of \S+-r\d+ \(GET \/settle\?tokens=400\).*the estimate stands: actualCost was never settled/);
  }, 60_000);

  it('refuses a start() that gives no fetch function, and an unknown transport', async () => {
    await expect(runFetchConformanceCases(() => 'nope' as never)).rejects.toThrow(TypeError);
    await expect(runFetchConformanceCases(({ options, handler, routes }) => flawedFetchAdapter(options, handler, routes, 'no-host'), { transport: 'carrier-pigeon' as never })).rejects.toThrow(RangeError);
  });
});
