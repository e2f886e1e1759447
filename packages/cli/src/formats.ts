import { createTenantConfig, normalizeHost, TENANT_STATUSES, type TenantConfig, type TenantInput, type TenantStatus } from '@tenant/core';
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { CliError, EXIT_CODES, messageOf } from './errors.js';

/** The file formats of import and export. */
export type DataFormat = 'json' | 'csv';

/**
 * The CSV columns of `tenant export`, in order. `createdAt`, `updatedAt`,
 * `deletedAt` and `version` are written for reference and ignored on import.
 *
 * @example
 * ```ts
 * import { CSV_COLUMNS } from '@tenant/cli';
 *
 * CSV_COLUMNS.join(','); // 'id,name,status,plan,domains,quota,policy,metadata,createdAt,updatedAt,deletedAt,version'
 * ```
 */
export const CSV_COLUMNS = ['id', 'name', 'status', 'plan', 'domains', 'quota', 'policy', 'metadata', 'createdAt', 'updatedAt', 'deletedAt', 'version'] as const;

const WRITABLE = new Set(['id', 'name', 'status', 'plan', 'domains', 'quota', 'policy', 'metadata']);
const READ_ONLY = new Set(['createdAt', 'updatedAt', 'deletedAt', 'version']);

// A cell a spreadsheet would run as a formula: = + - @, tab or carriage
// return first, possibly behind quotes that were added by an earlier escape.
const FORMULA = /^'*[=+\-@\t\r]/;

/**
 * Makes a CSV cell safe to open in a spreadsheet: a cell that starts with
 * `=`, `+`, `-`, `@`, a tab or a carriage return (after any number of `'`)
 * gets one more `'` in front. {@link unescapeFormula} removes exactly that
 * one, so export then import gives back the same text.
 *
 * @example
 * ```ts
 * import { escapeFormula, unescapeFormula } from '@tenant/cli';
 *
 * escapeFormula('=HYPERLINK("http://x")'); // `'=HYPERLINK("http://x")`
 * unescapeFormula(escapeFormula("'=1")); // "'=1"
 * ```
 */
export function escapeFormula(cell: string): string {
  return FORMULA.test(cell) ? `'${cell}` : cell;
}

/** Undoes {@link escapeFormula}: removes the one `'` it added. */
export function unescapeFormula(cell: string): string {
  return cell.startsWith("'") && FORMULA.test(cell) ? cell.slice(1) : cell;
}

/** Tenants as CSV (RFC 4180: comma, `"` quoting, CRLF), with a header row and formula-safe cells. */
export function toCsv(tenants: readonly TenantConfig[]): string {
  const rows = tenants.map((t) =>
    [
      t.id,
      t.name ?? '',
      t.status,
      t.plan ?? '',
      t.domains.join(' '),
      JSON.stringify(t.quota),
      JSON.stringify(t.policy),
      JSON.stringify(t.metadata),
      t.createdAt,
      t.updatedAt,
      t.deletedAt ?? '',
      String(t.version),
    ].map(escapeFormula),
  );
  return stringify([[...CSV_COLUMNS], ...rows], { record_delimiter: 'windows', quoted_match: /^\s|\s$/ });
}

/** Tenants as a JSON array (what `import` reads back). */
export function toJson(tenants: readonly TenantConfig[]): string {
  return `${JSON.stringify(tenants, null, 2)}\n`;
}

/** One record of an import file, before validation. */
export interface RawRecord {
  /** 1-based position among the records (data rows of a CSV, items of a JSON array). */
  readonly row: number;
  /** The line where the record starts (CSV only). */
  readonly line?: number;
  readonly values: Readonly<Record<string, unknown>>;
  readonly source: DataFormat;
}

const invalidFile = (code: string, message: string, cause?: unknown) => new CliError(code, message, EXIT_CODES.failure, { cause });

/** Reads the records of a CSV file (with a header row). Throws one clear error for broken CSV. */
export function readCsv(text: string): RawRecord[] {
  let records: { record: string[]; info: { lines: number } }[];
  try {
    records = parse(text, { bom: true, info: true, skip_empty_lines: true, relax_column_count: false }) as unknown as typeof records;
  } catch (error) {
    throw invalidFile('csv_invalid', `the CSV is malformed: ${messageOf(error)}`, error);
  }
  const [head, ...rest] = records;
  if (head === undefined) return [];
  const header = head.record.map((h) => h.trim());
  const unknown = header.filter((h) => !WRITABLE.has(h) && !READ_ONLY.has(h));
  if (unknown.length > 0) throw invalidFile('csv_invalid', `unknown CSV column ${unknown.map((u) => JSON.stringify(u)).join(', ')}: the columns are ${CSV_COLUMNS.join(', ')}`);
  if (!header.includes('id')) throw invalidFile('csv_invalid', 'the CSV header has no id column');
  const dup = header.find((h, i) => header.indexOf(h) !== i);
  if (dup !== undefined) throw invalidFile('csv_invalid', `the CSV header names ${dup} twice`);
  return rest.map(({ record, info }, i) => {
    const values: Record<string, unknown> = {};
    header.forEach((h, j) => {
      values[h] = unescapeFormula(record[j] ?? '');
    });
    // info.lines is the line where the record ends; a record with quoted newlines starts earlier.
    const line = info.lines - record.reduce((n, cell) => n + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
    return { row: i + 1, line, values, source: 'csv' as const };
  });
}

/** Reads the records of a JSON file: an array of tenants, or `{ "tenants": [...] }`. */
export function readJson(text: string): RawRecord[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    throw invalidFile('json_invalid', `the JSON is malformed: ${messageOf(error)}`, error);
  }
  const list = Array.isArray(data) ? data : (data as { tenants?: unknown } | null)?.tenants;
  if (!Array.isArray(list)) throw invalidFile('json_invalid', 'the JSON must be an array of tenants, or an object with a "tenants" array');
  return list.map((item: unknown, i) => ({ row: i + 1, values: (typeof item === 'object' && item !== null && !Array.isArray(item) ? item : { __notAnObject: item }) as Record<string, unknown>, source: 'json' as const }));
}

