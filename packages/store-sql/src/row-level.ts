import { TenantError } from '@tenant/interfaces';
import { currentTenantId } from '@tenant/core';
import {
  AliasNode,
  AndNode,
  BinaryOperationNode,
  ColumnNode,
  ColumnUpdateNode,
  IdentifierNode,
  ListNode,
  OnNode,
  OperationNodeTransformer,
  OperatorNode,
  ParensNode,
  PrimitiveValueListNode,
  RawNode,
  ReferenceNode,
  TableNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
  WhereNode,
  type AggregateFunctionNode,
  type AlterTableNode,
  type CompiledQuery,
  type DeleteQueryNode,
  type DropTableNode,
  type FunctionNode,
  type InsertQueryNode,
  type JoinNode,
  type Kysely,
  type KyselyPlugin,
  type MergeQueryNode,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryExecutor,
  type QueryId,
  type QueryResult,
  type RootOperationNode,
  type SelectQueryNode,
  type UnknownRow,
  type UpdateQueryNode,
  type WithNode,
} from 'kysely';
import { checkIdentifier, detectDialect } from './dialect.js';
import type { AnyKysely, SqlDialectName } from './dialect.js';

/** Options of {@link tenantScopePlugin} and {@link withTenantScope}. */
export interface TenantScopeOptions {
  /**
   * The tenant tables: every table that has a tenant column. A bare name
   * (`orders`) matches that table in any schema (`public.orders`,
   * `main.orders`, `mydb.orders`); a schema-qualified name (`app.orders`)
   * matches it in that schema and unqualified (the search path may reach
   * it), not in another schema. Names match the way the database matches
   * them, or wider: see `dialect`.
   */
  readonly tables: readonly string[];
  /** The tenant column of those tables, matched like table names. @default 'tenant_id' */
  readonly column?: string;
  /**
   * Where the current tenant id comes from, read when a query is compiled
   * (and again when a compiled query is run through {@link withTenantScope}).
   * @default currentTenantId from `@tenant/core` (the tenant context)
   */
  readonly tenantId?: () => string | undefined;
  /**
   * The SQL dialect, which decides how identifiers are compared:
   * `sqlite` folds ASCII case (as SQLite does); `postgres` folds ASCII case
   * too (wider than PostgreSQL's quoted identifiers: a table that differs from
   * a tenant table only by case is scoped as well) and truncates to 63 bytes;
   * `mysql` — and any unknown dialect — also folds Unicode case and accents
   * and ignores trailing spaces, because MySQL/MariaDB compare column names
   * (and table names, with `lower_case_table_names`) with a case- and
   * accent-insensitive collation. Matching wider than the database only adds
   * a filter or a refusal, never loses one.
   * @default detected from the Kysely instance by {@link withTenantScope};
   *   the widest rules (`mysql`) for a bare {@link tenantScopePlugin}
   */
  readonly dialect?: SqlDialectName;
}

const BRAND = Symbol.for('@tenant/store-sql.TenantScopePlugin');
// Set by the plugin after each transformQuery: the tenant the query was
// scoped to, or null when it touched no tenant table. Read by the executor
// guard of withTenantScope, right after the (synchronous) transform.
const LAST = Symbol('@tenant/store-sql.lastScope');

const RAW_REFUSAL = 'Raw SQL that names a tenant table cannot be scoped: build the query with kysely, or use unscoped(db) and filter by tenant yourself';

function refuse(message: string): never {
  throw new TenantError('isolation_violation', `[@tenant/store-sql] ${message}`);
}

// ---------------------------------------------------------------------------
// Identifier folding: one function per dialect, applied to the declared names
// once and to each name met in a query. ASCII names (the usual case) cost one
// toLowerCase and one test.

type Fold = (name: string) => string;
const PLAIN = /^[a-z0-9_$]{0,63}$/;
const MAX_BYTES = 63;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function truncateBytes(name: string): string {
  const bytes = encoder.encode(name);
  return bytes.length <= MAX_BYTES ? name : decoder.decode(bytes.subarray(0, MAX_BYTES)).replace(/\ufffd+$/, '');
}

const asciiFold = (name: string): string => name.replace(/[A-Z]+/g, (s) => s.toLowerCase());

// The fast path of every fold: toLowerCase, and if that gives a plain ASCII
// name, it is the answer (a few non-ASCII letters lower-case to ASCII, such as
// the Kelvin sign to k: matching them is wider than SQLite, never narrower).

