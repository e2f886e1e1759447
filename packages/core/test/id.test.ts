import { describe, expect, it } from 'vitest';
import { DEFAULT_TENANT_ID_PATTERN, createTenantIdValidator, isValidTenantId, validateTenantId } from '../src/index.js';
import { thrown } from './fixtures-a/errors.js';

const HOSTILE: readonly (readonly [string, unknown])[] = [
  ['empty', ''],
  ['65 characters', 'a'.repeat(65)],
  ['very long', 'a'.repeat(10_000)],
  ['NUL', 'acme\0'],
  ['NUL inside', 'ac\0me'],
  ['newline', 'acme\n'],
  ['CRLF injection', 'acme\r\nx-admin: 1'],
  ['carriage return', 'acme\r'],
  ['tab', 'ac\tme'],
  ['DEL', 'acme\x7f'],
  ['C1 control', 'acme\u0085'],
  ['escape sequence', '\u001b[31macme'],
  ['Cyrillic a look-alike', '\u0430cme'],
  ['Greek omicron look-alike', 'gl\u03bfbex'],
  ['fullwidth letters', '\uff41\uff43\uff4d\uff45'],
  ['Kelvin sign', '\u212aey'],
  ['dotless i', 'in\u0131tech'],
  ['accented letter', 'acm\u00e9'],
  ['zero-width space', 'ac\u200bme'],
  ['zero-width joiner', 'ac\u200dme'],
  ['right-to-left override', 'acme\u202egnp'],
  ['byte order mark', '\ufeffacme'],
  ['word joiner', 'ac\u2060me'],
  ['emoji', 'acme\u{1f600}'],
  ['lone high surrogate', 'acme\ud800'],
  ['lone low surrogate', '\udc00acme'],
  ['space', 'ac me'],
  ['leading space', ' acme'],
  ['trailing space', 'acme '],
  ['no-break space', 'ac\u00a0me'],
  ['ideographic space', 'ac\u3000me'],
  ['line separator', 'ac\u2028me'],
  ['slash', 'acme/globex'],
  ['backslash', 'acme\\globex'],
  ['dot', 'acme.com'],
  ['colon', 'acme:1'],
  ['semicolon', 'acme;drop'],
  ['comma', 'acme,globex'],
  ['parent directory', '..'],
  ['path traversal', '../etc/passwd'],
  ['windows traversal', '..\\..\\windows'],
  ['encoded traversal', '%2e%2e'],
  ['encoded slash', 'acme%2fglobex'],
  ['single quote', "acme'"],
  ['SQL injection', "acme' OR '1'='1"],
  ['double quote', 'acme"'],
  ['SQL comment', 'acme--'],
  ['SQL statement and comment', 'ac;--me'],
  ['block comment', 'acme/*x*/'],
  ['block comment end', '*/acme'],
  ['star', 'acme*'],
  ['wildcard percent', 'acme%'],
  ['glob', 'tenant-?'],
  ['upper case', 'Acme'],
  ['all upper case', 'ACME'],
  ['leading dash', '-acme'],
  ['trailing dash', 'acme-'],
  ['leading underscore', '_acme'],
  ['trailing underscore', 'acme_'],
  ['only a dash', '-'],
  ['only an underscore', '_'],
  ['at sign', 'acme@evil'],
  ['template', '${acme}'],
  ['html', '<script>'],
  ['number', 42],
  ['zero', 0],
  ['NaN', Number.NaN],
  ['bigint', 42n],
  ['boolean', true],
  ['null', null],
  ['undefined', undefined],
  ['object', { id: 'acme' }],
  ['object with toString', { toString: () => 'acme' }],
  ['array', ['acme']],
  ['String object', Object('acme') as unknown],
  ['symbol', Symbol('acme')],
  ['function', () => 'acme'],
];

