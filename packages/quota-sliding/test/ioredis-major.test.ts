// Which ioredis major the tests of this project run on: ioredis 6 speaks RESP3
// (HELLO 3 on connect), ioredis 5 RESP2, and the server says which it got.
import type { Cluster as Cluster6, Redis as Redis6 } from 'ioredis';
import type { Cluster as Cluster5, Redis as Redis5 } from 'ioredis5';
import { expect, it } from 'vitest';
import type { RedisQuotaClient } from '../src/index.js';
import { connect, ready } from './helpers/shared.js';

// Both majors' `Redis` and `Cluster` fit the client types the package asks for
// (`pnpm typecheck` compiles this file against the types of ioredis 5 and 6).
type RedisQuotaClientFits<T extends RedisQuotaClient> = T;
export type RedisQuotaClientOfBothMajors = [RedisQuotaClientFits<Redis6>, RedisQuotaClientFits<Cluster6>, RedisQuotaClientFits<Redis5>, RedisQuotaClientFits<Cluster5>];

const major = process.env['TENANT_TEST_IOREDIS'] === 'ioredis5' ? 5 : 6;

it(`runs on ioredis ${major}`, async () => {
  const client = await ready(connect());
  try {
    const info = String(await client.call('CLIENT', 'INFO'));
    expect(info).toMatch(major === 6 ? /\bresp=3\b/ : /\bresp=2\b/);
  } finally {
    client.disconnect();
  }
});
