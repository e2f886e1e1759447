import { describe, expect, it, vi } from 'vitest';
import {
  TenantError,
  chain,
  createMemoryTenantStore,
  createResolver,
  fromClaim,
  fromHeader,
  fromHost,
  fromPath,
  fromQuery,
  fromSubdomain,
  isPromiseLike,
  resolveWith,
  validateTenantId,
  type TenantRequest,
} from '../src/index.js';
import { request } from './fixtures-b/request.js';

const expectCode = (fn: () => unknown, code: string) => {
  try {
    fn();
  } catch (error) {
    expect(TenantError.is(error)).toBe(true);
    expect((error as TenantError).code).toBe(code);
    return;
  }
  throw new Error(`expected a TenantError ${code}`);
};

describe('fromHeader', () => {
  it('reads x-tenant-id by default, whatever the case of the name', () => {
    const resolver = fromHeader();
    expect(resolver.name).toBe('header');
    expect(resolver.resolve(request({ headers: { 'X-Tenant-Id': 'acme' } }))).toBe('acme');
    expect(fromHeader('X-Org').resolve(request({ headers: { 'x-org': 'globex' } }))).toBe('globex');
  });

  it('trims whitespace and treats empty or blank values as absent', () => {
    const resolver = fromHeader();
    expect(resolver.resolve(request({ headers: { 'x-tenant-id': '  acme \t' } }))).toBe('acme');
    expect(resolver.resolve(request({ headers: { 'x-tenant-id': '' } }))).toBeUndefined();
    expect(resolver.resolve(request({ headers: { 'x-tenant-id': '   ' } }))).toBeUndefined();
    expect(resolver.resolve(request())).toBeUndefined();
  });

  it('passes repeated headers and comma lists through as one value that fails validation', () => {
    const resolver = fromHeader();
    const repeated = resolver.resolve(request({ headers: { 'x-tenant-id': ['acme', 'globex'] } })) as string;
    expect(repeated).toBe('acme, globex');
    expectCode(() => validateTenantId(repeated), 'tenant_invalid');
    const list = resolver.resolve(request({ headers: { 'x-tenant-id': 'acme,globex' } })) as string;
    expectCode(() => validateTenantId(list), 'tenant_invalid');
  });

  it('does not cut oversized values: the validator refuses them', () => {
    const huge = 'a'.repeat(10_000);
    const value = fromHeader().resolve(request({ headers: { 'x-tenant-id': huge } })) as string;
    expect(value).toHaveLength(10_000);
    expectCode(() => validateTenantId(value), 'tenant_invalid');
  });

  it('refuses header names that are not HTTP tokens', () => {
    expect(() => fromHeader('x tenant')).toThrow(TypeError);
    expect(() => fromHeader('')).toThrow(TypeError);
    expect(() => fromHeader('x-tenant:')).toThrow(TypeError);
  });
});

describe('fromQuery', () => {
  it('reads the tenant parameter, decoded', () => {
    const resolver = fromQuery();
    expect(resolver.resolve(request({ query: 'a=1&tenant=acme' }))).toBe('acme');
    expect(resolver.resolve(request({ query: 'tenant=ac%20me' }))).toBe('ac me');
    expect(fromQuery('org').resolve(request({ query: 'org=globex&tenant=acme' }))).toBe('globex');
  });

  it('gives nothing for an absent or empty parameter', () => {
    const resolver = fromQuery();
    expect(resolver.resolve(request())).toBeUndefined();
    expect(resolver.resolve(request({ query: 'other=1' }))).toBeUndefined();
    expect(resolver.resolve(request({ query: 'tenant=' }))).toBeUndefined();
  });

  it('refuses a parameter given twice instead of guessing', () => {
    expectCode(() => fromQuery().resolve(request({ query: 'tenant=acme&tenant=globex' })), 'tenant_invalid');
  });
});

describe('fromPath', () => {
  it('takes the first segment by default', () => {
    const resolver = fromPath();
    expect(resolver.resolve(request({ path: '/acme/orders' }))).toBe('acme');
    expect(resolver.resolve(request({ path: '/acme' }))).toBe('acme');
    expect(resolver.resolve(request({ path: '/' }))).toBeUndefined();
    expect(resolver.resolve(request({ path: '//orders' }))).toBeUndefined();
  });

  it('takes the segment after a prefix, and only under that prefix', () => {
    const resolver = fromPath({ prefix: '/t/' });
    expect(resolver.resolve(request({ path: '/t/acme/orders/1' }))).toBe('acme');
    expect(resolver.resolve(request({ path: '/t/' }))).toBeUndefined();
    expect(resolver.resolve(request({ path: '/t' }))).toBeUndefined();
    expect(resolver.resolve(request({ path: '/tx/acme' }))).toBeUndefined();
    expect(resolver.resolve(request({ path: '/api/t/acme' }))).toBeUndefined();
    expect(fromPath({ prefix: '/api/v1' }).resolve(request({ path: '/api/v1/globex/x' }))).toBe('globex');
  });

  it('decodes the segment, so encoded separators fail validation', () => {
    const resolver = fromPath({ prefix: '/t' });
    const slash = resolver.resolve(request({ path: '/t/ac%2Fme/x' })) as string;
    expect(slash).toBe('ac/me');
    expectCode(() => validateTenantId(slash), 'tenant_invalid');
    expect(resolver.resolve(request({ path: '/t/%2E%2E/x' }))).toBe('..');
    const malformed = resolver.resolve(request({ path: '/t/%E0%A4%A/x' })) as string;
    expect(malformed).toBe('%E0%A4%A');
    expectCode(() => validateTenantId(malformed), 'tenant_invalid');
  });

  it('refuses a prefix that is not a path', () => {
    expect(() => fromPath({ prefix: 't' })).toThrow(TypeError);
  });
});

