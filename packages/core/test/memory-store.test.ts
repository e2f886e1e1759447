import { describe, expect, it } from 'vitest';
import {
  createMemoryTenantStore,
  createTenantIdValidator,
  type Clock,
  type TenantChangeEvent,
  type TenantConfig,
  type TenantStatus,
} from '../src/index.js';
import { fieldsOf, rejected } from './fixtures-a/errors.js';

/** A clock that moves one second per reading, so every write has its own timestamp. */
function steppingClock(start = Date.UTC(2026, 0, 1)): Clock {
  let t = start;
  return { now: () => (t += 1000) };
}

function feed(store: ReturnType<typeof createMemoryTenantStore>) {
  const events: TenantChangeEvent[] = [];
  const unsubscribe = store.subscribe((event) => events.push(event));
  return { events, unsubscribe };
}

async function allIds(store: ReturnType<typeof createMemoryTenantStore>, query: { status?: TenantStatus | TenantStatus[]; limit?: number; plan?: string } = {}) {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...query, ...(cursor === undefined ? {} : { cursor }) });
    ids.push(...page.items.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return ids;
}

describe('createMemoryTenantStore: create and read', () => {
  it('creates initial tenants and reads them by id and domain', async () => {
    const store = createMemoryTenantStore({
      clock: steppingClock(),
      tenants: [{ id: 'acme', plan: 'pro', domains: ['acme.example.com', 'Www.Acme.Test'] }, { id: 'globex' }],
    });
    expect(store.size).toBe(2);
    const acme = await store.get('acme');
    expect(acme).toMatchObject({ id: 'acme', plan: 'pro', status: 'active', version: 1, domains: ['acme.example.com', 'www.acme.test'] });
    expect(acme?.createdAt).toBe('2026-01-01T00:00:01.000Z');
    expect((await store.get('globex'))?.createdAt).toBe('2026-01-01T00:00:02.000Z');
    expect(await store.get('initech')).toBeUndefined();
    for (const host of ['acme.example.com', 'ACME.example.com:8443', 'acme.example.com.', 'www.acme.test']) {
      expect((await store.getByDomain(host))?.id).toBe('acme');
    }
    expect(await store.getByDomain('other.example.com')).toBeUndefined();
    expect(await store.getByDomain('acme.example.com/evil')).toBeUndefined();
    expect(await store.getByDomain('')).toBeUndefined();
  });

  it('answers undefined for ids that are not strings, without throwing', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    expect(await store.get(1 as unknown as string)).toBeUndefined();
    expect(await store.get(null as unknown as string)).toBeUndefined();
    expect(await store.getByDomain(undefined as unknown as string)).toBeUndefined();
  });

  it('refuses a second tenant with the same id, changing nothing', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'pro' }] });
    const error = await rejected(store.create({ id: 'acme', plan: 'free' }), 'tenant_exists');
    expect(error.status).toBe(409);
    expect(error.tenantId).toBe('acme');
    expect((await store.get('acme'))?.plan).toBe('pro');
    expect(store.size).toBe(1);
  });

  it('refuses a domain that another tenant owns, changing nothing', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
    const error = await rejected(store.create({ id: 'evil', domains: ['evil.example.com', 'ACME.example.com.'] }), 'domain_taken');
    expect(error.details).toEqual({ domain: 'acme.example.com' });
    expect(await store.get('evil')).toBeUndefined();
    expect(await store.getByDomain('evil.example.com')).toBeUndefined();
    expect(store.size).toBe(1);
  });

  it('refuses invalid input with tenant_invalid or config_invalid', async () => {
    const store = createMemoryTenantStore();
    await rejected(store.create({ id: '../acme' }), 'tenant_invalid');
    const error = await rejected(store.create({ id: 'acme', plan: '' }), 'config_invalid');
    expect(fieldsOf(error)).toEqual({ plan: 'must be a non-empty string' });
    expect(store.size).toBe(0);
  });

  it('throws at construction when an initial tenant is invalid', () => {
    expect(() => createMemoryTenantStore({ tenants: [{ id: 'a' }, { id: 'a' }] })).toThrow(/already exists/);
  });

  it('uses a custom id format', async () => {
    const store = createMemoryTenantStore({ validateId: createTenantIdValidator({ pattern: /^T[0-9]+$/ }) });
    expect((await store.create({ id: 'T1' })).id).toBe('T1');
    await rejected(store.create({ id: 'acme' }), 'tenant_invalid');
    const page = await store.list({ limit: 1 });
    expect(page.items.map((t) => t.id)).toEqual(['T1']);
  });
});

