import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';

/** A request for {@link sendRequest}. */
export interface TestRequest {
  /** @default 'GET' */
  readonly method?: string;
  /**
   * The path and query, starting with `/`, sent exactly as written (dot
   * segments, `//` and percent-encoding are not normalized).
   * @default '/'
   */
  readonly path?: string;
  /** Request headers. `host` may be set (unlike with `fetch`). */
  readonly headers?: OutgoingHttpHeaders;
  /**
   * The body: a buffer or string sent at once (with `content-length`), or
   * chunks sent one by one (chunked), for streamed uploads.
   */
  readonly body?: Buffer | string | AsyncIterable<Buffer | string>;
  /** The agent (sockets, keep-alive). @default a fresh socket per request */
  readonly agent?: Agent;
  /**
   * How long the whole exchange may take before the request is destroyed and
   * the promise rejects, in milliseconds.
   * @default 10_000
   */
  readonly timeoutMs?: number;
}

/** A response as {@link sendRequest} gives it: fully read. */
export interface TestResponse {
  readonly status: number;
  /** Response headers, lower-case names. */
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The body as UTF-8 text. */
  text(): string;
  /** The body parsed as JSON; throws with the body in the message when it is not JSON. */
  json<T = unknown>(): T;
}

/**
 * Sends one HTTP request with `node:http` and reads the whole response.
 * Rejects on network errors and when `timeoutMs` passes; never on a status.
 *
 * @example
 * ```ts
 * import { sendRequest } from '@tenant/adapter-testkit';
 *
 * const res = await sendRequest('http://127.0.0.1:3000', { path: '/whoami', headers: { 'x-tenant-id': 'acme' } });
 * res.status; // 200
 * res.json(); // { ... }
 * ```
 */
export function sendRequest(baseUrl: string, options: TestRequest = {}): Promise<TestResponse> {
  const base = new URL(baseUrl);
  const path = options.path ?? '/';
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { body } = options;
  const fixed = typeof body === 'string' || Buffer.isBuffer(body) ? Buffer.from(body) : undefined;
  const headers: OutgoingHttpHeaders = { ...options.headers };
  if (fixed !== undefined) headers['content-length'] = fixed.length;
  return new Promise<TestResponse>((resolve, reject) => {
    // By parts, not by URL: a URL would resolve `/x/../`, read `//a` as a host, and re-encode.
    const req = httpRequest(
      { protocol: base.protocol, hostname: base.hostname, port: base.port, path,
        method: options.method ?? 'GET', headers, ...(options.agent === undefined ? { agent: false } : { agent: options.agent }) },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', fail);
        res.once('end', () => {
          clearTimeout(timer);
          const data = Buffer.concat(chunks);
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: data,
            text: () => data.toString('utf8'),
            json: <T>() => parseJson<T>(data, res.statusCode),
          });
        });
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`[@tenant/adapter-testkit] ${options.method ?? 'GET'} ${path} took longer than ${timeoutMs} ms`));
    }, timeoutMs);
    function fail(error: Error): void {
      clearTimeout(timer);
      reject(error);
    }
    req.once('error', fail);
    if (fixed !== undefined || body === undefined) {
      req.end(fixed);
      return;
    }
    void (async () => {
      try {
        for await (const chunk of body as AsyncIterable<Buffer | string>) {
          if (!req.write(chunk)) await new Promise<void>((done) => req.once('drain', done));
        }
        req.end();
      } catch (error) {
        req.destroy(error instanceof Error ? error : new Error(String(error)));
      }
    })();
  });
}

function parseJson<T>(data: Buffer, status: number | undefined): T {
  const text = data.toString('utf8');
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`[@tenant/adapter-testkit] Expected a JSON body (status ${String(status)}), got: ${text.slice(0, 300)}`);
  }
}

/** Options of {@link sendMany}. */
export interface SendManyOptions {
  /**
   * How many sockets to open at most (keep-alive, reused).
   * @default 64
   */
  readonly sockets?: number;
  /** Per-request timeout, as in {@link TestRequest}. @default 10_000 */
  readonly timeoutMs?: number;
}

/**
 * Sends all requests at once over a keep-alive agent with at most `sockets`
 * sockets (the rest queue in the agent), and resolves with the responses in
 * the same order. Rejects if any request fails; the agent is destroyed
 * either way.
 */
export async function sendMany(baseUrl: string, requests: readonly TestRequest[], options: SendManyOptions = {}): Promise<TestResponse[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: options.sockets ?? 64 });
  try {
    return await Promise.all(
      requests.map((request) => sendRequest(baseUrl, { ...request, agent, timeoutMs: request.timeoutMs ?? options.timeoutMs ?? 10_000 })),
    );
  } finally {
    agent.destroy();
  }
}
