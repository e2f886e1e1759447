import type { IncomingMessage, Server } from 'node:http';

/** The largest request body the examples read. */
export const MAX_BODY_BYTES = 16 * 1024;

/** A request body the app refuses, with the HTTP status to answer (400, 413 or 415). */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'BodyError';
  }
}

/**
 * Reads a small JSON object body from a raw request, for servers without a
 * body parser (koa, plain `node:http`). Throws a {@link BodyError}: 415
 * unless the content type is `application/json`, 413 past
 * {@link MAX_BODY_BYTES}, 400 unless the body is a JSON object.
 */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const mediaType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new BodyError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new BodyError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

/**
 * Reads a small JSON object body from a Web `Request`, for fetch-based
 * frameworks (Hono): the same rules and {@link BodyError}s as
 * {@link readJsonBody}, reading the stream chunk by chunk so that an
 * oversized body is refused without being read whole.
 */
export async function readJsonRequest(request: Request): Promise<Record<string, unknown>> {
  const mediaType = (request.headers.get('content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (mediaType !== 'application/json') throw new BodyError(415, 'send application/json');
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BODY_BYTES) {
        await reader.cancel();
        throw new BodyError(413, `body larger than ${MAX_BODY_BYTES} bytes`);
      }
      chunks.push(value);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new BodyError(400, 'body must be a JSON object');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new BodyError(400, 'body must be a JSON object');
  return value as Record<string, unknown>;
}

/** The port a demo listens on: `PORT`, else 3000. */
export const demoPort = (): number => Number(process.env['PORT'] ?? 3000);

/**
 * What a demo prints once it listens: how to call it with curl. `chat`
 * says where /chat takes its model: `query` (`?model=`, the adapter
 * examples) or `body` (`{"model": ...}`, the node:http example).
 */
export function demoUsage(name: string, port: number, chat: 'query' | 'body' = 'query'): string {
  const base = `http://127.0.0.1:${port}`;
  const json = `-H 'content-type: application/json'`;
  const chatCall = chat === 'query' ? `-d '{"prompt":"hi"}' '${base}/chat?model=gpt-4o'` : `-d '{"model":"gpt-4o","prompt":"hi"}' ${base}/chat`;
  return `Multi-tenant ${name} demo on ${base}

  curl -H 'x-tenant-id: acme' ${base}/whoami
  curl http://acme.localhost:${port}/whoami
  curl -H 'x-tenant-id: globex' ${json} -d '{"text":"hello"}' ${base}/notes
  curl -H 'x-tenant-id: globex' ${json} ${chatCall}
  curl -H 'x-tenant-id: initech' ${base}/whoami   # suspended: 403

Ctrl-C to stop.`;
}

/** On Ctrl-C or SIGTERM: `close()` the server, then exit. */
export function stopOnSignal(close: () => Promise<unknown>): void {
  const stop = () => void close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

/**
 * Runs a demo on a `node:http` server: listens on `127.0.0.1` and
 * {@link demoPort}, prints {@link demoUsage}, and closes on Ctrl-C.
 */
export function serveDemo(name: string, server: Server, chat: 'query' | 'body' = 'query'): void {
  const port = demoPort();
  server.listen(port, '127.0.0.1', () => console.log(demoUsage(name, port, chat)));
  stopOnSignal(() => new Promise((resolve) => server.close(resolve)));
}