describe('createMemoryTenantStore: list', () => {
  const ids = ['delta', 'alpha', 'charlie', 'echo', 'bravo', 'foxtrot', 'golf'];
  const seeded = () =>
    createMemoryTenantStore({
      tenants: ids.map((id, i) => ({ id, plan: i % 2 === 0 ? 'pro' : 'free', ...(id === 'charlie' ? { status: 'suspended' as const } : {}) })),
    });

  it('pages in id order with a cursor and no empty last page', async () => {
    const store = seeded();
    const first = await store.list({ limit: 3 });
    expect(first.items.map((t) => t.id)).toEqual(['alpha', 'bravo', 'charlie']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await store.list({ limit: 3, cursor: first.nextCursor as string });
    expect(second.items.map((t) => t.id)).toEqual(['delta', 'echo', 'foxtrot']);
    const third = await store.list({ limit: 3, cursor: second.nextCursor as string });
    expect(third).toEqual({ items: [expect.objectContaining({ id: 'golf' })] });
    const exact = await store.list({ limit: 7 });
    expect(exact.items).toHaveLength(7);
    expect('nextCursor' in exact).toBe(false);
  });

  it('defaults to 50 per page', async () => {
    const store = createMemoryTenantStore({ tenants: Array.from({ length: 120 }, (_, i) => ({ id: `t${String(i).padStart(3, '0')}` })) });
    const page = await store.list();
    expect(page.items).toHaveLength(50);
    expect(await allIds(store)).toHaveLength(120);
    expect(await allIds(store, { limit: 1000 })).toEqual([...(await allIds(store))].sort());
  });

  it('filters by status and plan, hiding deleted tenants by default', async () => {
    const store = seeded();
    await store.delete('echo');
    await store.update('golf', { status: 'inactive' });
    expect(await allIds(store, { limit: 2 })).toEqual(['alpha', 'bravo', 'charlie', 'delta', 'foxtrot', 'golf']);
    expect(await allIds(store, { status: 'active', limit: 2 })).toEqual(['alpha', 'bravo', 'delta', 'foxtrot']);
    expect(await allIds(store, { status: 'deleted' })).toEqual(['echo']);
    expect(await allIds(store, { status: ['suspended', 'inactive', 'deleted'], limit: 1 })).toEqual(['charlie', 'echo', 'golf']);
    expect(await allIds(store, { status: [] })).toEqual([]);
    expect(await allIds(store, { plan: 'pro', limit: 1 })).toEqual(['bravo', 'charlie', 'delta', 'golf']);
    expect(await allIds(store, { plan: 'pro', status: 'active' })).toEqual(['bravo', 'delta']);
    expect(await allIds(store, { plan: 'free', status: ['active', 'deleted'] })).toEqual(['alpha', 'echo', 'foxtrot']);
    expect(await allIds(store, { plan: 'none' })).toEqual([]);
  });

  it('keeps cursors stable over inserts and deletes between pages', async () => {
    const store = seeded();
    const first = await store.list({ limit: 3 });
    expect(first.items.map((t) => t.id)).toEqual(['alpha', 'bravo', 'charlie']);
    await store.create({ id: 'aardvark' }); // before the cursor: not seen
    await store.create({ id: 'charlie-2' }); // after the cursor: seen
    await store.create({ id: 'zulu' });
    await store.delete('delta'); // hidden now
    const rest: string[] = [];
    let cursor = first.nextCursor;
    while (cursor !== undefined) {
      const page = await store.list({ limit: 3, cursor });
      rest.push(...page.items.map((t) => t.id));
      cursor = page.nextCursor;
    }
    expect(rest).toEqual(['charlie-2', 'echo', 'foxtrot', 'golf', 'zulu']);
  });

  it('continues after a cursor whose tenant no longer matches the filter', async () => {
    const store = seeded();
    const first = await store.list({ limit: 2, status: 'active' });
    expect(first.items.map((t) => t.id)).toEqual(['alpha', 'bravo']);
    await store.update('bravo', { status: 'suspended' });
    const second = await store.list({ limit: 2, status: 'active', cursor: first.nextCursor as string });
    expect(second.items.map((t) => t.id)).toEqual(['delta', 'echo']);
  });

  it('refuses bad queries with config_invalid', async () => {
    const store = seeded();
    expect(fieldsOf(await rejected(store.list({ limit: 0 }), 'config_invalid'))).toHaveProperty('limit');
    expect(fieldsOf(await rejected(store.list({ limit: 1001 }), 'config_invalid'))).toHaveProperty('limit');
    expect(fieldsOf(await rejected(store.list({ cursor: 'not a cursor!' }), 'config_invalid'))).toHaveProperty('cursor');
    expect(fieldsOf(await rejected(store.list({ status: 'gone' as TenantStatus }), 'config_invalid'))).toEqual({ status: 'must be a tenant status' });
    expect(fieldsOf(await rejected(store.list({ status: ['active', 'x' as TenantStatus] }), 'config_invalid'))).toHaveProperty('status');
  });
});

describe('createMemoryTenantStore: update', () => {
  it('applies a patch and bumps the version', async () => {
    const store = createMemoryTenantStore({ clock: steppingClock(), tenants: [{ id: 'acme', plan: 'free' }] });
    const updated = await store.update('acme', { plan: 'pro', name: 'Acme' });
    expect(updated).toMatchObject({ plan: 'pro', name: 'Acme', version: 2, updatedAt: '2026-01-01T00:00:02.000Z', createdAt: '2026-01-01T00:00:01.000Z' });
    expect(await store.get('acme')).toBe(updated);
  });

  it('checks the expected version (optimistic concurrency)', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'free' }] });
    expect((await store.update('acme', { plan: 'pro' }, { expectedVersion: 1 })).version).toBe(2);
    const error = await rejected(store.update('acme', { plan: 'team' }, { expectedVersion: 1 }), 'version_conflict');
    expect(error.status).toBe(409);
    expect(error.details).toEqual({ currentVersion: 2 });
    expect(await store.get('acme')).toMatchObject({ plan: 'pro', version: 2 });
  });

  it('lets exactly one of two concurrent writers with the same expected version win', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    const results = await Promise.allSettled([
      store.update('acme', { plan: 'a' }, { expectedVersion: 1 }),
      store.update('acme', { plan: 'b' }, { expectedVersion: 1 }),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((await store.get('acme'))?.version).toBe(2);
  });

  it('moves domains and frees the old ones', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', domains: ['old.example.com'] }, { id: 'globex', domains: ['globex.example.com'] }] });
    await store.update('acme', { domains: ['new.example.com'] });
    expect(await store.getByDomain('old.example.com')).toBeUndefined();
    expect((await store.getByDomain('new.example.com'))?.id).toBe('acme');
    await store.update('globex', { domains: ['globex.example.com', 'old.example.com'] });
    expect((await store.getByDomain('old.example.com'))?.id).toBe('globex');
    await store.update('acme', { domains: ['new.example.com', 'new2.example.com'] });
    expect((await store.getByDomain('new.example.com'))?.id).toBe('acme');
  });

  it('refuses a domain of another tenant, changing nothing', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }, { id: 'globex', domains: ['globex.example.com'] }] });
    await rejected(store.update('acme', { domains: ['acme2.example.com', 'globex.example.com'] }), 'domain_taken');
    expect((await store.getByDomain('acme.example.com'))?.id).toBe('acme');
    expect(await store.getByDomain('acme2.example.com')).toBeUndefined();
    expect((await store.get('acme'))?.version).toBe(1);
  });

  it('refuses unknown tenants and invalid patches', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    expect((await rejected(store.update('nobody', { plan: 'x' }), 'tenant_not_found')).status).toBe(404);
    await rejected(store.update(42 as unknown as string, {}), 'tenant_not_found');
    const error = await rejected(store.update('acme', { status: 'deleted' as 'active' }), 'config_invalid');
    expect(fieldsOf(error)).toHaveProperty('status');
    expect((await store.get('acme'))?.version).toBe(1);
  });
});

