/**
 * The few commands of an ioredis client (`Redis` or `Cluster`) that the
 * Redis pieces call. Pass your own client; create it to fail fast, for
 * example `new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, commandTimeout: 500 })`,
 * so that an outage turns into quick errors (served from a fallback) rather
 * than requests queued until Redis returns.
 */
export interface RedisCommandClient {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  set(key: string, value: string, mode: 'PX', ttlMs: number): Promise<unknown>;
  del(...keys: string[]): Promise<number>;
  exists(...keys: string[]): Promise<number>;
  eval(script: string, numKeys: number, ...args: (string | number)[]): Promise<unknown>;
  publish(channel: string, message: string): Promise<number>;
}

/**
 * A dedicated ioredis connection for pub/sub (a subscribed connection can
 * run no other command). ioredis re-subscribes by itself after a reconnect.
 */
export interface RedisSubscriberClient {
  subscribe(channel: string): Promise<unknown>;
  unsubscribe(channel: string): Promise<unknown>;
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  on(event: 'ready' | 'close', listener: () => void): unknown;
  off(event: 'message', listener: (channel: string, message: string) => void): unknown;
  off(event: 'ready' | 'close', listener: () => void): unknown;
}
