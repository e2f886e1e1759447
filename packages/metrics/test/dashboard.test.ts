import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createTenantMetrics } from '../src/index.js';
import { runPromtool } from './promtool.js';

const dashboardPath = fileURLToPath(new URL('../../../docs/grafana/tenant-dashboard.json', import.meta.url));

interface Dashboard {
  readonly panels: readonly { readonly title: string; readonly targets: readonly { readonly expr: string }[] }[];
  readonly templating: { readonly list: readonly { readonly definition?: string }[] };
}

const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as Dashboard;
const panelQueries = dashboard.panels.flatMap((panel) => panel.targets.map((target) => target.expr));
// Template variables use Grafana's `label_values(...)`, not PromQL: checked for names only.
const queries = [...panelQueries, ...dashboard.templating.list.flatMap((v) => (v.definition ? [v.definition] : []))];

/** Every metric name a PromQL query reads (identifiers with the default `tenant_` prefix). */
function metricNames(query: string): string[] {
  return [...query.matchAll(/\btenant_[a-z_]+\b/g)].map((match) => match[0]);
}

/** A registry output with at least one sample in every metric family. */
async function fullExposition(): Promise<Set<string>> {
  const registry = new Registry();
  const metrics = createTenantMetrics({ registry, tenantLabel: { top: 5 } });
  metrics.observeRequest({ tenantId: 'acme', method: 'GET', route: '/', status: 500, durationSeconds: 0.1 });
  metrics.hooks.onResolve?.({ request: undefined as never, tenant: { id: 'acme' } as never, source: 'header', durationMs: 1 });
  metrics.hooks.onQuota?.({ request: undefined, tenant: { id: 'acme' } as never, cost: {}, result: { allowed: false, reason: 'limit_exceeded', retryAfterMs: 1, dimensions: {} } });
  metrics.hooks.onPolicy?.({ request: undefined, tenant: { id: 'acme' } as never, policyRequest: {}, decision: { allowed: false, reason: 'r', dimension: 'models', value: 'x' } });
  metrics.hooks.onReject?.({ request: undefined, tenantId: 'acme', rejection: { code: 'quota_exceeded' } as never });
  metrics.hooks.onError?.({ phase: 'store', error: new Error('x'), tenantId: 'acme' });
  metrics.recordCacheHit('memory');
  metrics.recordCacheMiss('memory');
  const text = await registry.metrics();
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    names.add(/^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line)![0]);
  }
  return names;
}

/** The PromQL expressions of the ```promql blocks of a Markdown file (continuation lines start with spaces). */
function promqlOf(markdownPath: string): string[] {
  const text = readFileSync(fileURLToPath(new URL(markdownPath, import.meta.url)), 'utf8');
  const queries: string[] = [];
  for (const block of text.matchAll(/```promql\n([\s\S]*?)```/g)) {
    let current: string | undefined;
    for (const line of block[1]!.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') {
        if (current !== undefined) queries.push(current);
        current = undefined;
      } else if (line.startsWith(' ') && current !== undefined) current += ` ${line.trim()}`;
      else {
        if (current !== undefined) queries.push(current);
        current = line;
      }
    }
    if (current !== undefined) queries.push(current);
  }
  return queries;
}

/** Runs `promtool check rules` on recording rules made of `queries`. */
function checkPromql(queries: readonly string[]): void {
  const dir = mkdtempSync(join(tmpdir(), 'tenant-metrics-'));
  try {
    const rules = queries.map((query, i) => `      - record: docs:query_${i}\n        expr: ${JSON.stringify(query)}`).join('\n');
    const file = join(dir, 'rules.yml');
    writeFileSync(file, `groups:\n  - name: docs\n    rules:\n${rules}\n`);
    const result = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 30_000 });
    expect(result.error, 'promtool must be installed (Debian package prometheus)').toBeUndefined();
    expect(`${result.stdout}${result.stderr}`).toContain(`SUCCESS: ${queries.length} rules found`);
    expect(result.status).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('Grafana dashboard (docs/grafana/tenant-dashboard.json)', () => {
  it('has panels with queries', () => {
    expect(dashboard.panels.length).toBeGreaterThanOrEqual(8);
    for (const panel of dashboard.panels) expect(panel.targets.length, panel.title).toBeGreaterThan(0);
  });

  it('queries only metrics that the registry exposes', async () => {
    const exposed = await fullExposition();
    const queried = new Set(queries.flatMap(metricNames));
    expect(queried.size).toBeGreaterThanOrEqual(8);
    const missing = [...queried].filter((name) => !exposed.has(name));
    expect(missing).toEqual([]);
  });

  it.runIf(runPromtool)('has PromQL that promtool parses', () => {
    checkPromql(panelQueries.map((query) => query.replaceAll('$__rate_interval', '5m').replaceAll('$tenant', '.*')));
  });
});

describe('PromQL in the docs', () => {
  const docs = [...promqlOf('../../../docs/metrics.md'), ...promqlOf('../README.md')];

  it('queries only metrics that the registry exposes', async () => {
    expect(docs.length).toBeGreaterThanOrEqual(15);
    const exposed = await fullExposition();
    expect([...new Set(docs.flatMap(metricNames))].filter((name) => !exposed.has(name))).toEqual([]);
  });

  it.runIf(runPromtool)('is PromQL that promtool parses', () => {
    checkPromql(docs);
  });
});
