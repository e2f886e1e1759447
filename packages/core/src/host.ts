const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
const PRINTABLE_ASCII = /^[\x20-\x7e]+$/;

/**
 * Normalizes a Host header value or domain name to a lower-case host name
 * without port or trailing dot. Returns `undefined` for anything that is not
 * a plain DNS name (IP literals, user-info, paths, empty labels, over 253
 * characters), so that hostile values never reach a store lookup.
 *
 * @example
 * ```ts
 * import { normalizeHost } from '@tenant/core';
 *
 * normalizeHost('Acme.Example.COM:8080'); // 'acme.example.com'
 * normalizeHost('evil.com/@acme');       // undefined
 * ```
 */
export function normalizeHost(raw: string | undefined): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 260) return undefined;
  // ASCII only, checked before lower-casing: `toLowerCase` maps some non-ASCII
  // look-alikes to ASCII (the Kelvin sign U+212A becomes `k`).
  if (!PRINTABLE_ASCII.test(raw)) return undefined;
  let host = raw.trim().toLowerCase();
  if (host.startsWith('[')) return undefined; // IPv6 literal
  const colon = host.indexOf(':');
  if (colon !== -1) {
    const port = host.slice(colon + 1);
    if (!/^[0-9]{1,5}$/.test(port)) return undefined;
    host = host.slice(0, colon);
  }
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host.length === 0 || host.length > 253) return undefined;
  const labels = host.split('.');
  for (const label of labels) if (!HOST_LABEL.test(label)) return undefined;
  // A name whose last label is numeric is an IPv4 address to URL parsers
  // (`127.1`, `10.0.0.1`), not a DNS name.
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) return undefined;
  return host;
}
