import { once } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryTenantStore, createTenancy, fromSubdomain, splitUrl, toTenantRequest, type TenantRequest, type ToTenantRequestOptions } from '../src/index.js';

/** What the server saw, as the neutral view and a few header lookups. */
interface Seen {
  readonly view: Omit<TenantRequest, 'header'>;
  readonly headers: Record<string, string | undefined>;
}

let server: Server;
let port: number;
let options: ToTenantRequestOptions = {};
const LOOKUPS = ['x-tenant-id', 'X-Tenant-Id', 'x-multi', 'set-cookie', 'absent'];

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    const { header, ...view } = toTenantRequest(req, options);
    const headers = Object.fromEntries(LOOKUPS.map((name) => [name, header(name)]));
    const body = JSON.stringify({ view, headers });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/**
 * Resolves when the socket closes. A server that refuses a request may reset
 * the connection while the client is still sending (Node 24 does for a 431):
 * a reset is not an error here, what was received before it is the answer.
 */
async function closedAfterReply(socket: Socket): Promise<void> {
  let failure: Error | undefined;
  socket.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') failure = error;
  });
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  if (failure !== undefined) throw failure;
}

/** Sends raw bytes to a port and returns the raw response, once the connection closes. */
async function exchange(toPort: number, text: string): Promise<string> {
  const socket = connect(toPort, '127.0.0.1');
  socket.setEncoding('utf8');
  let response = '';
  socket.on('data', (chunk: string) => (response += chunk));
  const closed = closedAfterReply(socket);
  await once(socket, 'connect');
  socket.end(text);
  await closed;
  return response;
}

/** Sends raw bytes and returns what the server saw (or the status line when it refused). */
async function raw(text: string): Promise<Seen | string> {
  const response = await exchange(port, text);
  const [head = '', body = ''] = response.split('\r\n\r\n');
  const status = head.split('\r\n')[0] ?? '';
  return status.includes(' 200 ') ? (JSON.parse(body) as Seen) : status;
}