describe('createMemoryTenantStore: soft delete and restore', () => {
  it('soft-deletes, keeping the id and domains reserved', async () => {
    const store = createMemoryTenantStore({ clock: steppingClock(), tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
    const deleted = await store.delete('acme');
    expect(deleted).toMatchObject({ status: 'deleted', version: 2, deletedAt: '2026-01-01T00:00:02.000Z', updatedAt: '2026-01-01T00:00:02.000Z' });
    expect(await store.get('acme')).toBe(deleted);
    expect((await store.getByDomain('acme.example.com'))?.status).toBe('deleted');
    expect(store.size).toBe(1);
    await rejected(store.create({ id: 'acme' }), 'tenant_exists');
    await rejected(store.create({ id: 'squatter', domains: ['acme.example.com'] }), 'domain_taken');
    await rejected(store.update('acme', { plan: 'pro' }), 'tenant_deleted');
  });

  it('is idempotent, but checks the expected version first', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    await rejected(store.delete('acme', { expectedVersion: 5 }), 'version_conflict');
    const deleted = await store.delete('acme', { expectedVersion: 1 });
    expect(await store.delete('acme')).toBe(deleted);
    await rejected(store.delete('nobody'), 'tenant_not_found');
  });

  it('restores to active or to the given status', async () => {
    const store = createMemoryTenantStore({ clock: steppingClock(), tenants: [{ id: 'acme', plan: 'pro', domains: ['acme.example.com'] }, { id: 'globex' }] });
    await store.delete('acme');
    const restored = await store.restore('acme', { expectedVersion: 2 });
    expect(restored).toMatchObject({ status: 'active', plan: 'pro', version: 3, domains: ['acme.example.com'] });
    expect('deletedAt' in restored).toBe(false);
    expect(await store.restore('acme')).toBe(restored);
    await store.delete('globex');
    expect((await store.restore('globex', { status: 'suspended' })).status).toBe('suspended');
  });

  it('refuses a bad restore', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }] });
    await store.delete('acme');
    await rejected(store.restore('acme', { expectedVersion: 1 }), 'version_conflict');
    await rejected(store.restore('acme', { status: 'deleted' as 'active' }), 'config_invalid');
    expect((await store.get('acme'))?.status).toBe('deleted');
    await rejected(store.restore('nobody'), 'tenant_not_found');
  });
});

