import { Buffer } from 'node:buffer';
import process from 'node:process';

// The runtime pieces core needs beyond the language, each from a `node:`
// module that Node, Bun, Deno and workerd (with `nodejs_compat`) all provide,
// and never from a global that one of them lacks (Deno has no global `Buffer`).

/** The UTF-8 length of a string, in bytes. */
export function byteLength(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** A string as base64url (UTF-8). */
export function toBase64Url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** A base64url string decoded as UTF-8. */
export function fromBase64Url(text: string): string {
  return Buffer.from(text, 'base64url').toString('utf8');
}

/**
 * Reports a problem that must not break a request: `process.emitWarning`
 * where the runtime has it, `console.warn` otherwise.
 */
export function emitTenantWarning(message: string): void {
  if (typeof process.emitWarning === 'function') process.emitWarning(message, 'TenantWarning');
  else console.warn(`TenantWarning: ${message}`);
}