describe('validateTenantId', () => {
  it.each(HOSTILE)('refuses %s with tenant_invalid', (_label, id) => {
    const error = thrown(() => validateTenantId(id));
    expect(error.code).toBe('tenant_invalid');
    expect(error.status).toBe(400);
    expect(error.message).toMatch(/^\[@tenant\/core\] Invalid tenant id: /);
    expect(isValidTenantId(id)).toBe(false);
  });

  it('never echoes the refused value in the message', () => {
    for (const [, id] of HOSTILE) {
      if (typeof id !== 'string' || id.length < 3) continue;
      const error = thrown(() => validateTenantId(id));
      expect(error.message).not.toContain(id);
    }
  });

  it('says why an id is refused', () => {
    expect(thrown(() => validateTenantId('')).message).toContain('empty');
    expect(thrown(() => validateTenantId('a'.repeat(65))).message).toContain('longer than 64');
    expect(thrown(() => validateTenantId('ac\nme')).message).toContain('position 2');
    expect(thrown(() => validateTenantId('Acme')).message).toContain('lower-case');
    expect(thrown(() => validateTenantId(null)).message).toContain('got null');
    expect(thrown(() => validateTenantId(7)).message).toContain('got number');
    expect(thrown(() => validateTenantId(['a'])).message).toContain('got object');
  });

  it.each(['a', '0', 'acme', 'acme-corp', 'acme_corp', 'a-b_c-d', 'tenant-42', '42', 'a1', 'a'.repeat(64), 'x--y', 'x__y'])(
    'accepts %j and returns it unchanged',
    (id) => {
      expect(validateTenantId(id)).toBe(id);
      expect(isValidTenantId(id)).toBe(true);
    },
  );

  it('exports the default pattern', () => {
    expect(DEFAULT_TENANT_ID_PATTERN.test('acme')).toBe(true);
    expect(DEFAULT_TENANT_ID_PATTERN.test('Acme')).toBe(false);
  });
});

describe('createTenantIdValidator', () => {
  it('applies a custom pattern and length', () => {
    const validate = createTenantIdValidator({ pattern: /^[0-9a-f]{32}$/, maxLength: 32 });
    const id = '0123456789abcdef0123456789abcdef';
    expect(validate(id)).toBe(id);
    expect(thrown(() => validate('acme')).message).toContain('matching /^[0-9a-f]{32}$/');
    expect(thrown(() => validate(`${id}0`)).message).toContain('longer than 32');
  });

  it('uses the given description in messages', () => {
    const validate = createTenantIdValidator({ pattern: /^t[0-9]+$/, description: 'a "t" and digits' });
    expect(validate('t1')).toBe('t1');
    expect(thrown(() => validate('x1')).message).toContain('a "t" and digits');
  });

  it('still refuses control, whitespace and invisible characters whatever the pattern', () => {
    const validate = createTenantIdValidator({ pattern: /^.+$/su });
    expect(validate('Any.Thing/Goes')).toBe('Any.Thing/Goes');
    for (const id of ['a\0b', 'a\nb', 'a b', 'a\u200bb', '\ufeffa', 'a\u202eb', 'a\u0085b', 'a\tb', 'a\ud800', 'a\udc00', '\udc00\ud800']) {
      expect(thrown(() => validate(id)).code).toBe('tenant_invalid');
    }
    // A well-formed astral character is not a surrogate problem.
    expect(validate('a\u{1f600}')).toBe('a\u{1f600}');
    expect(thrown(() => validate('')).code).toBe('tenant_invalid');
    expect(thrown(() => validate(1)).code).toBe('tenant_invalid');
  });

  it('allows longer ids up to 255', () => {
    const validate = createTenantIdValidator({ maxLength: 255 });
    expect(validate('a'.repeat(255))).toHaveLength(255);
    expect(thrown(() => validate('a'.repeat(256))).code).toBe('tenant_invalid');
  });

  it('keeps no state between calls (case-insensitive pattern)', () => {
    const validate = createTenantIdValidator({ pattern: /^[a-z]+$/i });
    for (let i = 0; i < 5; i += 1) expect(validate('Acme')).toBe('Acme');
  });

  it.each([0, -1, 1.5, 256, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number])(
    'refuses maxLength %j with a TypeError',
    (maxLength) => {
      expect(() => createTenantIdValidator({ maxLength })).toThrow(TypeError);
      expect(() => createTenantIdValidator({ maxLength })).toThrow(/maxLength must be an integer from 1 to 255/);
    },
  );

  it.each([/^[a-z]+$/g, /^[a-z]+$/y])('refuses the stateful pattern %s', (pattern) => {
    expect(() => createTenantIdValidator({ pattern })).toThrow(TypeError);
    expect(() => createTenantIdValidator({ pattern })).toThrow(/g or y flag/);
  });

  it('refuses a pattern that is not a RegExp', () => {
    const pattern = '^[a-z]+$' as unknown as RegExp;
    expect(() => createTenantIdValidator({ pattern })).toThrow(TypeError);
    expect(() => createTenantIdValidator({ pattern })).toThrow(/must be a RegExp/);
  });
});