describe('createMemoryTenantStore: change feed', () => {
  it('emits created, updated, deleted and restored with the previous state', async () => {
    const store = createMemoryTenantStore();
    const { events } = feed(store);
    const created = await store.create({ id: 'acme' });
    const updated = await store.update('acme', { plan: 'pro' });
    const deleted = await store.delete('acme');
    const restored = await store.restore('acme');
    expect(events).toEqual([
      { type: 'created', id: 'acme', tenant: created },
      { type: 'updated', id: 'acme', tenant: updated, previous: created },
      { type: 'deleted', id: 'acme', tenant: deleted, previous: updated },
      { type: 'restored', id: 'acme', tenant: restored, previous: deleted },
    ]);
    expect('previous' in (events[0] as TenantChangeEvent)).toBe(false);
  });

  it('emits nothing for failed writes and no-op deletes or restores', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', domains: ['acme.example.com'] }] });
    const { events } = feed(store);
    await rejected(store.create({ id: 'acme' }), 'tenant_exists');
    await rejected(store.create({ id: 'b', domains: ['acme.example.com'] }), 'domain_taken');
    await rejected(store.update('acme', { plan: '' }), 'config_invalid');
    await rejected(store.update('acme', {}, { expectedVersion: 9 }), 'version_conflict');
    await store.restore('acme');
    expect(events).toEqual([]);
    await store.delete('acme');
    await store.delete('acme');
    expect(events.map((e) => e.type)).toEqual(['deleted']);
  });

  it('stops after unsubscribe; unsubscribing twice is harmless', async () => {
    const store = createMemoryTenantStore();
    const a = feed(store);
    const b = feed(store);
    await store.create({ id: 'one' });
    a.unsubscribe();
    a.unsubscribe();
    await store.create({ id: 'two' });
    expect(a.events.map((e) => e.id)).toEqual(['one']);
    expect(b.events.map((e) => e.id)).toEqual(['one', 'two']);
  });

  it('delivers to the same listener subscribed twice until each subscription ends', async () => {
    const store = createMemoryTenantStore();
    const seen: string[] = [];
    const listener = (event: TenantChangeEvent) => seen.push(event.id);
    const first = store.subscribe(listener);
    store.subscribe(listener);
    await store.create({ id: 'one' });
    first();
    await store.create({ id: 'two' });
    expect(seen).toEqual(['one', 'one', 'two']);
  });

  it('does not let a throwing subscriber break writes or other subscribers', async () => {
    const store = createMemoryTenantStore();
    store.subscribe(() => {
      throw new Error('listener bug');
    });
    const { events } = feed(store);
    const created = await store.create({ id: 'acme' });
    expect(created.id).toBe('acme');
    expect(await store.update('acme', { plan: 'pro' })).toMatchObject({ version: 2 });
    expect(events.map((e) => e.type)).toEqual(['created', 'updated']);
  });

  it('does not deliver the current event to a listener subscribed while it is emitted', async () => {
    const store = createMemoryTenantStore();
    const late: string[] = [];
    store.subscribe(() => {
      store.subscribe((event) => late.push(event.id));
    });
    await store.create({ id: 'one' });
    expect(late).toEqual([]);
    await store.create({ id: 'two' });
    expect(late).toEqual(['two']);
  });
});

