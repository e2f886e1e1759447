import { sql } from 'kysely';
import type { AnyKysely, AnyTransaction } from './dialect.js';

/**
 * Sets a PostgreSQL setting for the current transaction only
 * (`set_config(name, value, true)`, with bind parameters: the value never
 * becomes SQL text). Built with the query builder, so the row-level plugin
 * lets it through.
 */
export async function setLocal(trx: AnyTransaction, name: string, value: string): Promise<void> {
  await (trx as AnyKysely)
    .selectNoFrom((eb) => eb.fn('set_config', [eb.val(name), eb.val(value), sql<boolean>`true`]).as('value'))
    .execute();
}
