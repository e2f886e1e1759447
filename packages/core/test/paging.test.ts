import { describe, expect, it } from 'vitest';
import { PAGE_LIMITS, createTenantIdValidator, decodeCursor, encodeCursor, pageLimit, validateTenantId } from '../src/index.js';
import { fieldsOf, thrown } from './fixtures-a/errors.js';

describe('pageLimit', () => {
  it('defaults to 50 and accepts 1 to 1000', () => {
    expect(PAGE_LIMITS).toEqual({ default: 50, max: 1000 });
    expect(Object.isFrozen(PAGE_LIMITS)).toBe(true);
    expect(pageLimit(undefined)).toBe(50);
    expect(pageLimit(1)).toBe(1);
    expect(pageLimit(1000)).toBe(1000);
  });

  it.each([0, -1, 1001, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number])('refuses %j', (limit) => {
    const error = thrown(() => pageLimit(limit), 'config_invalid');
    expect(fieldsOf(error)).toEqual({ limit: 'must be an integer from 1 to 1000' });
  });
});

describe('cursors', () => {
  it('round-trip an id as opaque URL-safe text', () => {
    for (const id of ['a', 'acme', 'tenant-42_x', 'z'.repeat(64)]) {
      const cursor = encodeCursor(id);
      expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(cursor).not.toContain(id);
      expect(decodeCursor(cursor, validateTenantId)).toBe(id);
    }
  });

  it.each([
    ['an empty cursor', ''],
    ['non-base64url characters', 'YWNtZQ=='],
    ['a slash', 'a/b'],
    ['an overlong cursor', 'a'.repeat(401)],
    ['an encoded invalid id', encodeCursor('../etc')],
    ['an encoded upper-case id', encodeCursor('ACME')],
    ['an encoded control character', encodeCursor('acme\n')],
    ['not a string', 42 as unknown as string],
  ])('refuses %s with config_invalid', (_label, cursor) => {
    const error = thrown(() => decodeCursor(cursor, validateTenantId), 'config_invalid');
    expect(fieldsOf(error)).toEqual({ cursor: 'is not a cursor from a previous page' });
    expect(error.cause).toBeDefined();
  });

  it('validates with the given id format', () => {
    const validate = createTenantIdValidator({ pattern: /^[A-Z]+$/ });
    expect(decodeCursor(encodeCursor('ACME'), validate)).toBe('ACME');
    thrown(() => decodeCursor(encodeCursor('acme'), validate), 'config_invalid');
  });
});