describe('createMemoryTenantStore: isolation of stored state', () => {
  it('returns frozen configs that cannot change what the store holds', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme', plan: 'free', policy: { models: ['a'] }, domains: ['acme.example.com'], metadata: { n: 1 } }] });
    const acme = (await store.get('acme')) as TenantConfig;
    const writable = acme as unknown as { plan: string; policy: { models: string[] }; domains: string[]; metadata: Record<string, unknown>; quota: Record<string, unknown> };
    expect(() => {
      writable.plan = 'pro';
    }).toThrow(TypeError);
    expect(() => writable.policy.models.push('b')).toThrow(TypeError);
    expect(() => writable.domains.push('evil.example.com')).toThrow(TypeError);
    expect(() => {
      writable.metadata['n'] = 2;
    }).toThrow(TypeError);
    expect(() => {
      writable.quota['requests'] = { limit: 0, windowMs: 1 };
    }).toThrow(TypeError);
    expect(await store.get('acme')).toMatchObject({ plan: 'free', policy: { models: ['a'] }, domains: ['acme.example.com'], metadata: { n: 1 }, quota: {} });
    expect(await store.getByDomain('evil.example.com')).toBeUndefined();
  });

  it('returns fresh page arrays', async () => {
    const store = createMemoryTenantStore({ tenants: [{ id: 'acme' }, { id: 'globex' }] });
    const page = await store.list();
    (page.items as TenantConfig[]).length = 0;
    expect((await store.list()).items).toHaveLength(2);
  });

  it('does not keep references to the caller\'s input', async () => {
    const input = { id: 'acme', domains: ['acme.example.com'], metadata: { n: 1 } };
    const store = createMemoryTenantStore();
    await store.create(input);
    input.domains.push('evil.example.com');
    input.metadata.n = 2;
    expect(await store.get('acme')).toMatchObject({ domains: ['acme.example.com'], metadata: { n: 1 } });
    expect(await store.getByDomain('evil.example.com')).toBeUndefined();
  });

  it('gives every event listener frozen snapshots', async () => {
    const store = createMemoryTenantStore();
    const { events } = feed(store);
    await store.create({ id: 'acme' });
    await store.update('acme', { plan: 'pro' });
    for (const event of events) {
      expect(Object.isFrozen(event.tenant)).toBe(true);
      if (event.previous) expect(Object.isFrozen(event.previous)).toBe(true);
    }
  });
});
