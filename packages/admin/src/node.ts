import type { IncomingMessage, ServerResponse } from 'node:http';
import { splitUrl } from '@tenant/core';
import type { AdminResponse, TenantAdmin } from './types.js';

/** Options of {@link createAdminNodeHandler}. */
export interface AdminNodeHandlerOptions {
  /**
   * The path the admin API is mounted at, such as `/admin`: requests under it
   * are answered (with the rest of the path as the route), others go to
   * `next()` (or get a 404 without `next`). Leave it out when the framework
   * strips the mount path from `req.url` (express `app.use('/admin', handler)`).
   * @default '' (req.url is the route)
   */
  readonly basePath?: string;
  /**
   * What your authentication established about the caller, read from the
   * raw request (for example `req.user` set by passport), passed to
   * `authorize` as `principal`.
   * @default undefined
   */
  readonly principal?: (req: IncomingMessage) => unknown;
}

/**
 * A `node:http` request handler for the admin API. It also takes express's
 * `next`, and returns a promise that settles once the response is written
 * (koa awaits it). It never rejects.
 */
export type AdminNodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

type Read = { readonly kind: 'body'; readonly raw: Buffer | undefined } | { readonly kind: 'parsed'; readonly body: unknown } | { readonly kind: 'too_large' } | { readonly kind: 'aborted' };

/** Reads at most `max` bytes of the body; stops (without buffering more) past it. */
function readRaw(req: IncomingMessage, max: number): Promise<Read> {
  // A body parser that ran before us (express.json(), koa-bodyparser) has
  // consumed the stream: use what it parsed.
  const parsed = (req as IncomingMessage & { body?: unknown }).body;
  if (req.readableEnded) return Promise.resolve(parsed === undefined ? { kind: 'body', raw: undefined } : { kind: 'parsed', body: parsed });
  const length = req.headers['content-length'];
  if (length !== undefined && Number(length) > max) return Promise.resolve({ kind: 'too_large' });
  if (length === undefined && req.headers['transfer-encoding'] === undefined) return Promise.resolve({ kind: 'body', raw: undefined });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: Read) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('aborted', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.pause();
        finish({ kind: 'too_large' });
      } else chunks.push(chunk);
    };
    const onEnd = () => finish({ kind: 'body', raw: Buffer.concat(chunks, size) });
    const onAbort = () => finish({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('aborted', onAbort);
  });
}

/**
 * Writes an {@link AdminResponse} on a `node:http` response: status, headers,
 * and the body as JSON with its `content-length`. Does nothing when the
 * response was already sent.
 *
 * @example
 * ```ts
 * import { writeAdminResponse } from '@tenant/admin';
 *
 * writeAdminResponse(res, await admin.handle({ method: 'GET', path: '/tenants' }));
 * ```
 */
export function writeAdminResponse(res: ServerResponse, response: AdminResponse): void {
  if (res.headersSent || res.writableEnded) return;
  res.statusCode = response.status;
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.body === undefined) {
    res.end();
    return;
  }
  const text = JSON.stringify(response.body);
  res.setHeader('content-length', Buffer.byteLength(text));
  res.end(text);
}

function checkBasePath(basePath: string): string {
  if (basePath === '' || basePath === '/') return '';
  if (typeof basePath !== 'string' || !basePath.startsWith('/') || basePath.endsWith('/') || /[?#]/.test(basePath)) {
    throw new TypeError('[@tenant/admin] basePath must start with "/", not end with "/", and hold no "?" or "#" (for example "/admin")');
  }
  return basePath;
}

/**
 * Serves the admin API on `node:http`, and so in every framework built on it.
 * Reads the body itself, bounded by the admin's `maxBodyBytes` (413 past it,
 * without reading further; the connection is then closed), or takes the
 * body a parser before it already read (`req.body`).
 *
 * @throws TypeError when `admin` is not made by `createTenantAdmin` or `basePath` is malformed.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createAdminNodeHandler } from '@tenant/admin';
 *
 * createServer(createAdminNodeHandler(admin, { basePath: '/admin' })).listen(3000);
 * // express: app.use('/admin', createAdminNodeHandler(admin))
 * ```
 */
export function createAdminNodeHandler(admin: TenantAdmin, options: AdminNodeHandlerOptions = {}): AdminNodeHandler {
  if (typeof admin !== 'object' || admin === null || typeof admin.handle !== 'function' || typeof admin.reject !== 'function') {
    throw new TypeError('[@tenant/admin] createAdminNodeHandler takes an admin made by createTenantAdmin()');
  }
  const basePath = checkBasePath(options.basePath ?? '');
  const { principal } = options;
  if (principal !== undefined && typeof principal !== 'function') throw new TypeError('[@tenant/admin] principal must be a function');

  return async (req, res, next) => {
    try {
      const { path, query } = splitUrl(req.url ?? '/');
      let route = path;
      if (basePath !== '') {
        const under = path === basePath || (path.startsWith(basePath) && path[basePath.length] === '/');
        if (!under) {
          if (next !== undefined) next();
          else writeAdminResponse(res, admin.reject('route_not_found', 'No admin route has this path'));
          return;
        }
        route = path.slice(basePath.length);
      }
      const read = await readRaw(req, admin.maxBodyBytes);
      if (read.kind === 'aborted') {
        res.destroy();
        return;
      }
      if (read.kind === 'too_large') {
        // Do not read a body this large only to throw it away: answer, then close.
        res.setHeader('connection', 'close');
        writeAdminResponse(res, admin.reject('payload_too_large', `The body is larger than ${admin.maxBodyBytes} bytes`));
        return;
      }
      const response = await admin.handle({
        method: req.method ?? 'GET',
        path: route,
        query,
        headers: req.headers,
        ...(read.kind === 'parsed' ? { body: read.body } : read.raw === undefined ? {} : { rawBody: read.raw }),
        ...(principal === undefined ? {} : { principal: principal(req) }),
      });
      writeAdminResponse(res, response);
    } catch (error) {
      // Only a throwing `principal` or a broken response can get here.
      if (!res.headersSent) writeAdminResponse(res, admin.reject('internal_error', 'Internal error'));
      else res.destroy(error instanceof Error ? error : undefined);
    }
  };
}
