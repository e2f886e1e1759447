import { describe, expect, it } from 'vitest';
import { escapeKeyPart } from '../src/keys.js';

// The obvious definition, to check the fast one against.
const reference = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, (u) => `%${u.charCodeAt(0).toString(16).padStart(4, '0')}`);

describe('escapeKeyPart', () => {
  it('keeps safe strings and escapes everything else per UTF-16 unit', () => {
    expect(escapeKeyPart('tenant-1_a.b')).toBe('tenant-1_a.b');
    expect(escapeKeyPart('a:b')).toBe('a%003ab');
    expect(escapeKeyPart('%')).toBe('%0025');
    expect(escapeKeyPart('{x}')).toBe('%007bx%007d');
    expect(escapeKeyPart('\ud800')).toBe('%d800');
    expect(escapeKeyPart('😀')).toBe('%d83d%de00');
    expect(escapeKeyPart('')).toBe('');
  });

  it('matches the reference, is ASCII without separators, and is injective on random strings', () => {
    const seen = new Map<string, string>();
    for (let n = 0; n < 5_000; n += 1) {
      const length = Math.floor(Math.random() * 6);
      let s = '';
      for (let i = 0; i < length; i += 1) {
        const r = Math.random();
        s += String.fromCharCode(r < 0.4 ? 32 + Math.floor(Math.random() * 95) : r < 0.7 ? Math.floor(Math.random() * 0x10000) : [0x3a, 0x25, 0x7b, 0x7d, 0xd800, 0xdfff][Math.floor(Math.random() * 6)]!);
      }
      const escaped = escapeKeyPart(s);
      expect(escaped).toBe(reference(s));
      expect(escaped).toMatch(/^[A-Za-z0-9_.%-]*$/);
      const before = seen.get(escaped);
      if (before !== undefined) expect(before).toBe(s);
      seen.set(escaped, s);
    }
  });
});
