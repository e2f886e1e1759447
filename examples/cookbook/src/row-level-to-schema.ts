import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql, type ColumnType, type Kysely } from 'kysely';
import { requireTenant, type TenantConfig, type TenantStore } from '@tenant/core';
import { createSchemaPerTenant, withTenantScope } from '@tenant/store-sql';

/** Where a tenant's notes live, kept in its config's metadata so that every instance agrees. */
type Placement = 'shared' | 'moving' | 'schema';
const placement = (tenant: TenantConfig): Placement => (tenant.metadata['notes'] as Placement | undefined) ?? 'shared';

/** The tenant tables as the tenant migrations create them inside each tenant schema: no tenant_id there. */
export const tenantMigrations = {
  '001_notes': {
    up: (db: Kysely<unknown>) =>
      db.schema.createTable('notes').addColumn('id', 'varchar(36)', (c) => c.primaryKey()).addColumn('body', 'text', (c) => c.notNull()).execute(),
  },
};

/** A short maintenance window: the caller answers 503 with Retry-After. */
export class TenantMovingError extends Error {
  readonly status = 503;
  readonly retryAfterSeconds = 5;
}

/** The shared table (row-level); tenant schemas hold `notes (id, body)`. */
export interface NotesDatabase {
  notes: { id: string; tenant_id: ColumnType<string, string | undefined, never>; body: string };
}

export function createNotes(db: Kysely<NotesDatabase>, store: TenantStore) {
  const shared = withTenantScope(db, { tables: ['notes'] });
  const schemas = createSchemaPerTenant({ db, migrations: tenantMigrations });

  /** The data layer: the rest of the application never knows where a tenant's notes live. */
  async function list(): Promise<{ id: string; body: string }[]> {
    const tenant = requireTenant();
    switch (placement(tenant)) {
      case 'schema':
        return schemas.withTenantSchema(tenant.id, (trx) => trx.selectFrom('notes').select(['id', 'body']).orderBy('body').execute());
      case 'moving':
        throw new TenantMovingError('This tenant is being moved');
      default:
        return shared.selectFrom('notes').select(['id', 'body']).orderBy('body').execute();
    }
  }

  async function add(body: string): Promise<void> {
    const tenant = requireTenant();
    const note = { id: randomUUID(), body };
    switch (placement(tenant)) {
      case 'schema':
        return void (await schemas.withTenantSchema(tenant.id, (trx) => trx.insertInto('notes').values(note).execute()));
      case 'moving':
        throw new TenantMovingError('This tenant is being moved');
      default:
        return void (await shared.insertInto('notes').values(note).execute());
    }
  }

  /**
   * Moves one tenant from the shared table to its own schema. `drainMs`: how
   * long every instance may still act on the old placement (your tenant
   * cache's TTL plus your longest request).
   */
  async function moveToSchema(tenantId: string, { drainMs }: { drainMs: number }): Promise<number> {
    const setPlacement = async (value: Placement) => {
      const tenant = await store.get(tenantId);
      if (tenant === undefined) throw new Error(`no tenant ${tenantId}`);
      await store.update(tenantId, { metadata: { ...tenant.metadata, notes: value } }, { expectedVersion: tenant.version });
    };
    await schemas.provision(tenantId); // create schema tenant_<id>, run the tenant migrations (idempotent)
    await setPlacement('moving'); // reads and writes wait
    await sleep(drainMs); // until no instance still writes to the shared table
    // One statement, one transaction: the rows leave the shared table as they arrive in the schema.
    const moved = await sql`
      with moved as (delete from notes where tenant_id = ${tenantId} returning id, body)
      insert into ${sql.table(`${schemas.schemaName(tenantId)}.notes`)} (id, body) select id, body from moved`.execute(db);
    await setPlacement('schema');
    return Number(moved.numAffectedRows ?? 0);
  }

  return { list, add, moveToSchema };
}
