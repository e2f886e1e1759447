import { TenantError } from '@tenant/interfaces';
import { currentTenantId } from '@tenant/core';
import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  IdentifierNode,
  ListNode,
  OnNode,
  OperationNodeTransformer,
  OperatorNode,
  ParensNode,
  PrimitiveValueListNode,
  ReferenceNode,
  TableNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
  WhereNode,
  type DeleteQueryNode,
  type InsertQueryNode,
  type JoinNode,
  type Kysely,
  type KyselyPlugin,
  type MergeQueryNode,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryId,
  type QueryResult,
  type RawNode,
  type RootOperationNode,
  type SelectQueryNode,
  type UnknownRow,
  type UpdateQueryNode,
  type WithNode,
} from 'kysely';
import { checkIdentifier } from './dialect.js';
import type { AnyKysely } from './dialect.js';

/** Options of {@link tenantScopePlugin} and {@link withTenantScope}. */
export interface TenantScopeOptions {
  /**
   * The tenant tables: every table that has a tenant column. A name may be
   * schema-qualified (`app.orders`) to match only in that schema; a bare
   * name matches in any schema.
   */
  readonly tables: readonly string[];
  /** The tenant column of those tables. @default 'tenant_id' */
  readonly column?: string;
  /**
   * Where the current tenant id comes from, read when a query is compiled.
   * @default currentTenantId from `@tenant/core` (the tenant context)
   */
  readonly tenantId?: () => string | undefined;
}

const BRAND = Symbol.for('@tenant/store-sql.TenantScopePlugin');
// Nodes this plugin produced, with the tenant they were scoped to. A subquery
// built with a scoped Kysely instance reaches the plugin twice (once when it
// is embedded, once with the whole query): the second time it is kept as is.
const scoped = new WeakMap<OperationNode, string>();

