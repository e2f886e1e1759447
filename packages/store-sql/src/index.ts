/**
 * Tenant configs in PostgreSQL, MySQL/MariaDB and SQLite, and tenant data
 * isolation (row-level plugin, PostgreSQL RLS, schema per tenant, shard
 * routing) with kysely.
 *
 * @packageDocumentation
 */
export { detectDialect } from './dialect.js';
export type { SqlDialectName } from './dialect.js';
export { createTenantStoreMigrations, tenantStoreMigrationProvider, migrateTenantStore, tenantStoreTables } from './migrations.js';
export type { TableOptions, TenantStoreTables, MigrateTenantStoreOptions } from './migrations.js';
export { createSqlTenantStore } from './sql-store.js';
export type { SqlTenantStore, SqlTenantStoreOptions } from './sql-store.js';
export { tenantScopePlugin, withTenantScope, unscoped } from './row-level.js';
export type { TenantScopeOptions } from './row-level.js';
export { enableRowLevelSecurity, disableRowLevelSecurity, withTenantTransaction, DEFAULT_TENANT_SETTING } from './rls.js';
export type { RowLevelSecurityOptions, TenantTransactionOptions } from './rls.js';
export { createSchemaPerTenant } from './schema-per-tenant.js';
export type { SchemaPerTenant, SchemaPerTenantOptions, SchemaMigrationProgress } from './schema-per-tenant.js';
export { createShardRouter, planShardMoves } from './shard-router.js';
export type { ShardRouter, ShardRouterOptions, ShardMove } from './shard-router.js';
