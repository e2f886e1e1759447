import { describe, expect, it } from 'vitest';
import { PROBLEM_TITLES, TENANT_ERROR_STATUS, TenantError, defaultProblemType, toRejection, type TenantErrorCode } from '../src/index.js';

const CODES = Object.keys(TENANT_ERROR_STATUS) as TenantErrorCode[];
const OPAQUE: readonly TenantErrorCode[] = ['internal_error', 'tenant_context_missing', 'isolation_violation', 'store_unavailable', 'quota_unavailable'];

describe('toRejection', () => {
  it.each(CODES)('maps %s to its status and a problem+json body', (code) => {
    const cause = new Error('secret: password=hunter2');
    const error = new TenantError(code, `[@tenant/core] message for ${code} from table tenants_secret`, { cause, tenantId: 'acme' });
    const rejection = toRejection(error);
    expect(rejection.ok).toBe(false);
    expect(rejection.status).toBe(TENANT_ERROR_STATUS[code]);
    expect(rejection.code).toBe(code);
    expect(rejection.error).toBe(error);
    expect(rejection.headers).toEqual({ 'content-type': 'application/problem+json', 'cache-control': 'no-store' });
    expect(rejection.body).toMatchObject({ type: `urn:tenant:error:${code}`, title: PROBLEM_TITLES[code], status: TENANT_ERROR_STATUS[code], code });
    const json = JSON.stringify(rejection.body);
    expect(json).not.toContain('hunter2');
    if (OPAQUE.includes(code)) {
      expect(rejection.body).not.toHaveProperty('detail');
      expect(json).not.toContain('tenants_secret');
    } else {
      // The package prefix is for logs, not for callers.
      expect(rejection.body.detail).toBe(`message for ${code} from table tenants_secret`);
    }
  });

  it('keeps a status the error overrides', () => {
    expect(toRejection(new TenantError('quota_exceeded', 'x', { status: 503 })).status).toBe(503);
  });

  it('turns anything else into a 500 internal_error that does not show the message', () => {
    for (const thrown of [new Error('db password is hunter2'), 'a string', null, { code: 'tenant_missing', name: 'TenantError' }]) {
      const rejection = toRejection(thrown);
      expect(rejection).toMatchObject({ status: 500, code: 'internal_error', body: { type: 'urn:tenant:error:internal_error', title: 'Internal error', status: 500, code: 'internal_error' } });
      expect(rejection.body).not.toHaveProperty('detail');
      expect(JSON.stringify(rejection.body)).not.toContain('hunter2');
      expect(rejection.error.cause).toBe(thrown);
    }
  });

  it('takes a custom problem type, extra headers and extension members', () => {
    const rejection = toRejection(new TenantError('quota_exceeded', 'used up'), {
      problemType: (code) => `https://errors.example.com/${code}`,
      headers: { 'retry-after': '5' },
      extensions: { exceeded: ['tokens'] },
    });
    expect(rejection.headers).toEqual({ 'content-type': 'application/problem+json', 'cache-control': 'no-store', 'retry-after': '5' });
    expect(rejection.body).toEqual({ type: 'https://errors.example.com/quota_exceeded', title: 'Quota exceeded', status: 429, detail: 'used up', code: 'quota_exceeded', exceeded: ['tokens'] });
    expect(defaultProblemType('tenant_missing')).toBe('urn:tenant:error:tenant_missing');
  });

  it('never lets extension members replace the standard ones', () => {
    const rejection = toRejection(new TenantError('tenant_missing', 'none'), { extensions: { status: 200, code: 'ok', type: 'x', extra: 1 } });
    expect(rejection.body).toMatchObject({ status: 400, code: 'tenant_missing', type: 'urn:tenant:error:tenant_missing', extra: 1 });
  });

  it('has a title for every code', () => {
    for (const code of CODES) expect(PROBLEM_TITLES[code].length).toBeGreaterThan(0);
  });
});
