/**
 * The built package, as users load it: an ESM and a CJS copy in one process
 * (a dual-package hazard) must share one tenant context, and the package must
 * resolve by its own name through the exports map.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as CoreModule from '../src/index.js';
import type * as TestingModule from '../src/testing.js';
import type * as FetchModule from '../src/fetch.js';

type Core = typeof CoreModule;
type Testing = typeof TestingModule;

const require = createRequire(import.meta.url);
const dist = (file: string) => fileURLToPath(new URL(`../dist/${file}`, import.meta.url));

let esm: Core;
let cjs: Core;

beforeAll(async () => {
  for (const file of ['index.js', 'index.cjs', 'testing.js', 'testing.cjs', 'fetch.js', 'fetch.cjs']) {
    if (!existsSync(dist(file))) throw new Error(`packages/core/dist/${file} is missing: run pnpm --filter @tenant/core build first`);
  }
  esm = (await import(dist('index.js'))) as Core;
  cjs = require(dist('index.cjs')) as Core;
});

describe('ESM and CJS builds in one process', () => {
  it('are two distinct module instances', () => {
    expect(esm.runWithTenant).not.toBe(cjs.runWithTenant);
    expect(esm.createMemoryTenantStore).not.toBe(cjs.createMemoryTenantStore);
  });

  it('share one tenant context: ESM sets, CJS reads', async () => {
    const acme = esm.createTenantConfig({ id: 'acme' }, { now: new Date(0) });
    const seen = await esm.runWithTenant(acme, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { id: cjs.currentTenantId(), tenant: cjs.requireTenant(), snapshot: cjs.captureTenant() };
    });
    expect(seen).toEqual({ id: 'acme', tenant: acme, snapshot: { v: 1, tenantId: 'acme' } });
    expect(cjs.currentTenant()).toBeUndefined();
  });

  it('share one tenant context: CJS sets, ESM reads, and runWithoutTenant clears it for both', () => {
    const globex = cjs.createTenantConfig({ id: 'globex' }, { now: new Date(0) });
    cjs.runWithTenant(globex, () => {
      expect(esm.currentTenantId()).toBe('globex');
      esm.runWithoutTenant(() => {
        expect(cjs.currentTenantId()).toBeUndefined();
        expect(() => cjs.requireTenant()).toThrow(/No tenant in context/);
      });
      const bound = cjs.bindTenant(() => esm.currentTenantId());
      expect(esm.runWithoutTenant(bound)).toBe('globex');
    });
  });

  it('share the context with the source build the other tests use', async () => {
    const source = await import('../src/index.js');
    const acme = source.createTenantConfig({ id: 'acme' }, { now: new Date(0) });
    expect(source.runWithTenant(acme, () => [esm.currentTenantId(), cjs.currentTenantId()])).toEqual(['acme', 'acme']);
  });

  it('recognize each other\'s errors', () => {
    let error: unknown;
    try {
      cjs.requireTenant();
    } catch (caught) {
      error = caught;
    }
    expect(esm.TenantError.is(error, 'tenant_context_missing')).toBe(true);
  });

  it('restore a snapshot taken by the other copy, from a store of the other copy', async () => {
    const store = cjs.createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'pro' }] });
    const acme = (await store.get('acme'))!;
    const snapshot = cjs.runWithTenant(acme, () => cjs.captureTenant());
    expect(await esm.runWithSnapshot(JSON.parse(JSON.stringify(snapshot)), { store }, () => cjs.requireTenant().plan)).toBe('pro');
  });
});

describe('self-reference through the exports map', () => {
  it('imports @tenant/core and @tenant/core/testing as ESM', async () => {
    const core = (await import('@tenant/core')) as Core;
    const testing = (await import('@tenant/core/testing')) as Testing;
    expect(core.runWithTenant).toBe(esm.runWithTenant);
    expect(typeof core.createTenancy).toBe('function');
    expect(typeof testing.withTestTenant).toBe('function');
    expect(testing.withTestTenant({ id: 'acme' }, () => cjs.currentTenantId())).toBe('acme');
  });

  it('requires @tenant/core and @tenant/core/testing as CJS', () => {
    expect(require.resolve('@tenant/core')).toBe(dist('index.cjs'));
    expect(require.resolve('@tenant/core/testing')).toBe(dist('testing.cjs'));
    const core = require('@tenant/core') as Core;
    const testing = require('@tenant/core/testing') as Testing;
    expect(core.runWithTenant).toBe(cjs.runWithTenant);
    expect(testing.createTestTenant({ id: 'acme' }).id).toBe('acme');
    expect(testing.withTestTenant({ id: 'globex' }, () => esm.currentTenantId())).toBe('globex');
  });

  it('resolves package.json and nothing outside the exports map', () => {
    expect((require('@tenant/core/package.json') as { name: string }).name).toBe('@tenant/core');
    for (const subpath of ['@tenant/core/dist/index.cjs', '@tenant/core/src/index.ts', '@tenant/core/testing.js']) {
      expect(() => require.resolve(subpath)).toThrow(expect.objectContaining({ code: 'ERR_PACKAGE_PATH_NOT_EXPORTED' }));
    }
  });

  it('exports the same names from both builds and re-exports @tenant/interfaces', () => {
    expect(Object.keys(cjs).sort()).toEqual(Object.keys(esm).sort());
    for (const name of ['TenantError', 'TENANT_ERROR_STATUS', 'TENANT_STATUSES', 'QUOTA_DIMENSIONS', 'isTenantErrorCode']) {
      expect(Object.keys(esm)).toContain(name);
    }
    for (const name of ['runWithTenant', 'currentTenant', 'captureTenant', 'runWithSnapshot', 'createMemoryTenantStore', 'validateTenantId', 'normalizeHost']) {
      expect(typeof (esm as unknown as Record<string, unknown>)[name]).toBe('function');
    }
  });

  it('@tenant/core/fetch: ESM and CJS, every name of the main entry but the node:http helpers, one context with it', async () => {
    expect(require.resolve('@tenant/core/fetch')).toBe(dist('fetch.cjs'));
    const fetchEsm = (await import('@tenant/core/fetch')) as Record<string, unknown> & typeof FetchModule;
    const fetchCjs = require('@tenant/core/fetch') as Record<string, unknown> & typeof FetchModule;
    expect(Object.keys(fetchCjs).sort()).toEqual(Object.keys(fetchEsm).sort());
    const nodeOnly = ['adapterRequest', 'writeRejection', 'settleOnFinish', 'toTenantRequest'];
    expect(Object.keys(esm).filter((name) => !(name in fetchEsm)).sort()).toEqual([...nodeOnly].sort());
    for (const name of ['withTenancy', 'finishResponse', 'rejectionResponse', 'adapterFetchRequest', 'TenantError']) expect(name in fetchEsm).toBe(true);
    // one module graph with the main entry in each format, one context across all
    expect(fetchEsm.runWithTenant).toBe(esm.runWithTenant);
    expect(fetchCjs.runWithTenant).toBe(cjs.runWithTenant);
    const acme = esm.createTenantConfig({ id: 'acme' }, { now: new Date(0) });
    expect(esm.runWithTenant(acme, () => [fetchEsm.currentTenantId(), fetchCjs.currentTenantId()])).toEqual(['acme', 'acme']);
  });
});