/** SQLite: ASCII letters fold, nothing else. */
const foldSqlite: Fold = (name) => {
  const lower = name.toLowerCase();
  return PLAIN.test(lower) ? lower : asciiFold(name);
};

/** PostgreSQL: ASCII fold (wider than quoted identifiers), NAMEDATALEN truncation. */
const foldPostgres: Fold = (name) => {
  const lower = name.toLowerCase();
  return PLAIN.test(lower) ? lower : truncateBytes(asciiFold(name));
};

/** MySQL/MariaDB and unknown dialects: Unicode case, accents, compatibility forms, trailing spaces. */
const foldWide: Fold = (name) => {
  const lower = name.toLowerCase();
  if (PLAIN.test(lower)) return lower;
  const wide = name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/ı/g, 'i')
    .replace(/ß/g, 's')
    .replace(/\s+$/u, '');
  return truncateBytes(wide);
};

const FOLDS: Readonly<Record<SqlDialectName, Fold>> = { sqlite: foldSqlite, postgres: foldPostgres, mysql: foldWide };

// A raw fragment is scanned word by word: a name is a run of letters, digits,
// `_` and `$` (quotes, brackets, dots, spaces and comments all split words, as
// they do in SQL). PostgreSQL's U&"..." escapes can spell any name: refused.
const WORD = /[\p{L}\p{N}_$]+/gu;
const UNICODE_ESCAPE = /u&\s*["']/i;

// Functions and tables that run SQL built from text, or hold copies of column
// values (planner statistics): a tenant table's name need not appear to read
// it. Refused in raw SQL on a scoped instance, whatever the query touches.
const DANGEROUS = new Set([
  'query_to_xml', 'query_to_xml_and_xmlschema', 'query_to_xmlschema', 'cursor_to_xml', 'cursor_to_xmlschema',
  'table_to_xml', 'table_to_xml_and_xmlschema', 'table_to_xmlschema', 'schema_to_xml', 'schema_to_xml_and_xmlschema',
  'schema_to_xmlschema', 'database_to_xml', 'database_to_xml_and_xmlschema', 'database_to_xmlschema', 'ts_stat',
  'dblink', 'dblink_exec', 'dblink_open', 'dblink_fetch', 'dblink_send_query', 'pg_read_file', 'pg_read_binary_file', 'lo_import',
  'pg_stats', 'pg_stats_ext', 'pg_stats_ext_exprs', 'pg_statistic', 'pg_statistic_ext_data',
  'prepare', 'execute', 'column_statistics', 'column_stats', 'sqlite_dbpage', 'dbstat', 'sqlite_stat4', 'load_extension',
]);

const DOLLAR_QUOTE = /^\$(?:[\p{L}_][\p{L}\p{N}_]*)?\$/u;

/**
 * What, in one raw SQL node's own text, could change the structure of the
 * query around it — end it, comment out the rest (the tenant condition comes
 * after the user's WHERE), or close the parentheses the plugin puts around the
 * user's condition — or that this scanner cannot read the way the database
 * does. Parameters are replaced by a space: kysely compiles them balanced, and
 * raw ones are checked on their own. Quotes follow the dialect: a character
 * that quotes in one dialect and not in another is refused when the dialect is
 * unknown.
 */
function rawStructureProblem(text: string, dialect: SqlDialectName | undefined): string | undefined {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i] as string;
    if (quote !== '') {
      if (c === quote) quote = '';
      // MySQL escapes with backslashes (unless NO_BACKSLASH_ESCAPES), PostgreSQL in E'' strings: ambiguous, refused.
      else if (c === '\\' && dialect !== 'sqlite' && (quote === "'" || quote === '"')) return 'a backslash in a quoted string';
      continue;
    }
    switch (c) {
      case "'":
      case '"':
        quote = c;
        break;
      case '`':
        if (dialect === 'mysql' || dialect === 'sqlite') quote = '`';
        else if (dialect === undefined) return 'a backtick';
        break;
      case '[':
        if (dialect === 'sqlite') quote = ']';
        else if (dialect === undefined) return 'a bracket';
        break;
      case '(':
        depth += 1;
        break;
      case ')':
        depth -= 1;
        if (depth < 0) return 'an unbalanced parenthesis';
        break;
      case ';':
        return 'a semicolon';
      case '-':
        if (text[i + 1] === '-') return 'a comment';
        break;
      case '/':
        if (text[i + 1] === '*') return 'a comment';
        break;
      case '*':
        if (text[i + 1] === '/') return 'a comment';
        break;
      case '#':
        if (dialect !== 'postgres' && dialect !== 'sqlite') return 'a comment';
        break;
      case '$':
        if (DOLLAR_QUOTE.test(text.slice(i, i + 80))) return 'a dollar-quoted string';
        break;
      default:
    }
  }
  if (quote !== '') return 'an unterminated quote';
  if (depth !== 0) return 'an unbalanced parenthesis';
  return undefined;
}

