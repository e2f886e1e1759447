// End to end on SQLite: a request resolved by host through the SQL store, then
// tenant data read through the row-level plugin in the pipeline's context.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenancy, fromHeader, fromHost, type TenantRequest } from '@tenant/core';
import { createSqlTenantStore, migrateTenantStore, unscoped, withTenantScope, type SqlTenantStore } from '../src/index.js';
import type { AnyKysely } from '../src/dialect.js';
import { sqlite } from './dialects.js';

function request(host: string, headers: Record<string, string> = {}): TenantRequest {
  return { method: 'GET', path: '/orders', query: '', host, header: (name) => headers[name] };
}

describe('SqlTenantStore in the core pipeline, with the row-level plugin', () => {
  let db: AnyKysely;
  let store: SqlTenantStore;
  let appDb: AnyKysely;

  beforeAll(async () => {
    db = sqlite();
    await migrateTenantStore(db);
    store = createSqlTenantStore({ db });
    await store.create({ id: 'acme', domains: ['acme.example.com'] });
    await store.create({ id: 'globex', domains: ['globex.example.com'], status: 'suspended' });
    await db.schema.createTable('orders').addColumn('id', 'integer').addColumn('tenant_id', 'text').execute();
    await db.insertInto('orders').values([{ id: 1, tenant_id: 'acme' }, { id: 2, tenant_id: 'globex' }, { id: 3, tenant_id: 'acme' }]).execute();
    appDb = withTenantScope(db, { tables: ['orders'] });
  });

  afterAll(() => db.destroy());

  it("admits a tenant found by domain and scopes its queries; rejects the others with the store's answers", async () => {
    const tenancy = createTenancy({ store, resolve: [fromHost(store), fromHeader()], quota: false });
    const admitted = await tenancy.handle(request('ACME.example.com:8443'));
    expect(admitted.ok && admitted.tenant?.id).toBe('acme');
    const ids = await tenancy.run(admitted, () => appDb.selectFrom('orders').select('id').orderBy('id').execute());
    expect(ids).toEqual([{ id: 1 }, { id: 3 }]);

    const suspended = await tenancy.handle(request('globex.example.com'));
    expect(suspended.ok ? 'admitted' : suspended.code).toBe('tenant_suspended');
    const unknown = await tenancy.handle(request('nobody.example.com', { 'x-tenant-id': 'nobody' }));
    expect(unknown.ok ? 'admitted' : unknown.code).toBe('tenant_not_found');
    const hostile = await tenancy.handle(request('x.example.com', { 'x-tenant-id': "acme'; --" }));
    expect(hostile.ok ? 'admitted' : hostile.code).toBe('tenant_invalid');

    // Outside an admitted decision, the scoped handle refuses; admin code says so explicitly.
    await expect(tenancy.run(unknown, () => appDb.selectFrom('orders').selectAll().execute())).rejects.toThrow(/no tenant in context/);
    expect(await unscoped(appDb).selectFrom('orders').select('id').execute()).toHaveLength(3);
  });
});