describe('fromSubdomain', () => {
  const resolver = fromSubdomain({ baseDomains: ['example.com', 'Example.ORG.'] });

  it('takes the one label before a base domain, with any case and port', () => {
    expect(resolver.name).toBe('subdomain');
    expect(resolver.resolve(request({ host: 'acme.example.com' }))).toBe('acme');
    expect(resolver.resolve(request({ host: 'ACME.Example.Com:8443' }))).toBe('acme');
    expect(resolver.resolve(request({ host: 'globex.example.org.' }))).toBe('globex');
  });

  it('resolves nothing for nested subdomains, the base itself, www, other domains and bad hosts', () => {
    for (const host of ['a.b.example.com', 'example.com', 'www.example.com', 'acme.example.net', 'acmeexample.com', 'acme.example.com.evil.io', '127.0.0.1', '[::1]:80', 'acme.example.com/x', undefined]) {
      expect(resolver.resolve(request(host === undefined ? {} : { host })), String(host)).toBeUndefined();
    }
  });

  it('takes its own ignore list', () => {
    const custom = fromSubdomain({ baseDomains: ['example.com'], ignore: ['api', 'App'] });
    expect(custom.resolve(request({ host: 'api.example.com' }))).toBeUndefined();
    expect(custom.resolve(request({ host: 'app.example.com' }))).toBeUndefined();
    expect(custom.resolve(request({ host: 'www.example.com' }))).toBe('www');
  });

  it('refuses options without valid base domains', () => {
    expect(() => fromSubdomain({ baseDomains: [] })).toThrow(TypeError);
    expect(() => fromSubdomain({ baseDomains: ['not a domain'] })).toThrow(TypeError);
  });
});

describe('fromHost', () => {
  it('finds the tenant owning the host through the store', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', domains: ['shop.acme.com'] }] });
    const resolver = fromHost(store);
    expect(resolver.name).toBe('host');
    expect(await resolver.resolve(request({ host: 'Shop.Acme.com:443' }))).toBe('acme');
    expect(await resolver.resolve(request({ host: 'other.com' }))).toBeUndefined();
    expect(await resolver.resolve(request())).toBeUndefined();
  });

  it('never asks the store about hostile hosts', async () => {
    const getByDomain = vi.fn(async () => undefined);
    const resolver = fromHost({ getByDomain });
    expect(await resolver.resolve(request({ host: 'evil.com/@acme' }))).toBeUndefined();
    expect(await resolver.resolve(request({ host: '10.0.0.1' }))).toBeUndefined();
    expect(getByDomain).not.toHaveBeenCalled();
  });

  it('turns store failures into store_unavailable and keeps TenantErrors', async () => {
    const cause = new Error('connection refused');
    const broken = fromHost({ getByDomain: () => Promise.reject(cause) });
    const error = await Promise.resolve(broken.resolve(request({ host: 'a.com' }))).catch((e: unknown) => e);
    expect(TenantError.is(error, 'store_unavailable')).toBe(true);
    expect((error as TenantError).cause).toBe(cause);
    const own = new TenantError('tenant_invalid', 'x');
    const passing = fromHost({ getByDomain: () => Promise.reject(own) });
    await expect(passing.resolve(request({ host: 'a.com' }))).rejects.toBe(own);
  });
});

describe('fromClaim', () => {
  it('reads a string claim from the verified principal', () => {
    const resolver = fromClaim('tenant_id');
    expect(resolver.name).toBe('claim');
    expect(resolver.resolve(request({ principal: { tenant_id: 'acme' } }))).toBe('acme');
    expect(resolver.resolve(request({ principal: { sub: 'u1' } }))).toBeUndefined();
    expect(resolver.resolve(request({ principal: { tenant_id: null } }))).toBeUndefined();
    expect(resolver.resolve(request({ principal: 'token' }))).toBeUndefined();
    expect(resolver.resolve(request())).toBeUndefined();
  });

  it('does not read inherited properties', () => {
    const principal = Object.create({ tenant_id: 'inherited' }) as object;
    expect(fromClaim('tenant_id').resolve(request({ principal }))).toBeUndefined();
  });

  it('refuses a claim that is not a string', () => {
    expectCode(() => fromClaim('tenant_id').resolve(request({ principal: { tenant_id: 42 } })), 'tenant_invalid');
  });

  it('calls a callback with the principal and the request, only when there is a principal', async () => {
    const callback = vi.fn(async (principal: unknown, req: TenantRequest) => `${(principal as { org: string }).org}-${req.method.toLowerCase()}`);
    const resolver = fromClaim(callback);
    expect(await resolver.resolve(request({ principal: { org: 'acme' } }))).toBe('acme-get');
    expect(callback).toHaveBeenCalledTimes(1);
    expect(resolver.resolve(request())).toBeUndefined();
    expect(callback).toHaveBeenCalledTimes(1);
  });
});

