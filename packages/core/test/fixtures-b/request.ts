import type { TenantRequest } from '@tenant/interfaces';

/** The parts of a request view a test names; everything else has a plain default. */
export interface RequestParts {
  readonly method?: string;
  readonly path?: string;
  readonly query?: string;
  readonly host?: string;
  readonly headers?: Readonly<Record<string, string | readonly string[]>>;
  readonly principal?: unknown;
}

/**
 * Builds a neutral request view the way an adapter would: header names are
 * looked up case-insensitively and repeated headers are joined by ", ".
 */
export function request(parts: RequestParts = {}): TenantRequest {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(parts.headers ?? {})) {
    headers.set(name.toLowerCase(), typeof value === 'string' ? value : value.join(', '));
  }
  return {
    method: parts.method ?? 'GET',
    path: parts.path ?? '/',
    query: parts.query ?? '',
    host: parts.host,
    header: (name) => headers.get(name.toLowerCase()),
    ...(parts.principal === undefined ? {} : { principal: parts.principal }),
  };
}

/** A clock whose time only moves when a test moves it. */
export function manualClock(start = 1_000_000_000_000) {
  let now = start;
  return {
    now: () => now,
    set(at: number) {
      now = at;
    },
    advance(ms: number) {
      now += ms;
    },
  };
}
