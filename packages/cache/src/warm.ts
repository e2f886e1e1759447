import { TENANT_STATUSES, type TenantConfig, type TenantStore } from '@tenant/core';
import type { WarmOptions } from './types.js';

/**
 * Lists the tenants a warm-up asks for, page by page, and hands each page to
 * `take`, unless `changes()` moved while it was read (an invalidation came:
 * the page may hold an old config, left to be loaded on demand). Resolves to
 * how many tenants were taken.
 */
export async function warmPages(
  list: TenantStore['list'],
  options: WarmOptions,
  changes: () => number,
  take: (tenants: readonly TenantConfig[]) => Promise<void> | void,
): Promise<number> {
  const which = options.tenants ?? 'active';
  if (which !== 'active' && which !== 'all') throw new RangeError("[@tenant/cache] warm: tenants must be 'active' or 'all'");
  const status = which === 'active' ? 'active' : TENANT_STATUSES;
  let count = 0;
  let cursor: string | undefined;
  do {
    const seen = changes();
    const page = await list({ status, limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
    if (seen === changes()) {
      await take(page.items);
      count += page.items.length;
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return count;
}
