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
const UNSAFE = /[^A-Za-z0-9_.-]/g;

const escapeUnit = (unit: string): string => `%${unit.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Escapes one key part (see the comment at the top of this file). */
export function escapeKeyPart(part: string): string {
  return SAFE.test(part) ? part : part.replace(UNSAFE, escapeUnit);
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
