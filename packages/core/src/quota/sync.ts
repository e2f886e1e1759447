import type { QuotaCost, QuotaManager, QuotaResult, QuotaTicket, TenantQuota } from '@tenant/interfaces';

/**
 * The promise-returning `consume` and `settle` of a quota manager whose work
 * is synchronous (an in-process quota): each calls the synchronous one and
 * turns a throw into a rejection, so callers of the `QuotaManager` contract
 * never see a synchronous throw. Spread it beside `consumeSync`.
 *
 * @example
 * ```ts
 * import { promisedQuotaMethods, type QuotaManager } from '@tenant/core';
 *
 * const consumeSync: NonNullable<QuotaManager['consumeSync']> = (tenantId, cost, limits) => ({ allowed: true, retryAfterMs: 0 });
 * const settleSync = () => {};
 * const quota: QuotaManager = { consumeSync, ...promisedQuotaMethods(consumeSync, settleSync) };
 * ```
 */
export function promisedQuotaMethods(
  consumeSync: (tenantId: string, cost: QuotaCost, limits: TenantQuota) => QuotaResult,
  settleSync: (ticket: QuotaTicket, actual: QuotaCost) => void,
): Pick<QuotaManager, 'consume' | 'settle'> {
  return {
    consume(tenantId, cost, limits) {
      try {
        return Promise.resolve(consumeSync(tenantId, cost, limits));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
    settle(ticket, actual) {
      try {
        settleSync(ticket, actual);
        return Promise.resolve();
      } catch (error) {
        return Promise.reject(error as Error);
      }
    },
  };
}
