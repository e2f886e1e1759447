import { TenantError } from '@tenant/interfaces';
import type { TenantIdValidator } from './id.js';
import { fromBase64Url, toBase64Url } from './runtime.js';

/** The default and largest page sizes of `TenantStore.list`. */
export const PAGE_LIMITS = Object.freeze({ default: 50, max: 1000 });

/** Checks a page size, applying the default. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return PAGE_LIMITS.default;
  if (!Number.isInteger(limit) || limit < 1 || limit > PAGE_LIMITS.max) {
    throw new TenantError('config_invalid', `[@tenant/core] Page limit must be an integer from 1 to ${PAGE_LIMITS.max}`, {
      details: { fields: { limit: `must be an integer from 1 to ${PAGE_LIMITS.max}` } },
    });
  }
  return limit;
}

/** Encodes the last id of a page as an opaque cursor. */
export function encodeCursor(lastId: string): string {
  return toBase64Url(lastId);
}

/** Decodes a cursor made by {@link encodeCursor}, refusing anything else. */
export function decodeCursor(cursor: string, validateId: TenantIdValidator): string {
  try {
    if (typeof cursor !== 'string' || cursor.length > 400 || !/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('malformed');
    return validateId(fromBase64Url(cursor));
  } catch (cause) {
    throw new TenantError('config_invalid', '[@tenant/core] Invalid page cursor', { cause, details: { fields: { cursor: 'is not a cursor from a previous page' } } });
  }
}
