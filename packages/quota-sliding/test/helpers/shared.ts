import { Redis } from 'ioredis';

/** The shared Redis (never flushed: every test uses its own prefix). */
export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** A prefix no other run uses. */
export const uniquePrefix = (what: string) => `test:quota-sliding:${what}:${process.pid}:${Math.random().toString(36).slice(2, 8)}:`;

/** A fail-fast client, as the README recommends. */
export function connect(url = REDIS_URL, extra: Record<string, unknown> = {}): Redis {
  return new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true, ...extra });
}

/** Connects and waits until ready; fails (never skips) when Redis is unreachable. */
export async function ready(client: Redis): Promise<Redis> {
  await client.connect();
  return client;
}

/** Deletes every key under a prefix (SCAN, never FLUSH). */
export async function deletePrefix(client: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) await client.del(...keys);
  } while (cursor !== '0');
}

/**
 * A window length of about an hour chosen so that the aligned window now in
 * force has at least `marginMs` left: tests that must stay inside one window
 * never straddle a boundary.
 */
export function safeWindow(nowMs: number, marginMs = 120_000): number {
  for (let w = 3_600_000; ; w -= 7_919) if (w - (nowMs % w) > marginMs) return w;
}

/** Redis TIME in milliseconds. */
export async function redisNow(client: Redis): Promise<number> {
  const [s, us] = await client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}
