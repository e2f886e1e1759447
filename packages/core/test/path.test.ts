import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import {
  TenantError,
  adapterRequest,
  canonicalPath,
  createMemoryTenantStore,
  createTenancy,
  routedRequest,
  tenancyFrom,
  toTenantRequest,
  type PathRouting,
  type RoutedRequest,
  type TenantDecision,
  type TenantRequest,
} from '../src/index.js';
import { request } from './fixtures-b/request.js';

const EXACT: PathRouting = { caseSensitive: true, strict: true, mergeSlashes: false };

const refused = (path: string, routing?: PathRouting): string => {
  try {
    canonicalPath(path, routing);
  } catch (error) {
    expect(TenantError.is(error, 'path_invalid'), String(error)).toBe(true);
    expect((error as TenantError).status).toBe(400);
    return (error as Error).message;
  }
  throw new Error(`${path} was not refused`);
};

describe('canonicalPath', () => {
  it('decodes once, folds case, drops the trailing slash and merges slashes by default (a lax router)', () => {
    expect(canonicalPath('/chat')).toBe('/chat');
    expect(canonicalPath('/ch%61t')).toBe('/chat');
    expect(canonicalPath('/CH%41T/')).toBe('/chat');
    expect(canonicalPath('//projects//2///%65xport')).toBe('/projects/2/export');
    expect(canonicalPath('/')).toBe('/');
    expect(canonicalPath('//')).toBe('/');
    expect(canonicalPath('/files/caf%C3%A9%20au%20lait.txt')).toBe('/files/café au lait.txt');
    expect(canonicalPath('/a;b=1/c')).toBe('/a;b=1/c');
    expect(canonicalPath('/v1.2/x...y')).toBe('/v1.2/x...y');
  });

  it('follows the declared routing: case, trailing slash, duplicate slashes, semicolons', () => {
    expect(canonicalPath('/Chat/', EXACT)).toBe('/Chat/');
    expect(canonicalPath('/Chat/', { caseSensitive: true })).toBe('/Chat');
    expect(canonicalPath('/Chat/', { strict: true })).toBe('/chat/');
    expect(canonicalPath('//chat', EXACT)).toBe('//chat');
    expect(canonicalPath('/chat//', { mergeSlashes: false })).toBe('/chat/');
    expect(canonicalPath('/chat;jsessionid=1', { semicolonDelimiter: true })).toBe('/chat');
    expect(canonicalPath('/chat%3Bx', { semicolonDelimiter: true })).toBe('/chat;x');
  });

  it('refuses what has no single canonical form', () => {
    expect(refused('/files/a%2Fb')).toMatch(/encoded slash/);
    expect(refused('/files/a%2fb')).toMatch(/encoded slash/);
    expect(refused('/files/a%5Cb')).toMatch(/encoded backslash/);
    expect(refused('/files/a%252Fb')).toMatch(/percent sign/);
    expect(refused('/a%3Fb')).toMatch(/question mark/);
    expect(refused('/a%23b')).toMatch(/number sign/);
    expect(refused('/a%00b')).toMatch(/control character/);
    expect(refused('/a%0ab')).toMatch(/control character/);
    expect(refused('/a\\b')).toMatch(/backslash/);
    expect(refused('/a b')).toMatch(/raw space/);
    expect(refused('/café')).toMatch(/non-ASCII/);
    expect(refused('/a%zz')).toMatch(/two hex digits/);
    expect(refused('/a%4')).toMatch(/two hex digits/);
    expect(refused('/a%C3')).toMatch(/UTF-8/);
    for (const dots of ['/./chat', '/x/../chat', '/chat/.', '/chat/..', '/%2e/chat', '/x/%2E%2e/chat', '/x/.%2e/chat']) {
      expect(refused(dots)).toMatch(/dot segment/);
      expect(refused(dots, EXACT)).toMatch(/dot segment/);
    }
    expect(refused('chat')).toMatch(/start with/);
    expect(refused('*')).toMatch(/start with/);
  });

  // Generated: every variant of a path that a lax router sends to the same
  // route has the same canonical form, and every ambiguous one is refused.
  const pick = seeded(20_261_204);
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789-_~.';
  const bases = Array.from({ length: 60 }, () => {
    const segments = Array.from({ length: 1 + pick(3) }, () => {
      let segment = '';
      while (segment === '' || segment === '.' || segment === '..') segment = Array.from({ length: 1 + pick(8) }, () => alphabet[pick(alphabet.length)]).join('');
      return segment;
    });
    return '/' + segments.join('/');
  });
  const encode = (ch: string, lower: boolean) => {
    const hex = ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    return '%' + (lower ? hex.toLowerCase() : hex);
  };
  /** Any subset of characters encoded (upper or lower hex), case changed, slashes doubled, a trailing slash. */
  const variant = (base: string): string => {
    let out = '';
    for (const ch of base) {
      if (ch === '/') out += pick(4) === 0 ? '//' : '/';
      else if (pick(3) === 0) out += encode(pick(2) === 0 ? ch : ch.toUpperCase(), pick(2) === 0);
      else out += pick(3) === 0 ? ch.toUpperCase() : ch;
    }
    return pick(3) === 0 ? out + '/' : out;
  };

  it.each(bases)('variants of %s: one canonical form by default, refusals for dot segments and encoded separators', (base) => {
    for (let i = 0; i < 40; i += 1) {
      const v = variant(base);
      expect(canonicalPath(v), v).toBe(base);
      // exact routing: only what decoding changes is merged
      const exact = canonicalPath(v, EXACT);
      expect(exact.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1'), v).toBe(base);
      const cut = v.lastIndexOf('/', v.length - 2);
      for (const ambiguous of [v.slice(0, cut) + '/./' + v.slice(cut + 1), v.slice(0, cut) + '/zz/../' + v.slice(cut + 1), v.slice(0, cut) + '/%2e%2E/' + v.slice(cut + 1), v.slice(0, cut) + (pick(2) === 0 ? '%2F' : '%2f') + v.slice(cut + 1), v + '%25' + '61']) {
        if (ambiguous === v) continue;
        refused(ambiguous);
        refused(ambiguous, EXACT);
      }
    }
  });
});

describe('routedRequest', () => {
  it('replaces path with the canonical one, keeps rawPath, route, methods and a class view\'s prototype', () => {
    class View {
      method = 'GET';
      path = '/Projects/2/%65xport/';
      query = '';
      host = 'acme.test';
      route = '/projects/:id/export';
      header(name: string) {
        return name === 'x-a' ? this.host : undefined;
      }
    }
    const routed = routedRequest(new View());
    expect(routed).toMatchObject({ path: '/projects/2/export', rawPath: '/Projects/2/%65xport/', route: '/projects/:id/export', method: 'GET' });
    expect(routed.header('x-a')).toBe('acme.test');
    expect(routedRequest({ ...request({ path: '/Chat/' }), routing: EXACT }).path).toBe('/Chat/');
  });

  it('copies a plain view with an own "__proto__" key as data, never as its prototype', () => {
    // JSON.parse makes "__proto__" an own property; copied by assignment it would become the copy's prototype
    const view = Object.assign(JSON.parse('{"__proto__": {"polluted": true}}') as object, request({ path: '/Chat/' }));
    const routed = routedRequest(view as TenantRequest);
    expect(Object.getPrototypeOf(routed)).toBe(Object.prototype);
    expect((routed as unknown as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(routed, '__proto__')?.value).toEqual({ polluted: true });
    expect([routed.path, routed.rawPath]).toEqual(['/chat', '/Chat/']);
  });

  it('reads a node:http view (copied rather than put under a new object) as the view itself, and never writes to it', () => {
    const routing: PathRouting = { caseSensitive: false, strict: false };
    const principal = { sub: 'u1' };
    for (const options of [{}, { principal, route: '/projects/:id/export', routing }]) {
      const req = { method: 'post', url: '/Projects/2/%65xport/?a=1', headers: { host: 'acme.test', 'x-a': ['1', '2'] } } as unknown as IncomingMessage;
      const view = toTenantRequest(req, options);
      const before = { ...view };
      const routed = routedRequest(view);
      expect(routed).toMatchObject({ ...before, path: '/projects/2/export', rawPath: '/Projects/2/%65xport/' });
      expect([routed.method, routed.query, routed.host, routed.principal, routed.route, routed.routing]).toEqual([view.method, view.query, view.host, view.principal, view.route, view.routing]);
      expect(routed.header('X-A')).toBe('1, 2');
      expect(routed.header('host')).toBe('acme.test');
      expect({ ...view }).toEqual(before);
      // an ambiguous path is refused all the same
      expect(() => routedRequest(toTenantRequest({ ...req, url: '/a%2Fb' } as IncomingMessage, options))).toThrow(TenantError);
    }
  });
});

describe('the pipeline keys policyRequest and cost on the canonical path', () => {
  const store = () =>
    createMemoryTenantStore({
      tenants: [
        { id: 'free', policy: { features: ['basic'] }, quota: { tokens: { limit: 100, windowMs: 60_000 } } },
        { id: 'pro', quota: { tokens: { limit: 100, windowMs: 60_000 } } },
      ],
    });
  const seen: RoutedRequest[] = [];
  const options = {
    policyRequest: (req: RoutedRequest) => (seen.push(req), /^\/projects\/[^/]+\/export$/.test(req.path) ? { features: 'export' } : undefined),
    cost: (req: RoutedRequest) => (req.method === 'POST' && req.path === '/chat' ? { requests: 1, tokens: 400 } : { requests: 1 }),
  };
  const ask = (tenancy: ReturnType<typeof createTenancy>, tenant: string, path: string, method = 'GET', routing?: PathRouting): Promise<TenantDecision> =>
    tenancy.handle({ ...request({ method, path, headers: { 'x-tenant-id': tenant } }), ...(routing === undefined ? {} : { routing }) });

  it('refuses the variants the issue found: /ch%61t is charged, /projects/2/%65xport is checked', async () => {
    const tenancy = createTenancy({ store: store(), ...options });
    expect(await ask(tenancy, 'pro', '/ch%61t', 'POST')).toMatchObject({ ok: false, status: 429, body: { code: 'quota_exceeded' } });
    expect(await ask(tenancy, 'pro', '/CHAT/', 'POST')).toMatchObject({ ok: false, status: 429 });
    expect(await ask(tenancy, 'free', '/projects/2/%65xport')).toMatchObject({ ok: false, status: 403, body: { code: 'policy_denied' } });
    expect(await ask(tenancy, 'free', '/Projects//2/EXPORT/')).toMatchObject({ ok: false, status: 403 });
    expect(await ask(tenancy, 'pro', '/projects/2/%65xport')).toMatchObject({ ok: true });
    expect(seen.at(-1)).toMatchObject({ path: '/projects/2/export', rawPath: '/projects/2/%65xport' });
    // exact routing keeps what the router tells apart
    expect(await ask(tenancy, 'free', '/Projects/2/export', 'GET', EXACT)).toMatchObject({ ok: true });
  });

  it('refuses an ambiguous path with 400 path_invalid, before calling either function', async () => {
    const rejections: unknown[] = [];
    const tenancy = createTenancy({ store: store(), ...options, hooks: { onReject: (event) => void rejections.push(event.rejection.body.code) } });
    const before = seen.length;
    for (const path of ['/projects/2%2Fexport', '/x/../projects/2/export', '/projects/2/./export', '/projects/2/%2e%2e/export', '/projects/a%252F/export']) {
      expect(await ask(tenancy, 'pro', path), path).toMatchObject({ ok: false, status: 400, body: { code: 'path_invalid', type: 'urn:tenant:error:path_invalid' } });
    }
    expect(seen.length).toBe(before);
    expect(rejections).toEqual(Array(5).fill('path_invalid'));
  });

  it('leaves an ambiguous path alone when nothing is keyed on it (no policyRequest or cost, or both given per call)', async () => {
    expect(await ask(createTenancy({ store: store() }), 'pro', '/x/../a%2Fb')).toMatchObject({ ok: true });
    const tenancy = createTenancy({ store: store(), ...options });
    expect(await tenancy.handle(request({ path: '/x/../a', headers: { 'x-tenant-id': 'pro' } }), { policy: {}, cost: { requests: 1 } })).toMatchObject({ ok: true });
    expect(await tenancy.handle(request({ path: '/x/../a', headers: { 'x-tenant-id': 'pro' } }), { policy: {} })).toMatchObject({ ok: false, status: 400 });
  });

  it('authorize() with a request gives the functions the canonical path too', async () => {
    const tenancy = createTenancy({ store: store(), ...options });
    const free = (await store().get('free'))!;
    expect(await tenancy.authorize(free, { request: request({ path: '/PROJECTS/9/%65xport' }) })).toMatchObject({ ok: false, status: 403 });
  });
});

describe('adapters declare the routing', () => {
  const req = { url: '/Chat/', method: 'GET', headers: { host: 'a.test' } } as unknown as IncomingMessage;

  it('adapterRequest: the options\' routing fields win over what the adapter read; the route is kept', () => {
    expect(adapterRequest(req, {}).routing).toBeUndefined();
    expect(adapterRequest(req, {}, undefined, { routing: EXACT, route: '/chat' })).toMatchObject({ routing: EXACT, route: '/chat', path: '/Chat/' });
    expect(adapterRequest(req, { routing: { strict: false } }, undefined, { routing: EXACT }).routing).toEqual({ ...EXACT, strict: false });
    expect(adapterRequest(req, { routing: { strict: true } }).routing).toEqual({ strict: true });
    expect(adapterRequest(req, { routing: { strict: undefined, caseSensitive: false } as unknown as PathRouting }, undefined, { routing: EXACT }).routing).toEqual({ ...EXACT, caseSensitive: false });
  });

  it('tenancyFrom refuses a routing that is not booleans of known names', () => {
    const store = createMemoryTenantStore();
    expect(() => tenancyFrom({ store, routing: { caseSensitive: 'yes' } as never })).toThrow(/routing.caseSensitive must be a boolean/);
    expect(() => tenancyFrom({ store, routing: { sensitive: true } as never })).toThrow(/routing has no option sensitive/);
    expect(() => tenancyFrom({ store, routing: null as never })).toThrow(/routing must be an object/);
    expect(() => tenancyFrom({ tenancy: createTenancy({ store }), routing: { strict: true } })).not.toThrow();
  });
});

function seeded(seed: number): (n: number) => number {
  let a = seed >>> 0;
  return (n) => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
  };
}

describe('routedRequest over a frozen view', () => {
  it('still gives the canonical path and the raw one', () => {
    const frozen = Object.freeze({ ...request({ path: '/A/%62/' }) });
    const routed = routedRequest(frozen);
    expect([routed.path, routed.rawPath, routed.method]).toEqual(['/a/b', '/A/%62/', 'GET']);
  });
});

describe('a literal put through the same rules matches', () => {
  it('canonicalPath(literal, request.routing) equals the canonical path of every spelling the router merges', () => {
    for (const routing of [{}, { caseSensitive: true }, { strict: true }, { caseSensitive: true, strict: true, mergeSlashes: false }] as PathRouting[]) {
      const key = canonicalPath('/Chat', routing);
      const view = routedRequest({ ...request({ path: routing.caseSensitive === true ? '/Ch%61t' : '/CH%41T' }), routing });
      expect(view.path, JSON.stringify(routing)).toBe(key);
    }
  });
});