interface Scope {
  readonly dialect: SqlDialectName | undefined;
  readonly fold: Fold;
  /** Folded table name → null (any schema) or the folded schemas it is declared in. */
  readonly tables: ReadonlyMap<string, ReadonlySet<string> | null>;
  readonly column: string;
  readonly foldedColumn: string;
  readonly tenantId: () => string | undefined;
  /**
   * Nodes this plugin produced, with the tenant they were scoped to. A
   * subquery built with a scoped Kysely instance reaches the plugin twice
   * (once when it is embedded, once with the whole query): the second time
   * it is kept as is. Per plugin: another plugin's node (other tables) is
   * scoped again.
   */
  readonly scoped: WeakMap<OperationNode, string>;
}

/** Resolves an update key to a column name; null when it is raw SQL that cannot be read. */
function keyName(node: OperationNode): string | null {
  if (ColumnNode.is(node)) return node.column.name;
  if (IdentifierNode.is(node)) return node.name;
  if (ReferenceNode.is(node)) return ColumnNode.is(node.column) ? node.column.column.name : null;
  if (RawNode.is(node)) {
    // sql.ref('x') / sql.id('t', 'x') / sql.table(...): fragments are only '' and '.' around the parameters.
    if (node.parameters.length > 0) {
      if (!node.sqlFragments.every((f) => /^\s*\.?\s*$/.test(f))) return null;
      return keyName(node.parameters[node.parameters.length - 1] as OperationNode);
    }
    // sql`tenant_id`, sql.raw('"tenant_id"'), sql`t."TENANT_ID"`: one plain, possibly quoted and qualified, name.
    const match = /^\s*(?:(?:"[^"]*"|`[^`]*`|\[[^\]]*\]|[\p{L}\p{N}_$]+)\s*\.\s*)*(?:"([^"]*)"|`([^`]*)`|\[([^\]]*)\]|([\p{L}\p{N}_$]+))\s*$/u.exec(node.sqlFragments.join(''));
    return match === null ? null : ((match[1] ?? match[2] ?? match[3] ?? match[4]) as string);
  }
  return null;
}

class TenantScopeTransformer extends OperationNodeTransformer {
  readonly #scope: Scope;
  #tenant: string | undefined;
  #rawDepth = 0;
  /** Inside the value of a SET (update) item. */
  #inSetValue = false;
  /** A raw SET value names the tenant column (refused when the update is on a tenant table). */
  #setValueNamesColumn = false;
  touched = false;
  sawWith = false;
  /** The first structural problem met in raw SQL (refused when the query touches a tenant table). */
  rawProblem: string | undefined;

  constructor(scope: Scope) {
    super();
    this.#scope = scope;
  }

  /** Readies the transformer for the next query (one instance serves many: building one is costly). */
  reset(): void {
    this.#tenant = undefined;
    this.#rawDepth = 0;
    this.#inSetValue = false;
    this.#setValueNamesColumn = false;
    this.touched = false;
    this.sawWith = false;
    this.rawProblem = undefined;
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

  #isTenantName(name: string): boolean {
    return this.#scope.tables.has(this.#scope.fold(name));
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
    const schemas = this.#scope.tables.get(this.#scope.fold(node.table.identifier.name));
    if (schemas === undefined) return false;
    const schema = node.table.schema;
    const hit = schemas === null || schema === undefined || schemas.has(this.#scope.fold(schema.name));
    if (hit) this.touched = true;
    return hit;
  }

  #isTenantColumn(name: string): boolean {
    if (this.#scope.fold(name) === this.#scope.foldedColumn) return true;
    // set({ 'x.tenant_id': ... }) is one quoted name with a dot: refused all the same.
    return name.includes('.') && this.#scope.fold(name.slice(name.lastIndexOf('.') + 1)) === this.#scope.foldedColumn;
  }

  #condition(qualifier: TableNode): OperationNode {
    return BinaryOperationNode.create(
      ReferenceNode.create(ColumnNode.create(this.#scope.column), qualifier),
      OperatorNode.create('='),
      ValueNode.create(this.tenant()),
    );
  }

  /** Whether a value written to the tenant column is, provably, the current tenant. */
  #isCurrentTenant(value: OperationNode | unknown, primitive: boolean): boolean {
    if (primitive) return value === this.tenant();
    return value !== undefined && ValueNode.is(value as OperationNode) && (value as ValueNode).value === this.tenant();
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
    const tenant = this.#scope.scoped.get(node);
    if (tenant === undefined) return undefined;
    this.touched = true;
    if (tenant !== this.tenant()) refuse('A subquery scoped to another tenant was embedded in this query');
    return node;
  }

  #mark<T extends OperationNode>(node: T, changed: boolean): T {
    if (changed) this.#scope.scoped.set(node, this.tenant());
    return node;
  }

  // A query nested in raw SQL (sql`exists (${subquery})`) is scoped like any
  // other: the raw-identifier check applies to the raw SQL's own parameters only.
  #enterQuery(): number {
    const state = this.#rawDepth * 2 + (this.#inSetValue ? 1 : 0);
    this.#rawDepth = 0;
    this.#inSetValue = false;
    return state;
  }

  #leaveQuery(state: number): void {
    this.#rawDepth = state >> 1;
    this.#inSetValue = (state & 1) === 1;
  }

  /** Raw SQL after the tenant condition (modifyEnd) could continue it (`or true`, `, (another row)`). */
  #checkEndModifiers(modifiers: readonly OperationNode[] | undefined): void {
    for (const modifier of modifiers ?? []) {
      if (RawNode.is(modifier) || (modifier as { rawModifier?: OperationNode }).rawModifier !== undefined) {
        refuse('Raw SQL at the end of a query on a tenant table (modifyEnd) cannot be scoped: it follows the tenant condition');
      }
    }
  }

  protected override transformSelectQuery(node: SelectQueryNode, queryId?: QueryId): SelectQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const state = this.#enterQuery();
    const out = super.transformSelectQuery(node, queryId);
    this.#leaveQuery(state);
    const where = this.#itemConditions(out.from?.froms);
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    const changed = where.length > 0 || joins?.some((j, i) => j !== out.joins?.[i]) === true;
    if (changed) this.#checkEndModifiers(out.endModifiers);
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as SelectQueryNode, changed);
  }

  protected override transformUpdateQuery(node: UpdateQueryNode, queryId?: QueryId): UpdateQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const state = this.#enterQuery();
    const namesColumn = this.#setValueNamesColumn;
    this.#setValueNamesColumn = false;
    const out = super.transformUpdateQuery(node, queryId);
    const setValueNamesColumn = this.#setValueNamesColumn;
    this.#setValueNamesColumn = namesColumn;
    this.#leaveQuery(state);
    const targets = out.table === undefined ? [] : ListNode.is(out.table) ? out.table.items : [out.table];
    const where = this.#itemConditions(targets);
    if (where.length > 0) {
      // set({ body: sql`'x', tenant_id = 'other'` }) adds an assignment the key check cannot see.
      if (setValueNamesColumn) refuse(`A SET value written as raw SQL may not name ${this.#scope.column} in an update of a tenant table`);
      for (const update of out.updates ?? []) {
        // A key written as an expression is resolved to its column; raw SQL that cannot be read is refused.
        const column = keyName(update.column);
        if (column === null) refuse(`An update of a tenant table may not name a column with raw SQL: write the column name (it could be ${this.#scope.column})`);
        if (this.#isTenantColumn(column) && !this.#isCurrentTenant(update.value, false)) {
          refuse(`An update may not move rows of a tenant table to another tenant (it sets ${this.#scope.column})`);
        }
      }
    }
    where.push(...this.#itemConditions(out.from?.froms));
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    this.#checkEndModifiers(out.endModifiers);
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as UpdateQueryNode, true);
  }

  protected override transformDeleteQuery(node: DeleteQueryNode, queryId?: QueryId): DeleteQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const state = this.#enterQuery();
    const out = super.transformDeleteQuery(node, queryId);
    this.#leaveQuery(state);
    const where = [...this.#itemConditions(out.from.froms), ...this.#itemConditions(out.using?.tables)];
    const joins = this.#joins(out.joins, where, where.length > 0);
    if (where.length === 0 && joins === out.joins) return out;
    this.#checkEndModifiers(out.endModifiers);
    return this.#mark({ ...out, joins, where: this.#where(out.where, where) } as DeleteQueryNode, true);
  }

  protected override transformInsertQuery(node: InsertQueryNode, queryId?: QueryId): InsertQueryNode {
    const seen = this.#seen(node);
    if (seen) return seen;
    const state = this.#enterQuery();
    const out = super.transformInsertQuery(node, queryId);
    this.#leaveQuery(state);
    if (out.into === undefined || this.#tenantTable(out.into) === undefined) return out;
    const table = out.into.table.identifier.name;
    this.#checkEndModifiers(out.endModifiers);
    if (out.values === undefined || !ValuesNode.is(out.values)) refuse(`insert into ${table} from a select (or without values) cannot be scoped: insert values`);
    if (out.onConflict?.updates !== undefined) refuse(`insert into ${table} ... on conflict do update cannot be scoped: the conflicting row may belong to another tenant`);
    if (out.onDuplicateKey !== undefined) refuse(`insert into ${table} ... on duplicate key update cannot be scoped: the conflicting row may belong to another tenant`);
    if (out.replace === true || out.orAction?.action === 'replace') refuse(`replace into ${table} cannot be scoped: it deletes the conflicting row, whichever tenant owns it`);
    const tenant = this.tenant();
    const columns = out.columns ?? [];
    let index = -1;
    for (let i = 0; i < columns.length; i += 1) {
      if (!this.#isTenantColumn((columns[i] as ColumnNode).column.name)) continue;
      // tenant_id and TENANT_ID in one insert: the database would take either (or refuse); so do we.
      if (index !== -1) refuse(`insert into ${table} names the tenant column ${this.#scope.column} twice`);
      index = i;
    }
    if (index !== -1) {
      for (const row of out.values.values) {
        const primitive = PrimitiveValueListNode.is(row);
        if (!this.#isCurrentTenant(row.values[index], primitive)) refuse(`insert into ${table} names another tenant in ${this.#scope.column}`);
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

  protected override transformDropTable(node: DropTableNode, queryId?: QueryId): DropTableNode {
    if (this.#isTenantTable(node.table)) refuse('Dropping a tenant table drops every tenant\'s rows: do it in unscoped(db) migrations');
    return super.transformDropTable(node, queryId);
  }

  protected override transformAlterTable(node: AlterTableNode, queryId?: QueryId): AlterTableNode {
    if (this.#isTenantTable(node.table)) refuse('Altering a tenant table changes every tenant\'s rows: do it in unscoped(db) migrations');
    return super.transformAlterTable(node, queryId);
  }

  protected override transformWith(node: WithNode, queryId?: QueryId): WithNode {
    this.sawWith = true;
    return super.transformWith(node, queryId);
  }

  /** The words of raw SQL text: tenant tables and dangerous functions are refused; the tenant column is noted in SET values. */
  #checkRawWords(text: string): void {
    if (UNICODE_ESCAPE.test(text)) refuse('Raw SQL with U&"..." escapes cannot be checked for tenant table names: write names plainly');
    for (const word of text.match(WORD) ?? []) {
      const folded = this.#scope.fold(word);
      if (this.#scope.tables.has(folded)) refuse(RAW_REFUSAL);
      if (DANGEROUS.has(folded)) refuse(`Raw SQL calling ${word} can read tables it does not name: use unscoped(db)`);
      if (this.#inSetValue && folded === this.#scope.foldedColumn) this.#setValueNamesColumn = true;
    }
  }

  // eb.fn(name) prints its name as written, unquoted: it is raw SQL too.
  protected override transformFunction(node: FunctionNode, queryId?: QueryId): FunctionNode {
    this.#checkRawWords(node.func);
    this.rawProblem ??= rawStructureProblem(node.func, this.#scope.dialect);
    return super.transformFunction(node, queryId);
  }

  protected override transformAggregateFunction(node: AggregateFunctionNode, queryId?: QueryId): AggregateFunctionNode {
    this.#checkRawWords(node.func);
    this.rawProblem ??= rawStructureProblem(node.func, this.#scope.dialect);
    return super.transformAggregateFunction(node, queryId);
  }

  protected override transformRaw(node: RawNode, queryId?: QueryId): RawNode {
    const text = node.sqlFragments.length === 1 ? (node.sqlFragments[0] as string) : node.sqlFragments.join(' ');
    this.#checkRawWords(text);
    this.rawProblem ??= rawStructureProblem(text, this.#scope.dialect);
    // Identifiers among the parameters (sql.table(), sql.id(), sql.ref()) are checked in transformIdentifier.
    this.#rawDepth += 1;
    const out = super.transformRaw(node, queryId);
    this.#rawDepth -= 1;
    return out;
  }

  protected override transformColumnUpdate(node: ColumnUpdateNode, queryId?: QueryId): ColumnUpdateNode {
    const column = this.transformNode(node.column, queryId);
    const inSetValue = this.#inSetValue;
    this.#inSetValue = true;
    const value = this.transformNode(node.value, queryId);
    this.#inSetValue = inSetValue;
    return ColumnUpdateNode.create(column, value);
  }

  protected override transformReference(node: ReferenceNode, queryId?: QueryId): ReferenceNode {
    // sql.ref('orders.total') in raw SQL names a column, whose table qualifier
    // cannot be a FROM item; but sql.ref('public.orders') compiles to
    // "public"."orders": its column part is checked.
    if (this.#rawDepth === 0 || node.table === undefined) return super.transformReference(node, queryId);
    if (ColumnNode.is(node.column) && this.#isTenantRawName(node.column.column.name)) refuse(RAW_REFUSAL);
    if (this.#inSetValue && ColumnNode.is(node.column) && this.#isTenantColumn(node.column.column.name)) this.#setValueNamesColumn = true;
    const depth = this.#rawDepth;
    this.#rawDepth = 0;
    const out = super.transformReference(node, queryId);
    this.#rawDepth = depth;
    return out;
  }

  /** A name in raw SQL: sql.id('public.orders') is one quoted name, "public.orders": its parts are checked too. */
  #isTenantRawName(name: string): boolean {
    if (this.#isTenantName(name)) return true;
    return name.includes('.') && name.split('.').some((part) => this.#isTenantName(part));
  }

  protected override transformIdentifier(node: IdentifierNode, queryId?: QueryId): IdentifierNode {
    if (this.#rawDepth > 0) {
      if (this.#isTenantRawName(node.name)) refuse(RAW_REFUSAL);
      if (this.#inSetValue && this.#isTenantColumn(node.name)) this.#setValueNamesColumn = true;
    }
    return super.transformIdentifier(node, queryId);
  }
}

interface ScopePlugin extends KyselyPlugin {
  readonly [BRAND]: true;
  readonly [LAST]: string | null;
  readonly tenantIdSource: () => string | undefined;
}

/**
 * The row-level isolation plugin: a `KyselyPlugin` that, for the declared
 * tenant tables, adds `<table or alias>.<column> = <current tenant>` to every
 * SELECT, UPDATE and DELETE (FROM, JOINs — in their ON, so a LEFT JOIN stays
 * one — USING, `updateTable … from`, subqueries and set operations), and sets
 * the column on INSERT, refusing an insert that names another tenant.
 *
 * Table and column names are matched the way the database matches them, or
 * wider (see `dialect`): `selectFrom('ORDERS')` on SQLite is scoped, and
 * `set({ TENANT_ID: 'other' })` is refused.
 *
 * Refused with a `TenantError` `isolation_violation` instead of run, when a
 * tenant table is involved: raw `sql` naming a tenant table, insert from a
 * select, `on conflict do update` / `on duplicate key update`, `replace`,
 * CTEs (`with`), `merge`, RIGHT/FULL joins, `drop table` / `alter table`,
 * inserts and updates that set the tenant column (in any spelling) to
 * anything but the current tenant, and update keys written as raw SQL that
 * cannot be resolved to a column. With no tenant in context a query on a
 * tenant table throws `tenant_context_missing`. Queries that touch no tenant
 * table pass unchanged.
 *
 * A bare plugin only sees queries that kysely compiles: a `CompiledQuery`
 * passed to `db.executeQuery()` does not go through plugins. Use
 * {@link withTenantScope}, which adds this plugin and refuses such queries.
 *
 * @example
 * ```ts
 * import { tenantScopePlugin } from '@tenant/store-sql';
 *
 * const scopedDb = db.withPlugin(tenantScopePlugin({ tables: ['orders', 'order_items'], dialect: 'postgres' }));
 * await runWithTenant(acme, () => scopedDb.selectFrom('orders').selectAll().execute());
 * // select * from "orders" where "orders"."tenant_id" = $1   -- ['acme']
 * ```
 */
export function tenantScopePlugin(options: TenantScopeOptions): KyselyPlugin {
  if (typeof options !== 'object' || options === null || !Array.isArray(options.tables) || options.tables.length === 0) {
    throw new TypeError('[@tenant/store-sql] tenantScopePlugin needs { tables: [...] }, the tenant tables');
  }
  const dialect = options.dialect;
  if (dialect !== undefined && dialect !== 'postgres' && dialect !== 'mysql' && dialect !== 'sqlite') {
    throw new TypeError('[@tenant/store-sql] dialect must be postgres, mysql or sqlite');
  }
  const fold = FOLDS[dialect ?? 'mysql'];
  const tables = new Map<string, Set<string> | null>();
  for (const table of options.tables) {
    const parts = typeof table === 'string' ? table.split('.') : [];
    if (parts.length === 1) {
      tables.set(fold(checkIdentifier(parts[0], 'a tenant table name')), null);
    } else if (parts.length === 2) {
      const schema = fold(checkIdentifier(parts[0], 'a schema name'));
      const name = fold(checkIdentifier(parts[1], 'a tenant table name'));
      const schemas = tables.get(name);
      if (schemas === undefined) tables.set(name, new Set([schema]));
      else if (schemas !== null) schemas.add(schema);
    } else {
      throw new TypeError('[@tenant/store-sql] a tenant table name must be table or schema.table');
    }
  }
  const column = checkIdentifier(options.column ?? 'tenant_id', 'column');
  const tenantId = options.tenantId ?? currentTenantId;
  if (typeof tenantId !== 'function') throw new TypeError('[@tenant/store-sql] tenantId must be a function');
  const scope: Scope = { dialect, fold, tables, column, foldedColumn: fold(column), tenantId, scoped: new WeakMap() };
  // transformQuery is synchronous, so one transformer serves every query; a
  // re-entrant call (none is known) would get a fresh one.
  const shared = new TenantScopeTransformer(scope);
  let busy = false;
  const plugin = {
    [BRAND]: true,
    [LAST]: null as string | null,
    tenantIdSource: tenantId,
    transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
      const transformer = busy ? new TenantScopeTransformer(scope) : shared;
      const owner = !busy;
      busy = true;
      try {
        transformer.reset();
        plugin[LAST] = null;
        const node = transformer.transformNode(args.node, args.queryId);
        if (transformer.touched && transformer.sawWith) {
          refuse('A query with a CTE (with) on a tenant table cannot be scoped: use a subquery, or unscoped(db)');
        }
        if (transformer.touched && transformer.rawProblem !== undefined) {
          refuse(`Raw SQL in a query on a tenant table may not contain ${transformer.rawProblem}: it could end the query, comment out or escape the tenant condition`);
        }
        plugin[LAST] = transformer.touched ? transformer.tenant() : null;
        return node;
      } finally {
        if (owner) busy = false;
      }
    },
    transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
      return Promise.resolve(args.result);
    },
  };
  return plugin as KyselyPlugin;
}

function isScopePlugin(plugin: KyselyPlugin): plugin is ScopePlugin {
  return (plugin as unknown as Record<symbol, unknown>)[BRAND] === true;
}

// ---------------------------------------------------------------------------
// The executor guard. Kysely runs every query of an instance — builders,
// sql`...`.execute(db), db.executeQuery(), connection(), transaction(),
// startTransaction() — through its executor's executeQuery (or stream), and
// derives the executor of a connection, transaction or plugin change through
// withConnectionProvider / withPlugin(s) / withPluginAtFront. The guard patches
// those methods on the scoped instance's executor (and on every executor
// derived from it): transformQuery + compileQuery mark the compiled queries
// that went through the plugin, and executeQuery/stream refuse any other.
// withoutPlugins() (unscoped) returns an executor without the guard.

interface Guard {
  readonly plugin: ScopePlugin;
  /**
   * The root node the plugin chain produced last, and the tenant it was
   * scoped to (null: no tenant table). kysely compiles a node right after
   * transforming it (`compileQuery(transformQuery(node))`), so one slot
   * suffices; a node compiled later is not marked, and refused (fail closed).
   */
  lastNode: object | undefined;
  lastTenant: string | null;
  /** Compiled queries built from such nodes → the tenant. */
  readonly checked: WeakMap<object, string | null>;
}

const GUARDED = Symbol('@tenant/store-sql.guarded');

function checkCompiled(guard: Guard, compiled: CompiledQuery): void {
  const tenant = typeof compiled === 'object' && compiled !== null ? guard.checked.get(compiled) : undefined;
  if (tenant === undefined) {
    refuse('executeQuery of a compiled query that did not go through the tenant scope (CompiledQuery.raw, or one compiled by another Kysely instance): build it with this instance, or run it with unscoped(db)');
  }
  if (tenant === null) return;
  const current = guard.plugin.tenantIdSource();
  if (typeof current !== 'string' || current.length === 0) {
    throw new TenantError('tenant_context_missing', '[@tenant/store-sql] A compiled query on a tenant table ran with no tenant in context: run it inside runWithTenant()');
  }
  if (current !== tenant) refuse('A query compiled for another tenant cannot run in this tenant\'s context: compile it again');
}

function guardExecutor<E extends QueryExecutor>(executor: E, guard: Guard): E {
  if ((executor as unknown as Record<symbol, unknown>)[GUARDED] === guard) return executor;
  const inner = {
    transformQuery: executor.transformQuery,
    compileQuery: executor.compileQuery,
    executeQuery: executor.executeQuery,
    stream: executor.stream,
    withPlugin: executor.withPlugin,
    withPlugins: executor.withPlugins,
    withPluginAtFront: executor.withPluginAtFront,
    withConnectionProvider: executor.withConnectionProvider,
  };
  const methods: Partial<Record<keyof QueryExecutor, unknown>> = {
    transformQuery(node: RootOperationNode, queryId: QueryId) {
      guard.lastNode = undefined;
      const out = inner.transformQuery.call(executor, node, queryId);
      guard.lastNode = out;
      guard.lastTenant = guard.plugin[LAST];
      return out;
    },
    compileQuery(node: RootOperationNode, queryId: QueryId) {
      const compiled = inner.compileQuery.call(executor, node, queryId);
      if (node === guard.lastNode) {
        // kysely freezes the compiled query but not its parameter array (typed readonly): the tenant is in there.
        if (Array.isArray(compiled.parameters)) Object.freeze(compiled.parameters);
        guard.checked.set(compiled, guard.lastTenant);
      }
      return compiled;
    },
    executeQuery(compiled: CompiledQuery) {
      try {
        checkCompiled(guard, compiled);
      } catch (error) {
        return Promise.reject(error);
      }
      return inner.executeQuery.call(executor, compiled);
    },
    stream(compiled: CompiledQuery, chunkSize: number) {
      checkCompiled(guard, compiled);
      return inner.stream.call(executor, compiled, chunkSize);
    },
    withPlugin: (...args: Parameters<QueryExecutor['withPlugin']>) => guardExecutor(inner.withPlugin.apply(executor, args), guard),
    withPlugins: (...args: Parameters<QueryExecutor['withPlugins']>) => guardExecutor(inner.withPlugins.apply(executor, args), guard),
    withPluginAtFront: (...args: Parameters<QueryExecutor['withPluginAtFront']>) => guardExecutor(inner.withPluginAtFront.apply(executor, args), guard),
    withConnectionProvider: (...args: Parameters<QueryExecutor['withConnectionProvider']>) => guardExecutor(inner.withConnectionProvider.apply(executor, args), guard),
  };
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(executor, name, { value, configurable: true, writable: true, enumerable: false });
  }
  Object.defineProperty(executor, GUARDED, { value: guard });
  return executor;
}

function tryDetectDialect(db: AnyKysely): SqlDialectName | undefined {
  try {
    return detectDialect(db);
  } catch {
    return undefined; // an unknown adapter: the widest matching rules
  }
}

/**
 * Returns `db` with the row-level plugin added: the tenant-scoped handle that
 * application code should use. The dialect is detected from `db` (pass
 * `dialect` for a custom adapter; an unknown one gets the widest matching
 * rules).
 *
 * Every path of the returned instance and of everything derived from it
 * (`connection()`, `transaction()`, `startTransaction()`, `withPlugin()`,
 * `withSchema()`) runs only queries that went through the plugin:
 * `db.executeQuery(CompiledQuery.raw(...))`, a query compiled by another
 * Kysely instance, or one compiled in another tenant's context is refused
 * with `isolation_violation` (`tenant_context_missing` with no tenant) before
 * it reaches the database.
 *
 * @example
 * ```ts
 * import { withTenantScope } from '@tenant/store-sql';
 *
 * export const scopedDb = withTenantScope(db, { tables: ['orders'] });
 * ```
 */
export function withTenantScope<DB>(db: Kysely<DB>, options: TenantScopeOptions): Kysely<DB> {
  const dialect = options?.dialect ?? tryDetectDialect(db as AnyKysely);
  const plugin = tenantScopePlugin({ ...options, ...(dialect === undefined ? {} : { dialect }) }) as ScopePlugin;
  const out = db.withPlugin(plugin);
  guardExecutor(out.getExecutor(), { plugin, lastNode: undefined, lastTenant: null, checked: new WeakMap() });
  return out;
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