/** A validated import record. */
export interface ImportRecord {
  readonly row: number;
  readonly line?: number;
  readonly id: string;
  /** The fields given (on update, only these change). */
  readonly input: TenantInput;
  /** The record asks for a soft-deleted tenant. */
  readonly deleted: boolean;
}

/** A record that failed validation. */
export interface RowError {
  readonly row: number;
  readonly line?: number;
  readonly id?: string;
  readonly message: string;
}

function parseJsonCell(name: string, cell: string): unknown {
  try {
    return JSON.parse(cell) as unknown;
  } catch (error) {
    throw new Error(`${name} is not valid JSON (${messageOf(error)})`);
  }
}

/** Turns one raw record into a tenant input, or throws an Error whose message says what is wrong. */
function toImportRecord(record: RawRecord, now: Date): ImportRecord {
  const { values, source } = record;
  if ('__notAnObject' in values) throw new Error('is not a JSON object');
  const input: Record<string, unknown> = {};
  let deleted = false;
  for (const [key, value] of Object.entries(values)) {
    if (READ_ONLY.has(key)) continue;
    if (!WRITABLE.has(key)) throw new Error(`${key} is not a tenant field (fields: ${[...WRITABLE].join(', ')})`);
    if (source === 'csv') {
      const cell = String(value);
      if (cell === '') continue; // an empty cell leaves the field unset
      if (key === 'domains') input[key] = cell.split(/[\s,;]+/).filter((d) => d !== '');
      else if (key === 'quota' || key === 'policy' || key === 'metadata') input[key] = parseJsonCell(key, cell);
      else input[key] = key === 'id' || key === 'status' ? cell.trim() : cell;
    } else if (value !== undefined) {
      input[key] = value;
    }
  }
  if (typeof input['id'] !== 'string' || input['id'] === '') throw new Error('id is missing');
  if (input['status'] !== undefined) {
    if (typeof input['status'] !== 'string' || !TENANT_STATUSES.includes(input['status'] as TenantStatus)) {
      throw new Error(`status must be one of ${TENANT_STATUSES.join(', ')}`);
    }
    if (input['status'] === 'deleted') {
      deleted = true;
      delete input['status'];
    }
  }
  // The store runs the same check: this one reports every bad row before anything is written.
  const check: Record<string, unknown> = { ...input };
  for (const key of ['name', 'plan']) if (check[key] === null) delete check[key];
  createTenantConfig(check as unknown as TenantInput, { now });
  const result: ImportRecord = { row: record.row, id: input['id'], input: input as unknown as TenantInput, deleted };
  return record.line === undefined ? result : { ...result, line: record.line };
}

/**
 * Validates every record: fields, tenant id format, status, JSON columns,
 * and ids or domains given twice in the file.
 */
export function validateRecords(records: readonly RawRecord[], now: Date = new Date()): { valid: ImportRecord[]; errors: RowError[] } {
  const valid: ImportRecord[] = [];
  const errors: RowError[] = [];
  const ids = new Map<string, number>();
  const domains = new Map<string, number>();
  for (const record of records) {
    const where = { row: record.row, ...(record.line === undefined ? {} : { line: record.line }) };
    const rawId = record.values['id'];
    const id = typeof rawId === 'string' && rawId !== '' ? { id: rawId.trim() } : {};
    try {
      const item = toImportRecord(record, now);
      const earlier = ids.get(item.id);
      if (earlier !== undefined) throw new Error(`id ${item.id} is already in row ${earlier}`);
      ids.set(item.id, record.row);
      for (const domain of item.input.domains ?? []) {
        const key = normalizeHost(domain) ?? domain.toLowerCase();
        const owner = domains.get(key);
        if (owner !== undefined) throw new Error(`domain ${domain} is already in row ${owner}`);
        domains.set(key, record.row);
      }
      valid.push(item);
    } catch (error) {
      errors.push({ ...where, ...id, message: messageOf(error) });
    }
  }
  return { valid, errors };
}

/** `row 3 (line 4, acme)` */
export function rowLabel(error: { row: number; line?: number; id?: string }): string {
  const extra = [error.line === undefined ? undefined : `line ${error.line}`, error.id].filter((x) => x !== undefined);
  return `row ${error.row}${extra.length > 0 ? ` (${extra.join(', ')})` : ''}`;
}
