import {
  TENANT_STATUSES,
  TenantError,
  type TenantChangeEvent,
  type TenantChangeListener,
  type TenantConfig,
  type TenantInput,
  type TenantListQuery,
  type TenantPage,
  type TenantPatch,
  type TenantStatus,
  type TenantStore,
  type Unsubscribe,
  type WriteOptions,
} from '@tenant/interfaces';
import { systemClock, type Clock } from './clock.js';
import { applyTenantPatch, createTenantConfig, deepFreeze } from './config.js';
import { normalizeHost } from './host.js';
import { validateTenantId, type TenantIdValidator } from './id.js';
import { decodeCursor, encodeCursor, pageLimit } from './paging.js';

/** Options of {@link createMemoryTenantStore}. */
export interface MemoryTenantStoreOptions {
  /** Tenants to create at once, in order. */
  readonly tenants?: readonly TenantInput[];
  /** The tenant id check. @default validateTenantId (the default format) */
  readonly validateId?: TenantIdValidator;
  /** The clock for timestamps. @default systemClock */
  readonly clock?: Clock;
}

/**
 * A {@link TenantStore} kept in this process's memory: for tests, examples,
 * and services whose tenants are fixed at start-up. Every write is atomic and
 * every returned config is a frozen snapshot.
 */
export interface MemoryTenantStore extends TenantStore {
  /** How many tenants the store holds, soft-deleted ones included. */
  readonly size: number;
  /** The tenant with this id, synchronously (what `get` resolves to); `undefined` if none. */
  peek(id: string): TenantConfig | undefined;
}

/**
 * Creates an in-memory tenant store.
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore } from '@tenant/core';
 *
 * const store = createMemoryTenantStore({
 *   tenants: [{ id: 'acme', plan: 'pro', domains: ['acme.example.com'] }],
 * });
 * const acme = await store.get('acme');
 * const page = await store.list({ status: 'active', limit: 10 });
 * ```
 */
