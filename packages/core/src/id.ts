import { TenantError } from '@tenant/interfaces';

/** How tenant ids are checked. */
export interface TenantIdFormat {
  /**
   * The pattern a whole id must match.
   * @default /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/
   */
  readonly pattern?: RegExp;
  /**
   * The longest id accepted, in characters (at most 255).
   * @default 64
   */
  readonly maxLength?: number;
  /** A description of the format for error messages. @default derived from the pattern */
  readonly description?: string;
}

/**
 * The default format: lower-case ASCII letters and digits, with `-` and `_`
 * inside, 1 to 64 characters. Lower-case only, because several databases
 * compare strings case-insensitively by default (MySQL, MariaDB), where
 * `Acme` and `acme` would otherwise name two tenants that share rows.
 */
export const DEFAULT_TENANT_ID_PATTERN = /^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?$/;

const DEFAULT_DESCRIPTION =
  'lower-case letters a-z, digits and inner "-" or "_", starting and ending with a letter or digit';
const ABSOLUTE_MAX_LENGTH = 255;
// C0 and C1 controls, DEL, and Unicode whitespace, line and format characters
// that make ids look alike or break logs; and unpaired surrogates, which UTF-8
// encoders replace with U+FFFD, so that two different ids would become one
// key in a database.
// eslint-disable-next-line no-control-regex
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\s\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff\p{Cs}]/u;

/** Checks tenant ids: returns the id when valid, throws a `tenant_invalid` TenantError otherwise. */
export type TenantIdValidator = (id: unknown) => string;

/**
 * Builds a tenant id validator. Whatever the pattern, an id is always refused
 * when it is not a string, is empty, is longer than `maxLength`, or holds a
 * control, whitespace or invisible formatting character, or an unpaired
 * surrogate. Error messages never
 * echo the refused value, which may be hostile.
 *
 * @example
 * ```ts
 * import { createTenantIdValidator } from '@tenant/core';
 *
 * const validateId = createTenantIdValidator({ pattern: /^[0-9a-f]{32}$/, maxLength: 32 });
 * validateId('0123456789abcdef0123456789abcdef'); // returns the id
 * validateId('../etc'); // throws TenantError { code: 'tenant_invalid' }
 * ```
 */
export function createTenantIdValidator(format: TenantIdFormat = {}): TenantIdValidator {
  const pattern = format.pattern ?? DEFAULT_TENANT_ID_PATTERN;
  const maxLength = format.maxLength ?? 64;
  if (!Number.isInteger(maxLength) || maxLength < 1 || maxLength > ABSOLUTE_MAX_LENGTH) {
    throw new TypeError(`[@tenant/core] tenant id maxLength must be an integer from 1 to ${ABSOLUTE_MAX_LENGTH}`);
  }
  if (!(pattern instanceof RegExp)) {
    throw new TypeError('[@tenant/core] tenant id pattern must be a RegExp');
  }
  if (pattern.global || pattern.sticky) {
    throw new TypeError('[@tenant/core] tenant id pattern must not use the g or y flag (it would keep state between calls)');
  }
  const description = format.description ?? (pattern === DEFAULT_TENANT_ID_PATTERN ? DEFAULT_DESCRIPTION : `matching ${String(pattern)}`);
  const refuse = (why: string): never => {
    throw new TenantError('tenant_invalid', `[@tenant/core] Invalid tenant id: ${why}`);
  };
  return (id: unknown): string => {
    if (typeof id !== 'string') return refuse(`expected a string, got ${id === null ? 'null' : typeof id}`);
    if (id.length === 0) return refuse('it is empty');
    if (id.length > maxLength) return refuse(`it is longer than ${maxLength} characters`);
    const forbidden = FORBIDDEN.exec(id);
    if (forbidden) return refuse(`it contains a control, whitespace, invisible or unpaired surrogate character at position ${forbidden.index}`);
    if (!pattern.test(id)) return refuse(`it must be ${description}`);
    return id;
  };
}

/** The validator for the default format. */
export const validateTenantId: TenantIdValidator = createTenantIdValidator();

/** Whether `id` is valid in the default format. Never throws. */
export function isValidTenantId(id: unknown): id is string {
  try {
    validateTenantId(id);
    return true;
  } catch {
    return false;
  }
}