function refuse(message: string): never {
  throw new TenantError('isolation_violation', `[@tenant/store-sql] ${message}`);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

interface Scope {
  readonly bare: ReadonlySet<string>;
  readonly qualified: ReadonlySet<string>;
  readonly column: string;
  readonly rawPattern: RegExp;
  readonly tenantId: () => string | undefined;
}

class TenantScopeTransformer extends OperationNodeTransformer {
  readonly #scope: Scope;
  #tenant: string | undefined;
  touched = false;
  sawWith = false;

  constructor(scope: Scope) {
    super();
    this.#scope = scope;
  }

  /** Readies the transformer for the next query (one instance serves many: building one is costly). */
  reset(): void {
    this.#tenant = undefined;
    this.touched = false;
    this.sawWith = false;
  }

  tenant(): string {
    if (this.#tenant === undefined) {
      const id = this.#scope.tenantId();
      if (typeof id !== 'string' || id.length === 0) {
        throw new TenantError(
          'tenant_context_missing',
          '[@tenant/store-sql] A query on a tenant table ran with no tenant in context: run it inside runWithTenant(), or use unscoped(db) for admin work',
        );
      }
      this.#tenant = id;
    }
    return this.#tenant;
  }

  /** The tenant table a FROM/JOIN/INTO item names, with the qualifier to use for its column. */
  #tenantTable(node: OperationNode): TableNode | undefined {
    if (TableNode.is(node)) return this.#isTenantTable(node) ? node : undefined;
    if (AliasNode.is(node) && TableNode.is(node.node) && this.#isTenantTable(node.node)) {
      if (!IdentifierNode.is(node.alias)) refuse('A tenant table alias must be a plain name');
      return TableNode.create(node.alias.name);
    }
    return undefined;
  }

  #isTenantTable(node: TableNode): boolean {
    const name = node.table.identifier.name;
    const schema = node.table.schema?.name;
    const hit = this.#scope.bare.has(name) || (schema !== undefined && this.#scope.qualified.has(`${schema}.${name}`));
    if (hit) this.touched = true;
    return hit;
  }

  #condition(qualifier: TableNode): OperationNode {
    return BinaryOperationNode.create(
      ReferenceNode.create(ColumnNode.create(this.#scope.column), qualifier),
      OperatorNode.create('='),
      ValueNode.create(this.tenant()),
    );
  }

  #and(existing: OperationNode | undefined, conditions: readonly OperationNode[]): OperationNode | undefined {
    let out: OperationNode | undefined = existing === undefined ? undefined : ParensNode.create(existing);
    for (const condition of conditions) out = out === undefined ? condition : AndNode.create(out, condition);
    return out;
  }

  #where(where: WhereNode | undefined, conditions: readonly OperationNode[]): WhereNode | undefined {
    if (conditions.length === 0) return where;
    return WhereNode.create(this.#and(where?.where, conditions) as OperationNode);
  }

  /** Conditions for the tenant tables among FROM-like items. */
  #itemConditions(items: readonly OperationNode[] | undefined): OperationNode[] {
    const conditions: OperationNode[] = [];
    for (const item of items ?? []) {
      const qualifier = this.#tenantTable(item);
      if (qualifier !== undefined) conditions.push(this.#condition(qualifier));
    }
    return conditions;
  }

  /** Scopes joins: the condition goes into ON (so a LEFT JOIN stays a LEFT JOIN), or WHERE for joins without ON. */
  #joins(joins: readonly JoinNode[] | undefined, where: OperationNode[], anyTenantTable: boolean): readonly JoinNode[] | undefined {
    if (joins === undefined) return undefined;
    const tenantJoin = joins.map((join) => this.#tenantTable(join.table));
    if (anyTenantTable || tenantJoin.some((q) => q !== undefined)) {
      for (const join of joins) {
        if (join.joinType === 'RightJoin' || join.joinType === 'FullJoin') {
          refuse(`A ${join.joinType === 'RightJoin' ? 'RIGHT' : 'FULL'} JOIN in a query on a tenant table cannot be scoped (it keeps rows of the other side): write it as a LEFT JOIN`);
        }
      }
    }
    return joins.map((join, i) => {
      const qualifier = tenantJoin[i];
      if (qualifier === undefined) return join;
      const condition = this.#condition(qualifier);
      if (join.on === undefined) {
        where.push(condition);
        return join;
      }
      return { ...join, on: OnNode.create(this.#and(join.on.on, [condition]) as OperationNode) };
    });
  }

  #seen<T extends OperationNode>(node: T): T | undefined {
    const tenant = scoped.get(node);
    if (tenant === undefined) return undefined;
    this.touched = true;
    if (tenant !== this.tenant()) refuse('A subquery scoped to another tenant was embedded in this query');
    return node;
  }

  #mark<T extends OperationNode>(node: T, changed: boolean): T {
    if (changed) scoped.set(node, this.tenant());
    return node;
  }

  protected override transformSelectQuery(node: SelectQueryNode, queryId?: QueryId): SelectQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const out = super.transformSelectQuery(node, queryId);
    const where = this.#itemConditions(out.from?.froms);
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    const changed = where.length > 0 || joins?.some((j, i) => j !== out.joins?.[i]) === true;
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as SelectQueryNode, changed);
  }

  protected override transformUpdateQuery(node: UpdateQueryNode, queryId?: QueryId): UpdateQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const out = super.transformUpdateQuery(node, queryId);
    const targets = out.table === undefined ? [] : ListNode.is(out.table) ? out.table.items : [out.table];
    const where = this.#itemConditions(targets);
    if (where.length > 0) {
      for (const update of out.updates ?? []) {
        const column = ColumnNode.is(update.column) ? update.column.column.name : ReferenceNode.is(update.column) && ColumnNode.is(update.column.column) ? update.column.column.column.name : undefined;
        if (column === this.#scope.column && !(ValueNode.is(update.value) && update.value.value === this.tenant())) {
          refuse(`An update may not move rows of a tenant table to another tenant (it sets ${this.#scope.column})`);
        }
      }
    }
    where.push(...this.#itemConditions(out.from?.froms));
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as UpdateQueryNode, true);
  }

  protected override transformDeleteQuery(node: DeleteQueryNode, queryId?: QueryId): DeleteQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const out = super.transformDeleteQuery(node, queryId);
    const where = [...this.#itemConditions(out.from.froms), ...this.#itemConditions(out.using?.tables)];
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as DeleteQueryNode, true);
  }

  protected override transformInsertQuery(node: InsertQueryNode, queryId?: QueryId): InsertQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const out = super.transformInsertQuery(node, queryId);
    if (out.into === undefined || this.#tenantTable(out.into) === undefined) return out;
    const table = out.into.table.identifier.name;
    if (out.values === undefined || !ValuesNode.is(out.values)) refuse(`insert into ${table} from a select (or without values) cannot be scoped: insert values`);
    if (out.onConflict?.updates !== undefined) refuse(`insert into ${table} ... on conflict do update cannot be scoped: the conflicting row may belong to another tenant`);
    if (out.onDuplicateKey !== undefined) refuse(`insert into ${table} ... on duplicate key update cannot be scoped: the conflicting row may belong to another tenant`);
    if (out.replace === true || out.orAction?.action === 'replace') refuse(`replace into ${table} cannot be scoped: it deletes the conflicting row, whichever tenant owns it`);
    const tenant = this.tenant();
    const columns = out.columns ?? [];
    const index = columns.findIndex((c) => c.column.name === this.#scope.column);
    if (index !== -1) {
      for (const row of out.values.values) {
        const value = ValueListNode.is(row) ? row.values[index] : row.values[index];
        const same = ValueListNode.is(row) ? value !== undefined && ValueNode.is(value as OperationNode) && (value as ValueNode).value === tenant : value === tenant;
        if (!same) refuse(`insert into ${table} names another tenant in ${this.#scope.column}`);
      }
      return this.#mark(out, true);
    }
    const values = ValuesNode.create(
      out.values.values.map((row) =>
        PrimitiveValueListNode.is(row) ? PrimitiveValueListNode.create([...row.values, tenant]) : ValueListNode.create([...row.values, ValueNode.create(tenant)]),
      ),
    );
    return this.#mark({ ...out, columns: [...columns, ColumnNode.create(this.#scope.column)], values } as InsertQueryNode, true);
  }

  protected override transformMergeQuery(node: MergeQueryNode, queryId?: QueryId): MergeQueryNode {
    const out = super.transformMergeQuery(node, queryId);
    if (this.touched || this.#tenantTable(out.into) !== undefined || (out.using !== undefined && this.#tenantTable(out.using.table) !== undefined)) {
      refuse('MERGE on a tenant table cannot be scoped: use separate insert, update and delete queries');
    }
    return out;
  }

  protected override transformWith(node: WithNode, queryId?: QueryId): WithNode {
    this.sawWith = true;
    return super.transformWith(node, queryId);
  }

  protected override transformRaw(node: RawNode, queryId?: QueryId): RawNode {
    if (node.sqlFragments.some((fragment) => this.#scope.rawPattern.test(fragment))) {
      refuse('Raw SQL that names a tenant table cannot be scoped: build the query with kysely, or use unscoped(db) and filter by tenant yourself');
    }
    for (const parameter of node.parameters) {
      if ((TableNode.is(parameter) && this.#isTenantTable(parameter)) || (IdentifierNode.is(parameter) && this.#scope.bare.has(parameter.name))) {
        refuse('Raw SQL that names a tenant table cannot be scoped: build the query with kysely, or use unscoped(db) and filter by tenant yourself');
      }
    }
    return super.transformRaw(node, queryId);
  }
}

/**
 * The row-level isolation plugin: a `KyselyPlugin` that, for the declared
 * tenant tables, adds `<table or alias>.<column> = <current tenant>` to every
 * SELECT, UPDATE and DELETE (FROM, JOINs — in their ON, so a LEFT JOIN stays
 * one — USING, `updateTable … from`, subqueries and set operations), and sets
 * the column on INSERT, refusing an insert that names another tenant.
 *
 * Refused with a `TenantError` `isolation_violation` instead of run, when a
 * tenant table is involved: raw `sql` naming a tenant table, insert from a
 * select, `on conflict do update` / `on duplicate key update`, `replace`,
 * CTEs (`with`), `merge`, RIGHT/FULL joins, and updates that set the tenant
 * column to another tenant. With no tenant in context a query on a tenant
 * table throws `tenant_context_missing`. Queries that touch no tenant table
 * pass unchanged.
 *
 * Raw SQL is only checked by name (a tenant table's name in a fragment, or
 * `sql.table()` / `sql.id()` of one): a name built at run time is invisible
 * to any plugin, so raw SQL belongs in {@link unscoped} code, and PostgreSQL
 * RLS ({@link enableRowLevelSecurity}) is the net under it.
 *
 * @example
 * ```ts
 * import { tenantScopePlugin } from '@tenant/store-sql';
 *
 * const scopedDb = db.withPlugin(tenantScopePlugin({ tables: ['orders', 'order_items'] }));
 * await runWithTenant(acme, () => scopedDb.selectFrom('orders').selectAll().execute());
 * // select * from "orders" where "orders"."tenant_id" = $1   -- ['acme']
 * ```
 */
export function tenantScopePlugin(options: TenantScopeOptions): KyselyPlugin {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.tables) || options.tables.length === 0) {
    throw new TypeError('[@tenant/store-sql] tenantScopePlugin needs { tables: [...] }, the tenant tables');
  }
  const bare = new Set<string>();
  const qualified = new Set<string>();
  for (const table of options.tables) {
    const parts = typeof table === 'string' ? table.split('.') : [];
    if (parts.length === 1) bare.add(checkIdentifier(parts[0], 'a tenant table name'));
    else if (parts.length === 2) qualified.add(`${checkIdentifier(parts[0], 'a schema name')}.${checkIdentifier(parts[1], 'a tenant table name')}`);
    else throw new TypeError('[@tenant/store-sql] a tenant table name must be table or schema.table');
  }
  const names = [...bare, ...[...qualified].map((q) => q.split('.')[1] as string)];
  const scope: Scope = {
    bare,
    qualified,
    column: checkIdentifier(options.column ?? 'tenant_id', 'column'),
    rawPattern: new RegExp(`(?<![A-Za-z0-9_$])(?:${names.map(escapeRegExp).join('|')})(?![A-Za-z0-9_$])`, 'i'),
    tenantId: options.tenantId ?? currentTenantId,
  };
  if (typeof scope.tenantId !== 'function') throw new TypeError('[@tenant/store-sql] tenantId must be a function');
  // transformQuery is synchronous, so one transformer serves every query; a
  // re-entrant call (none is known) would get a fresh one.
  const shared = new TenantScopeTransformer(scope);
  let busy = false;
  return {
    [BRAND]: true,
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const transformer = busy ? new TenantScopeTransformer(scope) : shared;
      const owner = !busy;
      busy = true;
      try {
        transformer.reset();
        const node = transformer.transformNode(args.node, args.queryId);
        if (transformer.touched && transformer.sawWith) {
          refuse('A query with a CTE (with) on a tenant table cannot be scoped: use a subquery, or unscoped(db)');
        }
        return node;
      } finally {
        if (owner) busy = false;
      }
    },
    transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return Promise.resolve(args.result);
    },
  } as KyselyPlugin;
}

