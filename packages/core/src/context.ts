import { AsyncLocalStorage } from 'node:async_hooks';
import { TenantError, type TenantConfig, type TenantStore } from '@tenant/interfaces';
import { validateTenantId, type TenantIdValidator } from './id.js';

/** What the tenant context holds. */
export interface TenantContext {
  /** The current tenant, or `undefined` inside {@link runWithoutTenant}. */
  readonly tenant: TenantConfig | undefined;
}

// One storage per process, shared by every copy of this package (ESM and CJS
// builds, or two installed versions with the same major): two storages would
// make `currentTenant()` in one copy blind to `runWithTenant()` in the other.
const STORAGE_KEY = Symbol.for('@tenant/core.context.v1');
type Registry = { [STORAGE_KEY]?: AsyncLocalStorage<TenantContext> };
const registry = globalThis as Registry;
const storage: AsyncLocalStorage<TenantContext> = (registry[STORAGE_KEY] ??= new AsyncLocalStorage<TenantContext>());

/**
 * Runs `fn` with `tenant` as the current tenant, for `fn` and everything it
 * starts (awaits, timers, callbacks, streams). Returns what `fn` returns.
 *
 * @example
 * ```ts
 * import { runWithTenant, requireTenant } from '@tenant/core';
 *
 * await runWithTenant(acme, async () => {
 *   await somethingAsync();
 *   requireTenant().id; // 'acme'
 * });
 * ```
 */
export function runWithTenant<R>(tenant: TenantConfig, fn: () => R): R {
  if (typeof tenant !== 'object' || tenant === null || typeof tenant.id !== 'string') {
    throw new TypeError('[@tenant/core] runWithTenant needs a tenant config');
  }
  return storage.run({ tenant }, fn);
}

/**
 * Runs `fn` explicitly outside any tenant (for example landlord work inside a
 * tenant request): `currentTenant()` is `undefined` there.
 */
export function runWithoutTenant<R>(fn: () => R): R {
  return storage.run({ tenant: undefined }, fn);
}

/** The current tenant, or `undefined` outside a tenant context. */
export function currentTenant(): TenantConfig | undefined {
  return storage.getStore()?.tenant;
}

/** The current tenant's id, or `undefined` outside a tenant context. */
export function currentTenantId(): string | undefined {
  return storage.getStore()?.tenant?.id;
}

/**
 * The current tenant; throws a `tenant_context_missing` TenantError outside a
 * tenant context, so that tenant-scoped code fails closed.
 */
export function requireTenant(): TenantConfig {
  const tenant = storage.getStore()?.tenant;
  if (tenant === undefined) {
    throw new TenantError(
      'tenant_context_missing',
      '[@tenant/core] No tenant in context: this code must run inside runWithTenant() or a request admitted by the tenancy middleware',
    );
  }
  return tenant;
}

/**
 * Binds `fn` to the current tenant context, for callbacks that an emitter or
 * pool may call from elsewhere. Outside a context, `fn` is bound to "no
 * tenant", never to whatever context the caller has.
 */
export function bindTenant<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  const context: TenantContext = storage.getStore() ?? { tenant: undefined };
  return (...args: A) => storage.run(context, () => fn(...args));
}

/** A JSON-serializable reference to a tenant, to carry into deferred work. */
export interface TenantSnapshot {
  /** Format version. */
  readonly v: 1;
  readonly tenantId: string;
}

/**
 * Captures the current tenant as plain data to put into job metadata or a
 * message; restore it in the worker with {@link runWithSnapshot}. Only the
 * id travels: the worker loads the config fresh, so a tenant suspended in
 * between is not served.
 *
 * @throws TenantError `tenant_context_missing` outside a tenant context.
 *
 * @example
 * ```ts
 * import { captureTenant, runWithSnapshot } from '@tenant/core';
 *
 * // in the request
 * await queue.add('send-invoice', { invoiceId, tenant: captureTenant() });
 *
 * // in the worker
 * worker.process(async (job) => runWithSnapshot(job.data.tenant, { store }, () => sendInvoice(job.data.invoiceId)));
 * ```
 */
export function captureTenant(): TenantSnapshot {
  return { v: 1, tenantId: requireTenant().id };
}

/** Options of {@link runWithSnapshot}. */
export interface RunWithSnapshotOptions {
  /** Where to load the tenant from. */
  readonly store: Pick<TenantStore, 'get'>;
  /** The tenant id check; the snapshot is untrusted input. @default validateTenantId */
  readonly validateId?: TenantIdValidator;
  /** Run even when the tenant is no longer active. @default false */
  readonly allowInactive?: boolean;
}

/**
 * Restores a tenant captured by {@link captureTenant} and runs `fn` in its
 * context. The snapshot is validated and the tenant loaded from the store;
 * an unknown tenant throws `tenant_not_found`, and a tenant that is not
 * active throws its status error unless `allowInactive` is set.
 */
export async function runWithSnapshot<R>(snapshot: unknown, options: RunWithSnapshotOptions, fn: () => R | Promise<R>): Promise<R> {
  const raw = snapshot as Partial<TenantSnapshot> | null;
  if (typeof raw !== 'object' || raw === null || raw.v !== 1) {
    throw new TenantError('tenant_invalid', '[@tenant/core] Not a tenant snapshot (expected { v: 1, tenantId })');
  }
  const id = (options.validateId ?? validateTenantId)(raw.tenantId);
  const tenant = checkStoreAnswer(id, await options.store.get(id));
  if (tenant === undefined) throw new TenantError('tenant_not_found', '[@tenant/core] The tenant of this snapshot does not exist', { tenantId: id });
  if (tenant.status !== 'active' && options.allowInactive !== true) throw statusError(tenant);
  return runWithTenant(tenant, fn);
}

/**
 * The tenant a store answered for `id`, when it is that tenant. A store that
 * answers another one (a custom store or a cache that mixes keys, a table
 * with a case-insensitive collation under a validator that lets case
 * variants through) would put the request in the wrong tenant's context:
 * that is refused, as `isolation_violation` (500), never served.
 */
export function checkStoreAnswer(id: string, tenant: TenantConfig | undefined): TenantConfig | undefined {
  if (tenant === undefined || (typeof tenant === 'object' && tenant !== null && tenant.id === id)) return tenant;
  throw new TenantError('isolation_violation', '[@tenant/core] The tenant store answered another tenant than the one asked for', { tenantId: id });
}

/** The error for a tenant whose status does not let it be served. */
export function statusError(tenant: TenantConfig): TenantError {
  const tenantId = tenant.id;
  switch (tenant.status) {
    case 'deleted':
      return new TenantError('tenant_deleted', '[@tenant/core] This tenant was deleted', { tenantId });
    case 'suspended':
      return new TenantError('tenant_suspended', '[@tenant/core] This tenant is suspended', { tenantId });
    default:
      return new TenantError('tenant_inactive', '[@tenant/core] This tenant is not active', { tenantId });
  }
}
