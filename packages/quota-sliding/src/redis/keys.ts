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


const UTF8 = new TextEncoder();

// CRC16/XMODEM, the checksum Redis Cluster hashes keys with.
const CRC16 = new Uint16Array(256);
for (let i = 0; i < 256; i++) {
  let crc = i << 8;
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  CRC16[i] = crc;
}

/**
 * The Redis Cluster slot of a key, by Redis's own rule: the CRC16 of the
 * hash tag (the text between the first `{` and the next `}`, when not
 * empty) or of the whole key, modulo 16384.
 */
export function keySlot(key: string): number {
  const bytes = UTF8.encode(key);
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b);
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1);
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ bytes[i]!) & 0xff]!;
  return crc % 16384;
}