function isScopePlugin(plugin: KyselyPlugin): boolean {
  return (plugin as unknown as Record<symbol, unknown>)[BRAND] === true;
}

/**
 * Returns `db` with the row-level plugin added: the tenant-scoped handle that
 * application code should use.
 *
 * @example
 * ```ts
 * import { withTenantScope } from '@tenant/store-sql';
 *
 * export const scopedDb = withTenantScope(db, { tables: ['orders'] });
 * ```
 */
export function withTenantScope<DB>(db: Kysely<DB>, options: TenantScopeOptions): Kysely<DB> {
  return db.withPlugin(tenantScopePlugin(options));
}

/**
 * The explicit, greppable way out of row-level isolation, for admin and
 * migration work: `db` without the tenant scope plugin (other plugins kept,
 * in order). Audit every call site: queries through it see every tenant.
 *
 * @example
 * ```ts
 * import { unscoped } from '@tenant/store-sql';
 *
 * const total = await unscoped(scopedDb).selectFrom('orders').select((eb) => eb.fn.countAll().as('n')).executeTakeFirst();
 * ```
 */
export function unscoped<T extends AnyKysely>(db: T): T {
  const plugins = db.getExecutor().plugins;
  if (!plugins.some(isScopePlugin)) return db;
  let out = db.withoutPlugins();
  for (const plugin of plugins) if (!isScopePlugin(plugin)) out = out.withPlugin(plugin);
  return out as T;
}
