import type { TenantRequest } from '@tenant/core';

/** A neutral request naming `tenant` in the `x-tenant-id` header. */
export function request(tenant: string | undefined, path = '/v1/chat'): TenantRequest {
  const headers: Record<string, string> = { host: 'api.example.com' };
  if (tenant !== undefined) headers['x-tenant-id'] = tenant;
  return { method: 'GET', path, query: '', host: 'api.example.com', header: (name) => headers[name] };
}

/** The series (sample lines) of `metric` in an exposition, `_bucket`/`_sum`/`_count` included for histograms. */
export function seriesOf(exposition: string, metric: string): string[] {
  return exposition.split('\n').filter((line) => line.startsWith(`${metric}{`) || line.startsWith(`${metric} `) || line.startsWith(`${metric}_bucket{`) || line.startsWith(`${metric}_sum`) || line.startsWith(`${metric}_count`));
}

/** The distinct values of `label` over the sample lines of an exposition. */
export function labelValues(exposition: string, label: string): Set<string> {
  const values = new Set<string>();
  const pattern = new RegExp(`[{,]${label}="((?:[^"\\\\]|\\\\.)*)"`, 'g');
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#')) continue;
    for (const match of line.matchAll(pattern)) values.add(match[1]!);
  }
  return values;
}

/** Every sample line (not comments, not blank). */
export function sampleLines(exposition: string): string[] {
  return exposition.split('\n').filter((line) => line !== '' && !line.startsWith('#'));
}