export function createMemoryTenantStore(options: MemoryTenantStoreOptions = {}): MemoryTenantStore {
  const validateId = options.validateId ?? validateTenantId;
  const clock = options.clock ?? systemClock;
  const tenants = new Map<string, TenantConfig>();
  const sortedIds: string[] = [];
  const domainOwners = new Map<string, string>();
  const listeners = new Set<TenantChangeListener>();

  const now = () => new Date(clock.now());

  const indexOf = (id: string): number => {
    let lo = 0;
    let hi = sortedIds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sortedIds[mid] as string) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const emit = (event: TenantChangeEvent) => {
    // A snapshot: a listener subscribed while this event is delivered gets the
    // next events, not this one (as with EventEmitter).
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch {
        // A listener must not break writes or other listeners.
      }
    }
  };

  const existing = (id: string): TenantConfig => {
    const tenant = typeof id === 'string' ? tenants.get(id) : undefined;
    if (!tenant) throw new TenantError('tenant_not_found', `[@tenant/core] No tenant with this id`, { tenantId: String(id) });
    return tenant;
  };

  const checkVersion = (tenant: TenantConfig, options: WriteOptions | undefined) => {
    const expected = options?.expectedVersion;
    if (expected !== undefined && expected !== tenant.version) {
      throw new TenantError(
        'version_conflict',
        `[@tenant/core] Tenant ${tenant.id} is at version ${tenant.version}, not ${String(expected)}`,
        { tenantId: tenant.id, details: { currentVersion: tenant.version } },
      );
    }
  };

  const claimDomains = (tenant: TenantConfig, previous: TenantConfig | undefined) => {
    for (const domain of tenant.domains) {
      const owner = domainOwners.get(domain);
      if (owner !== undefined && owner !== tenant.id) {
        throw new TenantError('domain_taken', `[@tenant/core] Domain ${domain} belongs to another tenant`, {
          tenantId: tenant.id,
          details: { domain },
        });
      }
    }
    for (const domain of previous?.domains ?? []) domainOwners.delete(domain);
    for (const domain of tenant.domains) domainOwners.set(domain, tenant.id);
  };

  const replace = (type: TenantChangeEvent['type'], next: TenantConfig, previous: TenantConfig): TenantConfig => {
    claimDomains(next, previous);
    tenants.set(next.id, next);
    emit({ type, id: next.id, tenant: next, previous });
    return next;
  };

  const createSync = (input: TenantInput): TenantConfig => {
    const tenant = createTenantConfig(input, { now: now(), validateId });
    if (tenants.has(tenant.id)) {
      throw new TenantError('tenant_exists', `[@tenant/core] A tenant with id ${tenant.id} already exists`, { tenantId: tenant.id });
    }
    claimDomains(tenant, undefined);
    tenants.set(tenant.id, tenant);
    sortedIds.splice(indexOf(tenant.id), 0, tenant.id);
    emit({ type: 'created', id: tenant.id, tenant });
    return tenant;
  };

  for (const input of options.tenants ?? []) createSync(input);

  const store: MemoryTenantStore = {
    get size() {
      return tenants.size;
    },
    get(id) {
      return Promise.resolve(typeof id === 'string' ? tenants.get(id) : undefined);
    },
    peek(id) {
      return typeof id === 'string' ? tenants.get(id) : undefined;
    },
    getByDomain(domain) {
      const host = normalizeHost(domain);
      const owner = host === undefined ? undefined : domainOwners.get(host);
      return Promise.resolve(owner === undefined ? undefined : tenants.get(owner));
    },
    async list(query: TenantListQuery = {}): Promise<TenantPage> {
      const limit = pageLimit(query.limit);
      const statuses = statusFilter(query.status);
      const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor, validateId);
      const items: TenantConfig[] = [];
      let i = after === undefined ? 0 : indexOf(after);
      if (after !== undefined && sortedIds[i] === after) i += 1;
      let nextCursor: string | undefined;
      for (; i < sortedIds.length; i += 1) {
        const tenant = tenants.get(sortedIds[i] as string) as TenantConfig;
        if (!statuses.has(tenant.status)) continue;
        if (query.plan !== undefined && tenant.plan !== query.plan) continue;
        if (items.length === limit) {
          nextCursor = encodeCursor((items[items.length - 1] as TenantConfig).id);
          break;
        }
        items.push(tenant);
      }
      return nextCursor === undefined ? { items } : { items, nextCursor };
    },
    async create(input) {
      return createSync(input);
    },
    async update(id: string, patch: TenantPatch, options?: WriteOptions) {
      const current = existing(id);
      checkVersion(current, options);
      if (current.status === 'deleted') {
        throw new TenantError('tenant_deleted', `[@tenant/core] Tenant ${id} is deleted: restore it before changing it`, { tenantId: id });
      }
      return replace('updated', applyTenantPatch(current, patch, { now: now() }), current);
    },
    async delete(id, options) {
      const current = existing(id);
      checkVersion(current, options);
      if (current.status === 'deleted') return current;
      const at = now().toISOString();
      return replace('deleted', deepFreeze({ ...current, status: 'deleted', deletedAt: at, updatedAt: at, version: current.version + 1 }), current);
    },
    async restore(id, options = {}) {
      const current = existing(id);
      checkVersion(current, options);
      if (current.status !== 'deleted') return current;
      const { deletedAt: _deletedAt, ...rest } = current;
      const status = options.status ?? 'active';
      // Validate the status the same way a patch would.
      const next = applyTenantPatch({ ...rest, status: 'active' }, { status }, { now: now() });
      return replace('restored', next, current);
    },
    subscribe(listener): Unsubscribe {
      const entry: TenantChangeListener = (event) => listener(event);
      listeners.add(entry);
      return () => {
        listeners.delete(entry);
      };
    },
  };
  return store;
}

function statusFilter(status: TenantListQuery['status']): ReadonlySet<TenantStatus> {
  if (status === undefined) return new Set(TENANT_STATUSES.filter((s) => s !== 'deleted'));
  const list = typeof status === 'string' ? [status] : status;
  for (const s of list) {
    if (!TENANT_STATUSES.includes(s)) {
      throw new TenantError('config_invalid', `[@tenant/core] Unknown tenant status filter`, { details: { fields: { status: 'must be a tenant status' } } });
    }
  }
  return new Set(list);
}
