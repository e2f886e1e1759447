import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { adapterRequest, settleOnFinish, tenancyFrom, toTenantRequest, writeRejection, type AdapterOptions, type PolicyRequest, type QuotaCost, type RoutedRequest, type TenantDecision } from '@tenant/core';
import { describe, expect, it } from 'vitest';
import { conformanceCases, listen, runConformanceCases, type ConformanceHandler, type ConformanceResult, type ConformanceRoute } from '../src/index.js';
import { laxRoute } from './lax-router.js';

/** The mistakes an adapter can make, one at a time. */
type Flaw =
  | 'outside-context' // calls the handler without entering the tenant context
  | 'no-stop' // writes the rejection but goes on to the handler
  | 'no-headers' // drops the decision's RateLimit headers
  | 'no-settle' // never settles the actual cost
  | 'handle-twice' // runs the pipeline twice per request
  | 'no-principal' // builds the request view without options.principal
  | 'socket-cache' // reuses the first decision of a keep-alive connection
  | 'no-host' // leaves the host out of the request view
  | 'mount-relative-path' // gives the pipeline the path below a mount point, not the full path
  | 'exact-routing' // declares a case-sensitive, strict router while its router is lax
  | 'raw-path-keys'; // keys policyRequest and cost on the raw path (the pipeline before the canonical path)

/** The reference adapter's steps, with one flaw put in on purpose. */
/** The options with `policyRequest` and `cost` handed the raw path as `path`. */
function rawKeyed(options: AdapterOptions): AdapterOptions {
  const { policyRequest, cost } = options as { policyRequest?: (r: RoutedRequest) => PolicyRequest | undefined; cost?: (r: RoutedRequest) => QuotaCost };
  const raw = (r: RoutedRequest) => Object.create(r, { path: { value: r.rawPath } }) as RoutedRequest;
  return { ...options, ...(policyRequest && { policyRequest: (r: RoutedRequest) => policyRequest(raw(r)) }), ...(cost && { cost: (r: RoutedRequest) => cost(raw(r)) }) };
}

function flawedAdapter(options: AdapterOptions, handler: ConformanceHandler, routes: readonly ConformanceRoute[], flaw: Flaw): RequestListener {
  const pipeline = tenancyFrom(flaw === 'raw-path-keys' ? rawKeyed(options) : options);
  const cache = new WeakMap<Socket, TenantDecision>();
  const decide = async (req: IncomingMessage): Promise<{ decision: TenantDecision; request: ReturnType<typeof toTenantRequest> }> => {
    const request =
      flaw === 'no-principal'
        ? toTenantRequest(req)
        : flaw === 'no-host'
          ? { ...adapterRequest(req, options), host: undefined }
          : flaw === 'mount-relative-path'
            ? adapterRequest(req, options, (req.url ?? '/').replace(/^\/[^/?]*/, '') || '/')
            : flaw === 'exact-routing'
              ? adapterRequest(req, options, undefined, { routing: { caseSensitive: true, strict: true, mergeSlashes: false } })
              : adapterRequest(req, options);
    if (flaw === 'handle-twice') await pipeline.handle(request);
    const cached = flaw === 'socket-cache' ? cache.get(req.socket) : undefined;
    const decision = cached ?? (await pipeline.handle(request));
    if (flaw === 'socket-cache' && decision.ok && decision.tenant !== undefined) cache.set(req.socket, decision);
    return { decision, request };
  };
  return (req: IncomingMessage, res: ServerResponse) => {
    decide(req)
      .then(({ decision, request }) => {
        if (!decision.ok) {
          writeRejection(res, decision);
          if (flaw !== 'no-stop') return undefined;
        }
        if (flaw !== 'no-headers') for (const name in decision.headers) if (!res.headersSent) res.setHeader(name, decision.headers[name] as string);
        if (flaw !== 'no-settle') settleOnFinish(pipeline, decision, request, res, options.actualCost);
        const tenant = decision.ok ? decision.tenant : undefined;
        const call = () => handler({ req, res, tenant, ...laxRoute(routes, req) });
        return flaw === 'outside-context' ? call() : pipeline.run(decision, call);
      })
      .catch(() => {
        if (res.headersSent) res.destroy();
        else {
          res.statusCode = 500;
          res.end();
        }
      });
  };
}

const failedIds = (results: readonly ConformanceResult[]) => results.filter((r) => !r.ok).map((r) => r.id);

async function runFlawed(flaw: Flaw, only: readonly string[]): Promise<ConformanceResult[]> {
  return runConformanceCases(({ options, handler, routes }) => listen(createServer(flawedAdapter(options, handler, routes, flaw))), { only, concurrency: 120 });
}

describe('the suite catches broken adapters', () => {
  const cases: readonly [Flaw, must: readonly string[], pass: readonly string[]][] = [
    ['outside-context', ['resolve-header', 'context-await', 'context-callbacks', 'context-stream', 'large-body', 'concurrency', 'skip-paths'], ['missing']],
    ['no-stop', ['missing', 'invalid', 'unknown', 'unknown-subdomain', 'suspended', 'inactive', 'deleted', 'policy', 'quota'], ['resolve-header', 'context-await']],
    ['no-headers', ['quota', 'settle'], ['resolve-header', 'suspended']],
    ['no-settle', ['settle', 'hooks-once'], ['quota', 'resolve-header']],
    ['handle-twice', ['hooks-once', 'resolve-header', 'quota', 'missing'], ['context-await']],
    ['no-principal', ['resolve-claim', 'resolve-priority'], ['resolve-header', 'resolve-path']],
    ['socket-cache', ['throw-no-leak', 'concurrency'], ['resolve-header']],
    ['no-host', ['resolve-subdomain', 'resolve-host', 'unknown-subdomain', 'resolve-priority'], ['resolve-header', 'resolve-path']],
    ['mount-relative-path', ['resolve-path', 'skip-paths'], ['resolve-header', 'resolve-host', 'resolve-priority']],
    ['exact-routing', ['path-variants'], ['resolve-header', 'policy', 'quota']],
    ['raw-path-keys', ['path-variants'], ['policy', 'quota', 'settle']],
  ];
  for (const [flaw, must, pass] of cases) {
    it(`${flaw}: fails ${must.join(', ')}; still passes ${pass.join(', ')}`, async () => {
      const results = await runFlawed(flaw, [...must, ...pass]);
      expect(failedIds(results).sort()).toEqual([...must].sort());
      for (const result of results.filter((r) => !r.ok)) expect(result.error).toBeInstanceOf(Error);
    }, 60_000);
  }

  it('every case of the node mode is shown above to fail for some flaw', () => {
    const caught = new Set(cases.flatMap(([, must]) => must));
    expect(conformanceCases.filter((c) => c.modes === undefined || c.modes.includes('node')).map((c) => c.id).filter((id) => !caught.has(id))).toEqual([]);
  });
});
