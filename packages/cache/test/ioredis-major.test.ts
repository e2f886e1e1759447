// Which ioredis major the tests of this project run on: ioredis 6 speaks RESP3
// (HELLO 3 on connect), ioredis 5 RESP2, and the server says which it got.
import type { Cluster as Cluster6, Redis as Redis6 } from 'ioredis';
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { expect, it } from 'vitest';
import type { RedisCommandClient, RedisSubscriberClient } from '../src/index.js';
import { connected, fastRedis } from './helpers.js';

// Both majors' `Redis` and `Cluster` fit the client types the package asks for
// (`pnpm typecheck` compiles this file against the types of ioredis 5 and 6).
type RedisCommandClientFits<T extends RedisCommandClient> = T;
export type RedisCommandClientOfBothMajors = [RedisCommandClientFits<Redis6>, RedisCommandClientFits<Cluster6>, RedisCommandClientFits<Redis5>, RedisCommandClientFits<Cluster5>];
type RedisSubscriberClientFits<T extends RedisSubscriberClient> = T;
export type RedisSubscriberClientOfBothMajors = [RedisSubscriberClientFits<Redis6>, RedisSubscriberClientFits<Cluster6>, RedisSubscriberClientFits<Redis5>, RedisSubscriberClientFits<Cluster5>];

const major = process.env['TENANT_TEST_IOREDIS'] === 'ioredis5' ? 5 : 6;

it(`runs on ioredis ${major}`, async () => {
  const client = await connected(fastRedis());
  try {
    const info = String(await client.call('CLIENT', 'INFO'));
    expect(info).toMatch(major === 6 ? /\bresp=3\b/ : /\bresp=2\b/);
  } finally {
    client.disconnect();
  }
});