async function get(path: string, headers: Record<string, string | string[]> = {}, method = 'GET'): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(JSON.parse(body) as Seen));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('toTenantRequest over a real node:http server', () => {
  it('reads method, path, query and host', async () => {
    options = {};
    const seen = await get('/t/acme/orders?limit=5&tenant=acme', { host: 'Acme.Example.com:8080' }, 'patch');
    expect(seen.view).toEqual({ method: 'PATCH', path: '/t/acme/orders', query: 'limit=5&tenant=acme', host: 'Acme.Example.com:8080' });
    expect((await get('/')).view).toMatchObject({ path: '/', query: '', host: `127.0.0.1:${port}` });
  });

  it('looks headers up by any case, joining repeated ones', async () => {
    options = {};
    const seen = await get('/', { 'X-Tenant-Id': 'acme', 'x-multi': ['a', 'b'], cookie: 'c=1' });
    expect(seen.headers).toEqual({ 'x-tenant-id': 'acme', 'X-Tenant-Id': 'acme', 'x-multi': 'a, b', 'set-cookie': undefined, absent: undefined });
  });

  it('keeps paths as received: encoded and dot-segments are not resolved', async () => {
    options = {};
    expect(await raw('GET /health/../admin?x=%2F HTTP/1.1\r\nHost: a.example.com\r\n\r\n')).toMatchObject({ view: { path: '/health/../admin', query: 'x=%2F' } });
    expect(await raw('GET /t/ac%2Fme HTTP/1.1\r\nHost: a.example.com\r\n\r\n')).toMatchObject({ view: { path: '/t/ac%2Fme' } });
    expect(await raw('GET //evil.com/x HTTP/1.1\r\nHost: a.example.com\r\n\r\n')).toMatchObject({ view: { path: '//evil.com/x', host: 'a.example.com' } });
  });

  it('takes the host of an absolute-form target over the Host header', async () => {
    options = {};
    const seen = await raw('GET http://acme.example.com/health/../admin?q=1 HTTP/1.1\r\nHost: globex.example.com\r\n\r\n');
    expect(seen).toMatchObject({ view: { path: '/health/../admin', query: 'q=1', host: 'acme.example.com' } });
    expect(await raw('GET http://acme.example.com HTTP/1.1\r\nHost: x\r\n\r\n')).toMatchObject({ view: { path: '/', query: '', host: 'acme.example.com' } });
  });

  it('gives no host when an HTTP/1.0 request sends none', async () => {
    options = {};
    const seen = await raw('GET /x HTTP/1.0\r\n\r\n');
    expect(seen).toMatchObject({ view: { method: 'GET', path: '/x', query: '' } });
    expect((seen as Seen).view.host).toBeUndefined();
  });

  it('keeps OPTIONS * as the path *', async () => {
    options = {};
    expect(await raw('OPTIONS * HTTP/1.1\r\nHost: a.example.com\r\n\r\n')).toMatchObject({ view: { method: 'OPTIONS', path: '*' } });
  });

  it('takes X-Forwarded-Host only with trustProxy', async () => {
    options = {};
    expect((await get('/', { host: 'a.example.com', 'x-forwarded-host': 'evil.example.com' })).view.host).toBe('a.example.com');
    options = { trustProxy: true };
    expect((await get('/', { host: 'a.example.com', 'x-forwarded-host': ' acme.example.com , proxy.internal' })).view.host).toBe('acme.example.com');
    expect((await get('/', { host: 'a.example.com' })).view.host).toBe('a.example.com');
    options = {};
  });

  it('carries the principal it is given', async () => {
    options = { principal: { tenant_id: 'acme' } };
    expect((await get('/')).view.principal).toEqual({ tenant_id: 'acme' });
    options = {};
    expect((await get('/')).view).not.toHaveProperty('principal');
  });

  it('survives hostile request lines: Node refuses them, or the view carries them for validation to refuse', async () => {
    options = {};
    expect(await raw('GET /x\u0000y HTTP/1.1\r\nHost: a\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('GET /x y HTTP/1.1\r\nHost: a\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    expect(await raw('GET /x HTTP/1.1\r\nHost: a\r\nx-tenant-id: a\r\n b\r\n\r\n')).toBe('HTTP/1.1 400 Bad Request');
    // Over the 16 KiB header limit, yet small enough to be read whole: a server that closes with
    // unread bytes resets the connection, which may discard the reply before the client reads it.
    expect(await raw(`GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: a\r\n\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    // A repeated Host header: Node keeps the first one.
    expect(await raw('GET /x HTTP/1.1\r\nHost: a.example.com\r\nHost: b.example.com\r\n\r\n')).toMatchObject({ view: { host: 'a.example.com' } });
    // User-info in an absolute-form target is kept raw, so that host normalization refuses it.
    expect(await raw('GET http://user@acme.example.com/x HTTP/1.1\r\nHost: b.example.com\r\n\r\n')).toMatchObject({ view: { host: 'user@acme.example.com' } });
  });

  it('feeds the pipeline end to end: subdomain host, and an absolute-form target cannot borrow another host', async () => {
    const tenancy = createTenancy({
      store: createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }] }),
      resolve: fromSubdomain({ baseDomains: ['example.com'] }),
      quota: false,
    });
    const local = createServer(async (req, res) => {
      const decision = await tenancy.handle(toTenantRequest(req));
      const body = decision.ok ? (decision.tenant?.id ?? '-') : decision.code;
      res.writeHead(decision.ok ? 200 : decision.status, { 'content-type': 'text/plain', 'content-length': body.length }).end(body);
    });
    local.listen(0, '127.0.0.1');
    await once(local, 'listening');
    const localPort = (local.address() as AddressInfo).port;
    const send = async (text: string) => (await exchange(localPort, text)).split('\r\n\r\n')[1];
    try {
      expect(await send('GET / HTTP/1.1\r\nHost: acme.example.com\r\nConnection: close\r\n\r\n')).toBe('acme');
      expect(await send('GET http://globex.example.com/ HTTP/1.1\r\nHost: acme.example.com\r\nConnection: close\r\n\r\n')).toBe('globex');
      expect(await send('GET / HTTP/1.1\r\nHost: nobody.example.com\r\nConnection: close\r\n\r\n')).toBe('tenant_not_found');
      expect(await send('GET / HTTP/1.1\r\nHost: evil.com/@acme.example.com\r\nConnection: close\r\n\r\n')).toBe('tenant_missing');
      expect(await send('GET http://user@acme.example.com/ HTTP/1.1\r\nHost: acme.example.com\r\nConnection: close\r\n\r\n')).toBe('tenant_missing');
    } finally {
      local.closeAllConnections();
      await new Promise<void>((resolve) => local.close(() => resolve()));
    }
  });
});

describe('splitUrl', () => {
  it.each([
    ['/', '/', ''],
    ['/a/b?x=1&y=2', '/a/b', 'x=1&y=2'],
    ['/a?', '/a', ''],
    ['/a?x=1#frag', '/a', 'x=1'],
    ['/a#frag?x=1', '/a', ''],
    ['/a/../b?x', '/a/../b', 'x'],
    ['http://acme.example.com', '/', ''],
    ['http://acme.example.com?x=1', '/', 'x=1'],
    ['https://acme.example.com:8443/a/./b?q=%2F', '/a/./b', 'q=%2F'],
    ['*', '*', ''],
    ['acme.example.com:443', 'acme.example.com:443', ''],
  ])('splits %s', (url, path, query) => {
    expect(splitUrl(url)).toEqual({ path, query });
  });
});