describe('createResolver', () => {
  it('builds a frozen resolver from a function', () => {
    const resolver = createResolver('api-key', (req) => (req.header('x-api-key') === 'k1' ? 'acme' : undefined));
    expect(Object.isFrozen(resolver)).toBe(true);
    expect(resolver.resolve(request({ headers: { 'x-api-key': 'k1' } }))).toBe('acme');
    expect(resolver.resolve(request())).toBeUndefined();
  });

  it('refuses a missing name or function', () => {
    expect(() => createResolver('', () => undefined)).toThrow(TypeError);
    expect(() => createResolver('x', undefined as never)).toThrow(TypeError);
  });
});

describe('chain and resolveWith', () => {
  const both = request({ principal: { tenant_id: 'from-claim' }, headers: { 'x-tenant-id': 'from-header' } });

  it('tries in order: a claim before a header', () => {
    expect(chain(fromClaim('tenant_id'), fromHeader()).resolve(both)).toBe('from-claim');
    expect(chain(fromHeader(), fromClaim('tenant_id')).resolve(both)).toBe('from-header');
    expect(chain(fromClaim('tenant_id'), fromHeader()).resolve(request({ headers: { 'x-tenant-id': 'h' } }))).toBe('h');
  });

  it('stays synchronous while its members are, and waits for async members', async () => {
    const sync = chain(fromHeader(), fromQuery());
    const syncResult = sync.resolve(request({ query: 'tenant=q' }));
    expect(isPromiseLike(syncResult)).toBe(false);
    expect(syncResult).toBe('q');

    const later = vi.fn(() => 'never');
    const asyncFirst = chain(createResolver('slow', async () => undefined), fromHeader(), createResolver('later', later));
    const pending = asyncFirst.resolve(request({ headers: { 'x-tenant-id': 'acme' } }));
    expect(isPromiseLike(pending)).toBe(true);
    expect(await pending).toBe('acme');
    expect(later).not.toHaveBeenCalled();
    expect(await asyncFirst.resolve(request())).toBe('never');
  });

  it('stops at the first resolver that finds an id', () => {
    const second = vi.fn(() => 'b');
    expect(chain(createResolver('a', () => 'a'), createResolver('b', second)).resolve(request())).toBe('a');
    expect(second).not.toHaveBeenCalled();
  });

  it('flattens nested chains and reports the member that matched', async () => {
    const inner = chain(fromClaim('tenant_id'), fromQuery());
    const outer = chain(inner, fromHeader());
    expect(outer.resolvers.map((r) => r.name)).toEqual(['claim', 'query', 'header']);
    expect(resolveWith(outer.resolvers, request({ headers: { 'x-tenant-id': 'acme' } }))).toEqual({ id: 'acme', source: 'header' });
    expect(resolveWith(outer.resolvers, request())).toBeUndefined();
    const asyncList = [createResolver('db', async () => 'acme')];
    expect(await resolveWith(asyncList, request())).toEqual({ id: 'acme', source: 'db' });
  });

  it('treats null like undefined and tries the next resolver, sync or async', async () => {
    const none = createResolver('db', () => null as unknown as undefined);
    const noneAsync = createResolver('db-async', async () => null as unknown as undefined);
    const req = request({ headers: { 'x-tenant-id': 'acme' } });
    expect(resolveWith([none, fromHeader()], req)).toEqual({ id: 'acme', source: 'header' });
    expect(await resolveWith([noneAsync, fromHeader()], req)).toEqual({ id: 'acme', source: 'header' });
    expect(await chain(noneAsync, none).resolve(req)).toBeUndefined();
  });

  it('lets a resolver error stop the chain', async () => {
    const failing = chain(fromQuery(), fromHeader());
    expectCode(() => failing.resolve(request({ query: 'tenant=a&tenant=b', headers: { 'x-tenant-id': 'acme' } })), 'tenant_invalid');
    const rejecting = chain(createResolver('x', () => Promise.reject(new Error('down'))), fromHeader());
    await expect(rejecting.resolve(request({ headers: { 'x-tenant-id': 'acme' } }))).rejects.toThrow('down');
  });

  it('refuses no resolvers or things that are not resolvers', () => {
    expect(() => chain()).toThrow(TypeError);
    expect(() => chain({ name: 'x' } as never)).toThrow(TypeError);
  });
});
