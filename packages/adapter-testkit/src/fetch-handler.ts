import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentTenantId } from '@tenant/core/fetch';
import { CONFORMANCE_ROUTES, contextsAcrossAwaits, contextsInCallbacks, routeOf, type HandlerCallListener } from './handler.js';
import type { FetchConformanceHandler } from './types.js';

const here = (): string | null => currentTenantId() ?? null;
const encoder = new TextEncoder();

async function readBody(body: ReadableStream<Uint8Array> | null, onChunk?: (size: number) => void): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  if (body !== null) {
    const reader = body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      bytes += value.byteLength;
      onChunk?.(value.byteLength);
    }
  }
  return { bytes, sha256: hash.digest('hex') };
}

/** The path and query of a request URL (`/a?b`), as the routes read them. */
function targetOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('://') + 3);
  return start === -1 ? '/' : url.slice(start);
}

/**
 * Creates the conformance handler of the fetch mode: the same routes and
 * answers as {@link createConformanceHandler}, from a Web `Request` to a Web
 * `Response`, plus `/readable`: a response body whose `pull()` runs only
 * when the server reads it, after the handler returned (each line records
 * `currentTenant()` at that time).
 *
 * @param onCall - Told of every request the handler serves.
 * @param requestIdHeader - The header that carries the request id. @default 'x-request-id'
 */
export function createFetchConformanceHandler(onCall?: HandlerCallListener, requestIdHeader = 'x-request-id'): FetchConformanceHandler {
  return async ({ request, tenant, route: matched }) => {
    const target = targetOf(request.url);
    const route = routeOf(target);
    const requestId = request.headers.get(requestIdHeader) ?? undefined;
    onCall?.(requestId, route);
    // `matched`: the conformance route the framework's router chose, or null for the catch-all
    const base = { requestId: requestId ?? null, route, matched: matched ?? null, tenant: tenant?.id ?? null, context: here() };
    const query = new URLSearchParams(target.includes('?') ? target.slice(target.indexOf('?') + 1) : '');
    switch (route) {
      case CONFORMANCE_ROUTES.delay: {
        return Response.json({ ...base, contexts: await contextsAcrossAwaits(query.get('ms')) });
      }
      case CONFORMANCE_ROUTES.timer: {
        const contexts = await contextsInCallbacks();
        return Response.json({ ...base, contexts });
      }
      case CONFORMANCE_ROUTES.stream: {
        const requestContexts: (string | null)[] = [];
        const received = await readBody(request.body, () => requestContexts.push(here()));
        // Lines written over time by a task the handler starts (as Hono's stream() does).
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            void (async () => {
              for (let i = 0; i < 5; i += 1) {
                await sleep(2);
                controller.enqueue(encoder.encode(JSON.stringify({ i, context: here() }) + '\n'));
              }
              controller.enqueue(encoder.encode(JSON.stringify({ ...base, done: true, bytes: received.bytes, requestContexts, context: here() }) + '\n'));
              controller.close();
            })();
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } });
      }
      case CONFORMANCE_ROUTES.readable: {
        await request.body?.cancel();
        let i = 0;
        // Nothing runs before the server reads: pull() sees whatever context the reader has.
        const body = new ReadableStream<Uint8Array>(
          {
            async pull(controller) {
              await sleep(1);
              if (i < 4) controller.enqueue(encoder.encode(JSON.stringify({ i, context: here() }) + '\n'));
              else {
                controller.enqueue(encoder.encode(JSON.stringify({ ...base, done: true, context: here() }) + '\n'));
                controller.close();
              }
              i += 1;
            },
          },
          { highWaterMark: 0 },
        );
        return new Response(body, { headers: { 'content-type': 'application/x-ndjson' } });
      }
      case CONFORMANCE_ROUTES.echo: {
        const received = await readBody(request.body);
        return Response.json({ ...base, ...received, context: here() });
      }
      case CONFORMANCE_ROUTES.throw: {
        await request.body?.cancel();
        await sleep(1);
        throw new Error(`[@tenant/adapter-testkit] /throw: this error is on purpose (tenant ${here() ?? 'none'})`);
      }
      case CONFORMANCE_ROUTES.settle: {
        await request.body?.cancel();
        const tokens = query.get('tokens');
        await sleep(1);
        return Response.json({ ...base, context: here() }, tokens === null ? {} : { headers: { 'x-actual-tokens': tokens } });
      }
      default: {
        await request.body?.cancel(); // drop any body we do not read
        return Response.json(base);
      }
    }
  };
}
