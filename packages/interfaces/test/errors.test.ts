import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { TENANT_ERROR_STATUS, TenantError, isTenantErrorCode, type TenantErrorCode } from '../src/index.js';

interface ErrorsModule {
  readonly TenantError: typeof TenantError;
  readonly TENANT_ERROR_STATUS: typeof TENANT_ERROR_STATUS;
}

const DOCUMENTED: Record<TenantErrorCode, number> = {
  tenant_missing: 400,
  tenant_invalid: 400,
  path_invalid: 400,
  query_invalid: 400,
  tenant_not_found: 404,
  tenant_suspended: 403,
  tenant_inactive: 403,
  tenant_deleted: 410,
  policy_denied: 403,
  quota_exceeded: 429,
  quota_unavailable: 503,
  store_unavailable: 503,
  tenant_context_missing: 500,
  version_conflict: 409,
  tenant_exists: 409,
  domain_taken: 409,
  config_invalid: 400,
  isolation_violation: 500,
  internal_error: 500,
};
const CODES = Object.keys(DOCUMENTED) as TenantErrorCode[];

describe('TENANT_ERROR_STATUS', () => {
  it('lists exactly the documented codes with their statuses', () => {
    expect(TENANT_ERROR_STATUS).toEqual(DOCUMENTED);
  });

  it('maps every code to an HTTP error status', () => {
    for (const status of Object.values(TENANT_ERROR_STATUS)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
    }
  });
});

describe('isTenantErrorCode', () => {
  it('accepts every code', () => {
    for (const code of CODES) expect(isTenantErrorCode(code)).toBe(true);
  });

  it.each(['', 'TENANT_MISSING', 'toString', '__proto__', 'constructor', 'hasOwnProperty', 'tenant_missing '])(
    'refuses %j',
    (value) => {
      expect(isTenantErrorCode(value)).toBe(false);
    },
  );
});

describe('TenantError', () => {
  it.each(CODES)('%s carries its documented status', (code) => {
    const error = new TenantError(code, `failed with ${code}`);
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(TenantError);
    expect(error.name).toBe('TenantError');
    expect(error.code).toBe(code);
    expect(error.status).toBe(DOCUMENTED[code]);
    expect(error.message).toBe(`failed with ${code}`);
    expect(error.tenantId).toBeUndefined();
    expect(error.details).toBeUndefined();
    expect('cause' in error).toBe(false);
    expect(typeof error.stack).toBe('string');
  });

  it('keeps cause, tenantId and details', () => {
    const cause = new Error('connection refused');
    const details = { fields: { plan: 'must be a non-empty string' } };
    const error = new TenantError('store_unavailable', 'store down', { cause, tenantId: 'acme', details });
    expect(error.cause).toBe(cause);
    expect(error.tenantId).toBe('acme');
    expect(error.details).toEqual(details);
    expect(error.status).toBe(503);
  });

  it('keeps a falsy but defined cause', () => {
    expect(new TenantError('internal_error', 'x', { cause: 0 }).cause).toBe(0);
    expect(new TenantError('internal_error', 'x', { cause: null }).cause).toBeNull();
  });

  it('lets the status be overridden', () => {
    const error = new TenantError('quota_exceeded', 'slow down', { status: 503 });
    expect(error.status).toBe(503);
    expect(error.code).toBe('quota_exceeded');
  });

  it('serializes to JSON with its code, status and context but without the brand', () => {
    const error = new TenantError('version_conflict', 'stale', { tenantId: 'acme', details: { currentVersion: 4 } });
    const json = JSON.parse(JSON.stringify(error)) as Record<string, unknown>;
    expect(json).toEqual({ name: 'TenantError', code: 'version_conflict', status: 409, tenantId: 'acme', details: { currentVersion: 4 } });
    // A deserialized copy is plain data, not an error of ours.
    expect(TenantError.is(json)).toBe(false);
  });

  it('does not expose the brand as an enumerable or writable property', () => {
    const error = new TenantError('tenant_missing', 'x');
    const brand = Symbol.for('@tenant/interfaces.TenantError');
    const descriptor = Object.getOwnPropertyDescriptor(error, brand);
    expect(descriptor).toMatchObject({ value: true, enumerable: false, writable: false, configurable: false });
    expect(Object.keys(error)).not.toContain(brand.toString());
  });
});

