import { describe, expect, it } from 'vitest';
import { normalizeHost } from '../src/index.js';

describe('normalizeHost', () => {
  it.each([
    ['acme.example.com', 'acme.example.com'],
    ['Acme.Example.COM', 'acme.example.com'],
    ['acme.example.com:8080', 'acme.example.com'],
    ['ACME.example.com:443', 'acme.example.com'],
    ['acme.example.com.', 'acme.example.com'],
    ['acme.example.com.:8080', 'acme.example.com'],
    ['  acme.example.com  ', 'acme.example.com'],
    ['localhost', 'localhost'],
    ['localhost:3000', 'localhost'],
    ['xn--bcher-kva.example', 'xn--bcher-kva.example'],
    ['a-b.c-d.example', 'a-b.c-d.example'],
    ['1acme.example.com', '1acme.example.com'],
    ['123.example.com', '123.example.com'],
    [`${'a'.repeat(63)}.com`, `${'a'.repeat(63)}.com`],
  ])('normalizes %j to %j', (raw, expected) => {
    expect(normalizeHost(raw)).toBe(expected);
  });

  it('accepts a name of 253 characters and refuses a longer one', () => {
    const label = 'a'.repeat(49);
    const name = [label, label, label, label, label].join('.'); // 249
    expect(normalizeHost(`${name}.com`)).toBe(`${name}.com`);
    expect(normalizeHost(`${name}.comm`)).toBeUndefined();
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['blank', '   '],
    ['only a port', ':8080'],
    ['only a dot', '.'],
    ['a non-numeric port', 'acme.com:http'],
    ['an empty port', 'acme.com:'],
    ['a six-digit port', 'acme.com:123456'],
    ['two ports', 'acme.com:80:80'],
    ['IPv6 literal', '[::1]'],
    ['IPv6 literal with port', '[::1]:8080'],
    ['bare IPv6', '::1'],
    ['full IPv6', '2001:db8::1'],
    ['IPv4', '127.0.0.1'],
    ['IPv4 with port', '10.0.0.1:80'],
    ['short IPv4', '127.1'],
    ['numeric top-level label', 'acme.123'],
    ['bare number', '2130706433'],
    ['empty label', 'acme..com'],
    ['leading dot', '.acme.com'],
    ['two trailing dots', 'acme.com..'],
    ['label starting with a dash', '-acme.com'],
    ['label ending with a dash', 'acme-.com'],
    ['label of 64 characters', `${'a'.repeat(64)}.com`],
    ['underscore', 'ac_me.com'],
    ['user-info', 'user@acme.com'],
    ['user-info trick', 'evil.com@acme.com'],
    ['path', 'acme.com/path'],
    ['path trick', 'evil.com/@acme'],
    ['query', 'acme.com?x=1'],
    ['fragment', 'acme.com#x'],
    ['backslash', 'acme.com\\evil'],
    ['inner space', 'acme .com'],
    ['tab', 'acme.com\t'],
    ['CRLF', 'acme.com\r\nx: 1'],
    ['NUL', 'acme.com\0'],
    ['percent-encoding', 'acme%2ecom'],
    ['scheme', 'http://acme.com'],
    ['comma list', 'acme.com, evil.com'],
    ['unicode', 'b\u00fccher.example'],
    ['Kelvin sign look-alike', '\u212aey.example.com'],
    ['Cyrillic look-alike', '\u0430cme.com'],
    ['dotted I', '\u0130nitech.com'],
    ['fullwidth dot', 'acme\uff0ecom'],
    ['over 260 characters', 'a'.repeat(261)],
  ])('refuses %s', (_label, raw) => {
    expect(normalizeHost(raw)).toBeUndefined();
  });

  it('refuses values that are not strings', () => {
    for (const raw of [null, 42, ['acme.com'], { host: 'acme.com' }]) {
      expect(normalizeHost(raw as unknown as string)).toBeUndefined();
    }
  });
});
