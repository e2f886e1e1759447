import type { QuotaDimension, TenantQuota } from '@tenant/core';

const BRACES = /[{}%]/g;
const escapeBrace = (c: string) => (c === '{' ? '%7B' : c === '}' ? '%7D' : '%25');

/**
 * The key stem of one tenant: `<prefix>{<tenant id>}`. Everything a script
 * touches for a tenant shares this hash tag, so it lives in one Cluster slot
 * (no CROSSSLOT). Braces in an id are escaped, so no id can end the tag early
 * or alias another tenant.
 */
export function tenantStem(prefix: string, tenantId: string): string {
  const tag = tenantId.includes('{') || tenantId.includes('}') || tenantId.includes('%') ? tenantId.replace(BRACES, escapeBrace) : tenantId;
  return `${prefix}{${tag}}`;
}

/** The sorted set of one dimension's sliding log, per window length. */
export function logKey(stem: string, dimension: QuotaDimension, limits: TenantQuota): string {
  const limit = limits[dimension];
  return `${stem}:${dimension === 'requests' ? 'r' : 't'}:${limit === undefined ? '-' : limit.windowMs}`;
}

