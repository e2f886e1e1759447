import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { currentTenantId } from '@tenant/core';
import type { ConformanceHandler } from './types.js';

/** The routes of the conformance handler, by the path after any `/t/<id>` or `/health` prefix. */
export const CONFORMANCE_ROUTES = Object.freeze({
  /** `{ tenant, context }`: the default for any path not listed here. */
  whoami: '/whoami',
  /** Contexts after awaits: a microtask, `setTimeout` (`?ms=`), `setImmediate`, a nested async call. */
  delay: '/delay',
  /** Contexts in callbacks: `setTimeout`, `setImmediate`, `process.nextTick`, `queueMicrotask`, an emitter fired from a timer. */
  timer: '/timer',
  /** Reads the body chunk by chunk and answers NDJSON written over time, with the context at each step. */
  stream: '/stream',
  /** Reads the whole body: `{ bytes, sha256 }` and the context after it. */
  echo: '/echo',
  /** Rejects after an await, inside the tenant context: the framework answers 5xx. */
  throw: '/throw',
  /** Sets `x-actual-tokens` (`?tokens=`) with `setHeader`, then answers like whoami. */
  settle: '/settle',
  /**
   * Fetch mode only: answers NDJSON from a `ReadableStream` whose `pull()` runs
   * when the server reads the body, after the handler returned, with the context
   * at each step.
   */
  readable: '/readable',
} as const);

/** Called by the handler on each request it serves (to prove rejected requests never reach it). */
export type HandlerCallListener = (requestId: string | undefined, route: string) => void;

// `/t/<id>` (path resolution) and `/health` (the skipped path) prefix the routes.
const PATH_PREFIX = /^(?:\/t\/[^/]+|\/health)(?=\/|$)/;

/** The route name of a request path: the query and any `/t/<id>` or `/health` prefix removed. */
export function routeOf(url: string | undefined): string {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  const path = (q === -1 ? raw : raw.slice(0, q)).replace(PATH_PREFIX, '');
  return path === '' ? '/' : path;
}

function queryOf(url: string | undefined): URLSearchParams {
  const raw = url ?? '/';
  const q = raw.indexOf('?');
  return new URLSearchParams(q === -1 ? '' : raw.slice(q + 1));
}

const here = (): string | null => currentTenantId() ?? null;

/**
 * The tenant id seen before and after each kind of await (a microtask, a
 * timer of `ms` (the `ms` query parameter), setImmediate, a nested async
 * function): the delay route of both handlers.
 */
export async function contextsAcrossAwaits(msParam: string | null): Promise<(string | null)[]> {
  const ms = Number(msParam ?? '1');
  const contexts: (string | null)[] = [here()];
  await Promise.resolve();
  contexts.push(here());
  await sleep(Number.isFinite(ms) && ms >= 0 ? ms : 1);
  contexts.push(here());
  await new Promise<void>((resolve) => setImmediate(resolve));
  contexts.push(here());
  contexts.push(
    await (async () => {
      await sleep(0);
      return here();
    })(),
  );
  return contexts;
}

function sendJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

function callback(register: (done: () => void) => void): Promise<string | null> {
  return new Promise((resolve) => register(() => resolve(here())));
}

/**
 * The tenant id seen in callbacks (`setTimeout`, `setImmediate`,
 * `process.nextTick`, `queueMicrotask`, an emitter fired from a timer): the
 * timer route of both handlers.
 */
export function contextsInCallbacks(): Promise<(string | null)[]> {
  const emitter = new EventEmitter();
  return Promise.all([
    callback((done) => setTimeout(done, 2)),
    callback((done) => setImmediate(done)),
    callback((done) => process.nextTick(done)),
    callback((done) => queueMicrotask(done)),
    callback((done) => {
      emitter.once('ping', done);
      setTimeout(() => emitter.emit('ping'), 1);
    }),
  ]);
}

async function readBody(stream: Readable | IncomingMessage, onChunk?: (size: number) => void): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    hash.update(data);
    bytes += data.length;
    onChunk?.(data.length);
  }
  return { bytes, sha256: hash.digest('hex') };
}

/**
 * Creates the conformance handler: it answers JSON that shows, at each step
 * of the request, both the tenant the framework exposes (`tenant`) and the
 * tenant of the async context (`context`, from `currentTenant()`).
 *
 * @param onCall - Told of every request the handler serves.
 * @param requestIdHeader - The header that carries the request id. @default 'x-request-id'
 */
export function createConformanceHandler(onCall?: HandlerCallListener, requestIdHeader = 'x-request-id'): ConformanceHandler {
  return async ({ req, res, tenant, body, route: matched }) => {
    const route = routeOf(req.url);
    const header = req.headers[requestIdHeader];
    const requestId = typeof header === 'string' ? header : undefined;
    onCall?.(requestId, route);
    // `matched`: the conformance route the framework's router chose, or null for the catch-all
    const base = { requestId: requestId ?? null, route, matched: matched ?? null, tenant: tenant?.id ?? null, context: here() };
    switch (route) {
      case CONFORMANCE_ROUTES.delay: {
        sendJson(res, { ...base, contexts: await contextsAcrossAwaits(queryOf(req.url).get('ms')) });
        return;
      }
      case CONFORMANCE_ROUTES.timer: {
        const contexts = await contextsInCallbacks();
        sendJson(res, { ...base, contexts });
        return;
      }
      case CONFORMANCE_ROUTES.stream: {
        const requestContexts: (string | null)[] = [];
        const received = await readBody(body ?? req, () => requestContexts.push(here()));
        res.statusCode = 200;
        res.setHeader('content-type', 'application/x-ndjson');
        for (let i = 0; i < 5; i += 1) {
          await sleep(2);
          res.write(JSON.stringify({ i, context: here() }) + '\n');
        }
        res.end(JSON.stringify({ ...base, done: true, bytes: received.bytes, requestContexts, context: here() }) + '\n');
        return;
      }
      case CONFORMANCE_ROUTES.echo: {
        const received = await readBody(body ?? req);
        sendJson(res, { ...base, ...received, context: here() });
        return;
      }
      case CONFORMANCE_ROUTES.throw: {
        await sleep(1);
        throw new Error(`[@tenant/adapter-testkit] /throw: this error is on purpose (tenant ${here() ?? 'none'})`);
      }
      case CONFORMANCE_ROUTES.settle: {
        const tokens = queryOf(req.url).get('tokens');
        if (tokens !== null) res.setHeader('x-actual-tokens', tokens);
        await sleep(1);
        sendJson(res, { ...base, context: here() });
        return;
      }
      default: {
        (body ?? req).resume(); // drain any body we do not read
        sendJson(res, base);
      }
    }
  };
}
