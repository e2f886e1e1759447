// Key layout shared by the tenant-scoped cache and the layered store.
//
// Every variable part (tenant id, user key, host name) is escaped to ASCII:
// characters outside [A-Za-z0-9_.-] become `%` + four hex digits of their
// UTF-16 code unit. The encoding is injective (fixed width, `%` itself is
// escaped) and never produces `:`, `{` or `}`, so the separators and Redis
// Cluster hash tags around an escaped part can not be forged by its content.
// Escaping per code unit also keeps lone surrogates apart: a raw lone
// surrogate would become U+FFFD on its way to Redis and collide.

const SAFE = /^[A-Za-z0-9_.-]*$/;
const HEX = '0123456789abcdef';

const isSafe = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;

/** Escapes one key part (see the comment at the top of this file). */
export function escapeKeyPart(part: string): string {
  if (SAFE.test(part)) return part;
  // A plain loop: several times faster than replace() with a callback, on the hot path of every cache call.
  let out = '';
  let from = 0;
  for (let i = 0; i < part.length; i += 1) {
    const c = part.charCodeAt(i);
    if (isSafe(c)) continue;
    out += `${part.slice(from, i)}%${HEX[c >> 12]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    from = i + 1;
  }
  return out + part.slice(from);
}

/** Throws a TypeError unless `prefix` is a string. */
export function checkPrefix(prefix: unknown, pkgFn: string): string {
  if (typeof prefix !== 'string') throw new TypeError(`[@tenant/cache] ${pkgFn}: prefix must be a string`);
  return prefix;
}

/** Throws a TypeError unless `key` is a string. */
export function checkKey(key: unknown): string {
  if (typeof key !== 'string') throw new TypeError('[@tenant/cache] A cache key must be a string');
  return key;
}

/** Throws a RangeError unless `ms` is undefined or a positive finite number. */
export function checkTtl(ms: unknown, name: string): number | undefined {
  if (ms === undefined) return undefined;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms <= 0) {
    throw new RangeError(`[@tenant/cache] ${name} must be a positive number of milliseconds`);
  }
  return Math.ceil(ms);
}

/** Throws a RangeError unless `n` is a positive integer (or undefined). */
export function checkPositiveInt(n: unknown, name: string): number | undefined {
  if (n === undefined) return undefined;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0) {
    throw new RangeError(`[@tenant/cache] ${name} must be a positive integer`);
  }
  return n;
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

/**
 * The Redis node that serves a key: `host:port` of the slot's master as an
 * ioredis `Cluster` last mapped it (`slot:<n>` before it knows), or `''` for
 * a single Redis (one node).
 */
export function nodeOfKey(client: object, key: string): string {
  const { slots, options } = client as { slots?: unknown; options?: { keyPrefix?: unknown } };
  if (!Array.isArray(slots)) return '';
  // The client puts its keyPrefix before every key: Redis hashes the whole key.
  const slot = keySlot(typeof options?.keyPrefix === 'string' ? options.keyPrefix + key : key);
  const owner = (slots[slot] as unknown[] | undefined)?.[0];
  return typeof owner === 'string' ? owner : `slot:${slot}`;
}
