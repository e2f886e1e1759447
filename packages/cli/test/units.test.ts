// Pure logic, in-process: the URL forms, formula escaping and the output stream format.
import { describe, expect, it } from 'vitest';
import { CliError, EXIT_CODES, escapeFormula, parseStoreUrl, unescapeFormula } from '../src/index.js';
import { createOutput } from '../src/output.js';
import { toCliError } from '../src/errors.js';
import { TenantError } from '@tenant/core';

const sink = (isTTY = false) => {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 100, write: (c: string) => chunks.push(c), text: () => chunks.join('') };
};

describe('parseStoreUrl', () => {
  it('reads every URL form and refuses the others', () => {
    expect(parseStoreUrl('postgresql://u:secret@h/db', '/w')).toEqual({ dialect: 'postgres', url: 'postgresql://u:secret@h/db', label: 'postgresql://u:***@h/db' });
    expect(parseStoreUrl('mariadb://root@h:3306/db', '/w')).toMatchObject({ dialect: 'mysql', url: 'mysql://root@h:3306/db' });
    expect(parseStoreUrl('sqlite:data/t.db', '/w')).toMatchObject({ dialect: 'sqlite', file: '/w/data/t.db' });
    expect(parseStoreUrl('sqlite:///abs/t.db', '/w')).toMatchObject({ file: '/abs/t.db' });
    expect(parseStoreUrl('file:///abs/t%20x.db', '/w')).toMatchObject({ file: '/abs/t x.db' });
    expect(parseStoreUrl('./t.db', '/w')).toMatchObject({ file: '/w/t.db' });
    expect(parseStoreUrl('sqlite::memory:', '/w')).toMatchObject({ file: ':memory:' });
    for (const bad of ['', 'http://x/y', 'redis://x', 'sqlite:', 'postgres://:::@', 'mysql://h:99999/db', 'postgres://%zz@h/db', 'mariadb://[::1/db', 'file:///x%00.db']) {
      expect(() => parseStoreUrl(bad, '/w'), bad).toThrow(CliError);
      try {
        parseStoreUrl(bad, '/w');
      } catch (error) {
        expect((error as CliError).exitCode).toBe(EXIT_CODES.usage);
      }
    }
  });
});

describe('toCliError', () => {
  it("never passes on Node's or a driver's error code: the CLI's codes are its own", () => {
    const thrown = [
      Object.assign(new TypeError('Invalid URL'), { code: 'ERR_INVALID_URL' }),
      Object.assign(new Error("ENOENT: no such file or directory, open 'x'"), { code: 'ENOENT' }),
      Object.assign(new Error('duplicate key value violates unique constraint'), { code: '23505' }),
      Object.assign(new Error('UNIQUE constraint failed: t.id'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }),
      Object.assign(new Error('Unknown SSL profile'), { code: 'ER_UNKNOWN' }),
      new Error('no code at all'),
    ];
    for (const error of thrown) {
      const failure = toCliError(error);
      expect(failure.code, error.message).toBe('failed');
      expect(failure.exitCode).toBe(EXIT_CODES.failure);
      expect(failure.message).toBe(error.message);
    }
    // A login refused without a password is a backend that cannot be reached, as with a password.
    expect(toCliError(Object.assign(new Error("Access denied for user ''@'h'"), { code: 'ER_ACCESS_DENIED_NO_PASSWORD_ERROR' }))).toMatchObject({ code: 'unreachable', exitCode: EXIT_CODES.unreachable });
  });
});

describe('toCliError of a store that wraps its driver error', () => {
  it('reads the cause of a store_unavailable: unreachable, not migrated, or the cause as it is', () => {
    const wrap = (cause: Error) => new TenantError('store_unavailable', `[@tenant/store-sql] The database could not answer: ${cause.message}`, { cause });
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(toCliError(wrap(refused), { store: 'postgres://u:***@h/db' })).toMatchObject({
      code: 'unreachable',
      exitCode: EXIT_CODES.unreachable,
      message: 'cannot reach the store at postgres://u:***@h/db: connect ECONNREFUSED 127.0.0.1:1',
    });
    expect(toCliError(wrap(new Error('no such table: tenants')))).toMatchObject({ code: 'not_migrated', exitCode: EXIT_CODES.failure });
    expect(toCliError(wrap(new Error('syntax error at or near "x"')))).toMatchObject({ code: 'failed', message: 'syntax error at or near "x"' });
    // A store_unavailable of its own (a time limit, no cause) stays what it is.
    expect(toCliError(new TenantError('store_unavailable', '[@tenant/store-sql] The database gave no answer within 5 ms'))).toMatchObject({
      code: 'store_unavailable',
      exitCode: EXIT_CODES.unreachable,
      message: 'The database gave no answer within 5 ms',
    });
  });
});

describe('formula escaping', () => {
  it('escapes what a spreadsheet would run and undoes exactly that', () => {
    const cells = ['=1+1', '+1', '-1', '@x', '\tx', '\rx', "'=x", "''+x", "'plain", 'plain', '', 'a=b', "'"];
    for (const cell of cells) expect(unescapeFormula(escapeFormula(cell)), cell).toBe(cell);
    expect(cells.map(escapeFormula)).toEqual(["'=1+1", "'+1", "'-1", "'@x", "'\tx", "'\rx", "''=x", "'''+x", "'plain", 'plain', '', 'a=b', "'"]);
  });
});

describe('output', () => {
  it('draws a bar on a terminal, plain lines otherwise, nothing with --json', () => {
    const tty = sink(true);
    const bar = createOutput(sink(), tty, false).progress(4, 'migrating');
    bar.tick(1, 'acme');
    bar.tick(2, 'globex', 'boom');
    bar.done();
    expect(tty.text()).toContain('\r\x1b[2K[######------------------] 1/4 migrating acme');
    expect(tty.text()).toContain('\r\x1b[2Kglobex: boom\n');
    expect(tty.text().endsWith('\r\x1b[2K')).toBe(true);

    const plain = sink();
    const lines = createOutput(sink(), plain, false).progress(2, 'migrating');
    lines.tick(1, 'acme');
    lines.tick(2, 'globex', 'boom');
    expect(plain.text()).toBe('1/2 acme ok\n2/2 globex failed: boom\n');

    const quiet = sink();
    createOutput(sink(), quiet, true).progress(1, 'x').tick(1, 'acme');
    expect(quiet.text()).toBe('');
  });

  it('writes errors as one line, or one JSON line, with the row lines first', () => {
    const error = new CliError('import_invalid', '1 of 2 rows are invalid', EXIT_CODES.failure, { details: { rows: [{ row: 2 }] }, lines: ['row 2: bad'] });
    const human = sink();
    createOutput(sink(), human, false).error(error);
    expect(human.text()).toBe('row 2: bad\ntenant: 1 of 2 rows are invalid\n');
    const machine = sink();
    createOutput(sink(), machine, true).error(error);
    expect(machine.chunks).toHaveLength(1);
    expect(JSON.parse(machine.text())).toEqual({ error: { code: 'import_invalid', message: '1 of 2 rows are invalid', exitCode: 1, details: { rows: [{ row: 2 }] } } });
  });
});
