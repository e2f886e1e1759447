import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { TestRequest, TestResponse } from './http-client.js';
import { listen } from './listen.js';
import type { FetchFunction, StartedServer } from './types.js';

/** The origin of in-process requests when no `host` header names another. */
export const IN_PROCESS_ORIGIN = 'http://127.0.0.1';

function toStream(chunks: AsyncIterable<Buffer | string>): ReadableStream<Uint8Array> {
  const iterator = chunks[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { done, value } = await iterator.next();
      if (done === true) controller.close();
      else controller.enqueue(typeof value === 'string' ? Buffer.from(value) : new Uint8Array(value));
    },
    async cancel() {
      await iterator.return?.();
    },
  });
}

function plainHeaders(headers: Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  headers.forEach((value, name) => {
    if (name !== 'set-cookie') out[name] = value;
  });
  const cookies = headers.getSetCookie();
  if (cookies.length > 0) out['set-cookie'] = cookies;
  return out;
}

function problem500(error: unknown): Response {
  // What a runtime does with a fetch handler that throws (Bun, Deno, workerd: a 500).
  return new Response(JSON.stringify({ status: 500, title: 'Internal Server Error', detail: error instanceof Error ? error.message : String(error) }), {
    status: 500,
    headers: { 'content-type': 'application/json' },
  });
}

/**
 * Sends one request to a fetch function in this process, as a server of a
 * Web-standard runtime would: a Web `Request` for `http://<host><path>`
 * (the `host` header, or 127.0.0.1), and the whole `Response` body read,
 * outside any tenant context. A handler that throws answers 500, as Bun,
 * Deno and workerd do. Rejects when `timeoutMs` passes.
 *
 * @example
 * ```ts
 * import { sendFetchRequest } from '@tenant/adapter-testkit';
 *
 * const res = await sendFetchRequest(app.fetch, { path: '/whoami', headers: { 'x-tenant-id': 'acme' } });
 * ```
 */
export async function sendFetchRequest(fetch: FetchFunction, options: TestRequest = {}): Promise<TestResponse> {
  const method = options.method ?? 'GET';
  const headers = new Headers();
  let host = new URL(IN_PROCESS_ORIGIN).host;
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value === undefined) continue;
    if (name.toLowerCase() === 'host') host = String(value);
    else headers.set(name, Array.isArray(value) ? value.join(', ') : String(value));
  }
  const { body } = options;
  const init: RequestInit & { duplex?: 'half' } =
    body === undefined
      ? { method, headers }
      : typeof body === 'string' || Buffer.isBuffer(body)
        ? { method, headers, body: typeof body === 'string' ? body : new Uint8Array(body) }
        : { method, headers, body: toStream(body), duplex: 'half' };
  const what = `${method} ${options.path ?? '/'}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exchange = async (): Promise<TestResponse> => {
    let response: Response;
    let request: Request | undefined;
    try {
      request = new Request(`http://${host}${options.path ?? '/'}`, init);
    } catch {
      // a target no URL parser takes: servers answer 400 without calling the handler
      request = undefined;
    }
    if (request === undefined) response = new Response(null, { status: 400 });
    else {
      try {
        response = await fetch(request);
      } catch (error) {
        response = problem500(error);
      }
    }
    if (typeof (response as Partial<Response> | undefined)?.arrayBuffer !== 'function') throw new TypeError(`[@tenant/adapter-testkit] ${what}: the fetch function did not return a Response`);
    const data = Buffer.from(await response.arrayBuffer());
    return {
      status: response.status,
      headers: plainHeaders(response.headers),
      body: data,
      text: () => data.toString('utf8'),
      json: <T>() => {
        try {
          return JSON.parse(data.toString('utf8')) as T;
        } catch {
          throw new Error(`[@tenant/adapter-testkit] Expected a JSON body (status ${response.status}), got: ${data.toString('utf8').slice(0, 300)}`);
        }
      },
    };
  };
  try {
    return await Promise.race([
      exchange(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`[@tenant/adapter-testkit] ${what} took longer than ${timeoutMs} ms`)), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A `node:http` request as a Web `Request` (the body streamed). */
function toRequest(req: IncomingMessage): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = req.method ?? 'GET';
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const init: RequestInit & { duplex?: 'half' } = hasBody ? { method, headers, body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : { method, headers };
  return new Request(`http://${req.headers.host ?? '127.0.0.1'}${req.url ?? '/'}`, init);
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') res.setHeader(name, value);
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  const reader = response.body.getReader();
  res.once('close', () => {
    if (!res.writableFinished) void reader.cancel(new Error('client closed the connection')).catch(() => undefined);
  });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (!res.write(value)) await new Promise<void>((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/**
 * Serves a fetch function over real HTTP with `node:http` on `127.0.0.1`
 * and a free port: each request becomes a Web `Request` (body streamed),
 * and the `Response` is written back as the server reads it, outside any
 * tenant context, as Web-standard servers do. A handler that throws answers
 * 500. Returns `{ url, close }`, as {@link listen}.
 *
 * @example
 * ```ts
 * import { listenFetch } from '@tenant/adapter-testkit';
 *
 * const { url, close } = await listenFetch(app.fetch);
 * ```
 */
export function listenFetch(fetch: FetchFunction): Promise<StartedServer> {
  const server = createServer((req, res) => {
    let request: Request;
    try {
      request = toRequest(req);
    } catch {
      res.statusCode = 400;
      res.end();
      return;
    }
    Promise.resolve()
      .then(() => fetch(request))
      .catch(problem500)
      .then((response) => writeResponse(response, res))
      .catch(() => res.destroy());
  });
  return listen(server);
}
