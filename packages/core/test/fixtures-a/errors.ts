import { TenantError, type TenantErrorCode } from '../../src/index.js';

/** Calls `fn` and returns the TenantError it throws; anything else (or nothing) fails the test. */
export function thrown(fn: () => unknown, code?: TenantErrorCode): TenantError {
  let result: unknown;
  try {
    result = fn();
  } catch (error) {
    return check(error, code);
  }
  throw new Error(`expected a TenantError${code ? ` ${code}` : ''}, got ${String(result)}`);
}

/** Awaits `promise` and returns the TenantError it rejects with; anything else fails the test. */
export async function rejected(promise: PromiseLike<unknown>, code?: TenantErrorCode): Promise<TenantError> {
  let result: unknown;
  try {
    result = await promise;
  } catch (error) {
    return check(error, code);
  }
  throw new Error(`expected a rejection with a TenantError${code ? ` ${code}` : ''}, got ${String(result)}`);
}

function check(error: unknown, code: TenantErrorCode | undefined): TenantError {
  if (!TenantError.is(error)) throw error;
  if (code !== undefined && error.code !== code) {
    throw new Error(`expected TenantError ${code}, got ${error.code}: ${error.message}`, { cause: error });
  }
  return error;
}

/** The field-level messages of a `config_invalid` error. */
export function fieldsOf(error: TenantError): Record<string, string> {
  return (error.details?.['fields'] ?? {}) as Record<string, string>;
}
