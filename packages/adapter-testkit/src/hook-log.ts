import type { QuotaTicket, TenantHooks, TenantRequest } from '@tenant/core';

/** The hooks that the log counts per request. */
export type CountedHook = 'onResolve' | 'onPolicy' | 'onQuota' | 'onSettle' | 'onReject';

/** How many times each hook fired for one request. */
export type HookCounts = { readonly [H in CountedHook]: number };

/** What the hooks saw of one request. */
export interface RequestHookRecord {
  readonly counts: HookCounts;
  /** The resolver that found the tenant (from `onResolve`), if any. */
  readonly source: string | undefined;
  /** The tenant id `onResolve` reported, if any. */
  readonly tenantId: string | undefined;
  /** The code `onReject` reported, if any. */
  readonly rejectCode: string | undefined;
}

/**
 * Hooks that count their calls per request, keyed by a request header
 * (`x-request-id` by default); `onSettle`, whose event carries no request,
 * is matched to its request through the quota ticket that `onQuota` saw.
 */
export interface HookLog {
  /** Give these to the pipeline (`hooks`). */
  readonly hooks: TenantHooks;
  /** What the hooks saw of the request with this id (all zero when nothing). */
  record(requestId: string): RequestHookRecord;
  /** Hook calls whose request carried no id, and `onError` calls: should stay empty. */
  readonly unmatched: readonly string[];
}

const ZERO: HookCounts = Object.freeze({ onResolve: 0, onPolicy: 0, onQuota: 0, onSettle: 0, onReject: 0 });

interface MutableRecord {
  counts: { [H in CountedHook]: number };
  source: string | undefined;
  tenantId: string | undefined;
  rejectCode: string | undefined;
}

/**
 * Creates a {@link HookLog}.
 *
 * @param header - The request header that carries the request id. @default 'x-request-id'
 *
 * @example
 * ```ts
 * import { createHookLog } from '@tenant/adapter-testkit';
 *
 * const log = createHookLog();
 * const tenancy = createTenancy({ store, hooks: log.hooks });
 * // ...send a request with `x-request-id: r1`...
 * log.record('r1').counts.onResolve; // 1
 * ```
 */
export function createHookLog(header = 'x-request-id'): HookLog {
  const records = new Map<string, MutableRecord>();
  const tickets = new WeakMap<QuotaTicket, string>();
  const unmatched: string[] = [];

  const entry = (hook: CountedHook, request: TenantRequest | undefined): MutableRecord | undefined => {
    const id = request?.header(header);
    if (id === undefined) {
      unmatched.push(hook);
      return undefined;
    }
    let record = records.get(id);
    if (record === undefined) records.set(id, (record = { counts: { ...ZERO }, source: undefined, tenantId: undefined, rejectCode: undefined }));
    record.counts[hook] += 1;
    return record;
  };

  const hooks: TenantHooks = {
    onResolve(event) {
      const record = entry('onResolve', event.request);
      if (record !== undefined) {
        record.source = event.source;
        record.tenantId = event.tenant.id;
      }
    },
    onPolicy(event) {
      entry('onPolicy', event.request);
    },
    onQuota(event) {
      entry('onQuota', event.request);
      const id = event.request?.header(header);
      if (event.result.ticket !== undefined && id !== undefined) tickets.set(event.result.ticket, id);
    },
    onSettle(event) {
      const id = tickets.get(event.ticket);
      if (id === undefined) {
        unmatched.push('onSettle');
        return;
      }
      const record = records.get(id);
      if (record !== undefined) record.counts.onSettle += 1;
    },
    onReject(event) {
      const record = entry('onReject', event.request);
      if (record !== undefined) record.rejectCode = event.rejection.code;
    },
    onError(event) {
      unmatched.push(`onError(${event.phase}${event.hook === undefined ? '' : `:${event.hook}`})`);
    },
  };

  return {
    hooks,
    unmatched,
    record(requestId) {
      const record = records.get(requestId);
      if (record === undefined) return { counts: ZERO, source: undefined, tenantId: undefined, rejectCode: undefined };
      return { counts: { ...record.counts }, source: record.source, tenantId: record.tenantId, rejectCode: record.rejectCode };
    },
  };
}
