import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { withTenantTransaction } from './dist/index.js';
const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: 'postgres://postgres@127.0.0.1:5432/test', max: 1 }) }) });
const N = 2000;
const plain = () => db.transaction().execute(async (trx) => { await sql`select set_config('app.tenant_id', 'acme', true)`.execute(trx); await sql`select 1`.execute(trx); });
const wrapped = () => withTenantTransaction(db, 'acme', (trx) => sql`select 1`.execute(trx));
for (let round = 0; round < 3; round++) {
  for (const [name, fn] of [['set_config only (before)', plain], ['withTenantTransaction (now)', wrapped]]) {
    for (let i = 0; i < 200; i++) await fn();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < N; i++) await fn();
    const us = Number(process.hrtime.bigint() - t0) / 1000 / N;
    console.log(round, name, us.toFixed(1), 'µs/transaction');
  }
}
await db.destroy();
