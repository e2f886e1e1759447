import { describe, expect, it } from 'vitest';
import { DEFAULT_SQLITE_FILE, DEV_ADMIN_TOKEN, loadConfig, parseDatabaseUrl } from '../src/config.js';

describe('configuration from the environment', () => {
  it('reads DATABASE_URL for SQLite and PostgreSQL', () => {
    expect(parseDatabaseUrl(undefined)).toEqual({ kind: 'sqlite', file: DEFAULT_SQLITE_FILE });
    expect(parseDatabaseUrl('  ')).toEqual({ kind: 'sqlite', file: DEFAULT_SQLITE_FILE });
    expect(DEFAULT_SQLITE_FILE).toMatch(/examples[/\\]saas[/\\]\.data[/\\]saas\.sqlite$/);
    expect(parseDatabaseUrl(':memory:')).toEqual({ kind: 'sqlite', file: ':memory:' });
    expect(parseDatabaseUrl('sqlite::memory:')).toEqual({ kind: 'sqlite', file: ':memory:' });
    expect(parseDatabaseUrl('sqlite:./data/app.db')).toEqual({ kind: 'sqlite', file: './data/app.db' });
    expect(parseDatabaseUrl('file:/var/lib/saas.sqlite')).toEqual({ kind: 'sqlite', file: '/var/lib/saas.sqlite' });
    expect(parseDatabaseUrl('tmp/x.sqlite3')).toEqual({ kind: 'sqlite', file: 'tmp/x.sqlite3' });
    expect(parseDatabaseUrl('postgres://u:p@db:5432/saas')).toEqual({ kind: 'postgres', url: 'postgres://u:p@db:5432/saas' });
    expect(parseDatabaseUrl('postgresql://db/saas')).toEqual({ kind: 'postgres', url: 'postgresql://db/saas' });
  });

  it('refuses what it cannot use, without echoing credentials', () => {
    expect(() => parseDatabaseUrl('mysql://root:secret@db/saas')).toThrow(/DATABASE_URL is not supported/);
    expect(() => parseDatabaseUrl('mysql://root:secret@db/saas')).not.toThrow(/secret/);
    expect(() => parseDatabaseUrl('saas')).toThrow(/DATABASE_URL/);
    expect(() => loadConfig({ PORT: 'http' })).toThrow(/PORT/);
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
    expect(() => loadConfig({ ADMIN_TOKEN: 'short' })).toThrow(/ADMIN_TOKEN/);
  });

  it('has development defaults, and says when the admin token is one', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, host: '127.0.0.1', redisUrl: undefined, redisPrefix: 'saas:', adminToken: DEV_ADMIN_TOKEN, adminTokenIsDefault: true });
    const set = loadConfig({ ADMIN_TOKEN: 'a-long-enough-secret', REDIS_URL: 'redis://r:6379', PORT: '0', REDIS_PREFIX: 'x:' });
    expect(set).toMatchObject({ port: 0, redisUrl: 'redis://r:6379', redisPrefix: 'x:', adminToken: 'a-long-enough-secret', adminTokenIsDefault: false });
  });
});