describe('TenantError.is', () => {
  const error = new TenantError('tenant_suspended', 'suspended', { tenantId: 'acme' });

  it('recognizes instances, with or without codes', () => {
    expect(TenantError.is(error)).toBe(true);
    expect(TenantError.is(error, 'tenant_suspended')).toBe(true);
    expect(TenantError.is(error, 'tenant_inactive', 'tenant_suspended')).toBe(true);
  });

  it('refuses instances with other codes', () => {
    expect(TenantError.is(error, 'tenant_inactive')).toBe(false);
    expect(TenantError.is(error, 'tenant_deleted', 'tenant_missing')).toBe(false);
  });

  it('narrows the type', () => {
    const unknownError: unknown = error;
    if (!TenantError.is(unknownError, 'tenant_suspended')) throw new Error('expected a TenantError');
    expect(unknownError.tenantId).toBe('acme');
  });

  it('recognizes subclasses', () => {
    class StoreError extends TenantError {}
    expect(TenantError.is(new StoreError('store_unavailable', 'down'), 'store_unavailable')).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'tenant_missing'],
    ['a number', 404],
    ['a plain Error', new Error('tenant_missing')],
    ['a TypeError', new TypeError('x')],
    ['an Error with a code', Object.assign(new Error('x'), { code: 'tenant_missing' })],
    ['an Error named TenantError', Object.assign(new Error('x'), { name: 'TenantError', code: 'tenant_missing', status: 400 })],
    ['a plain look-alike object', { name: 'TenantError', code: 'tenant_not_found', status: 404, message: 'x' }],
    ['a look-alike with a string brand', { [String(Symbol.for('@tenant/interfaces.TenantError'))]: true, code: 'tenant_missing' }],
    ['a look-alike with a private symbol brand', { [Symbol('@tenant/interfaces.TenantError')]: true, code: 'tenant_missing' }],
  ])('refuses %s', (_label, value) => {
    expect(TenantError.is(value)).toBe(false);
    expect(TenantError.is(value, 'tenant_missing', 'tenant_not_found')).toBe(false);
  });

  it('refuses a branded object whose code is unknown', () => {
    const forged = new TenantError('internal_error', 'x');
    Object.defineProperty(forged, 'code', { value: 'made_up' });
    expect(TenantError.is(forged)).toBe(false);
    const numeric = { [Symbol.for('@tenant/interfaces.TenantError')]: true, code: 500 };
    expect(TenantError.is(numeric)).toBe(false);
  });

  it('accepts an object carrying the shared brand (as another copy of the package makes it)', () => {
    const foreign = Object.assign(new Error('from another copy'), { code: 'quota_exceeded', status: 429 });
    Object.defineProperty(foreign, Symbol.for('@tenant/interfaces.TenantError'), { value: true });
    expect(TenantError.is(foreign)).toBe(true);
    expect(TenantError.is(foreign, 'quota_exceeded')).toBe(true);
    expect(TenantError.is(foreign, 'quota_unavailable')).toBe(false);
  });
});

describe('two copies of the package (built ESM and CJS)', () => {
  const load = async (): Promise<{ esm: ErrorsModule; cjs: ErrorsModule }> => {
    const esm = (await import('../dist/index.js')) as ErrorsModule;
    const cjs = createRequire(import.meta.url)('../dist/index.cjs') as ErrorsModule;
    return { esm, cjs };
  };

  it('loads two distinct classes', async () => {
    const { esm, cjs } = await load();
    expect(esm.TenantError).not.toBe(cjs.TenantError);
    expect(esm.TENANT_ERROR_STATUS).toEqual(TENANT_ERROR_STATUS);
    expect(cjs.TENANT_ERROR_STATUS).toEqual(TENANT_ERROR_STATUS);
  });

  it('recognizes each other\'s errors through is(), where instanceof fails', async () => {
    const { esm, cjs } = await load();
    const fromCjs = new cjs.TenantError('tenant_not_found', 'nope', { tenantId: 'acme' });
    const fromEsm = new esm.TenantError('policy_denied', 'no');
    expect(fromCjs instanceof esm.TenantError).toBe(false);
    expect(fromEsm instanceof cjs.TenantError).toBe(false);
    expect(esm.TenantError.is(fromCjs, 'tenant_not_found')).toBe(true);
    expect(cjs.TenantError.is(fromEsm, 'policy_denied')).toBe(true);
    expect(TenantError.is(fromCjs, 'tenant_not_found')).toBe(true);
    expect(TenantError.is(fromEsm, 'tenant_not_found')).toBe(false);
    expect(cjs.TenantError.is(new TenantError('tenant_missing', 'x'), 'tenant_missing')).toBe(true);
  });

  it('refuses look-alikes in every copy', async () => {
    const { esm, cjs } = await load();
    const lookAlike = Object.assign(new Error('x'), { name: 'TenantError', code: 'tenant_missing' });
    expect(esm.TenantError.is(lookAlike)).toBe(false);
    expect(cjs.TenantError.is(lookAlike)).toBe(false);
  });
});
