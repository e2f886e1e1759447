import { describe, expect, it } from 'vitest';
import { SpaceSaving } from '../src/space-saving.js';

describe('SpaceSaving', () => {
  it('counts exactly while under capacity', () => {
    const s = new SpaceSaving(10);
    for (let i = 0; i < 5; i++) s.add('a');
    s.add('b');
    expect(s.count('a')).toBe(5);
    expect(s.guaranteed('a')).toBe(5);
    expect(s.count('b')).toBe(1);
    expect(s.count('c')).toBe(0);
    expect(s.size).toBe(2);
  });

  it('keeps the heavy hitters among many one-off items, in bounded space', () => {
    const s = new SpaceSaving(50);
    const evicted: string[] = [];
    s.onEvict = (id) => evicted.push(id);
    for (let i = 0; i < 20_000; i++) {
      s.add(`once-${i}`);
      if (i % 4 === 0) s.add('heavy-1');
      if (i % 8 === 0) s.add('heavy-2');
    }
    expect(s.size).toBe(50);
    expect(s.guaranteed('heavy-1')).toBeGreaterThan(4_000);
    expect(s.count('heavy-1')).toBeGreaterThanOrEqual(5_000);
    expect(s.guaranteed('heavy-2')).toBeGreaterThan(2_000);
    expect(evicted).not.toContain('heavy-1');
    expect(evicted.length).toBeGreaterThan(19_000);
  });

  it('forgets an item and keeps the heap consistent', () => {
    const s = new SpaceSaving(3);
    for (const [id, n] of [['a', 3], ['b', 1], ['c', 2]] as const) for (let i = 0; i < n; i++) s.add(id);
    s.delete('b');
    s.delete('missing');
    expect(s.count('b')).toBe(0);
    expect(s.size).toBe(2);
    s.add('d');
    s.add('e'); // full again: evicts the least counted, which is d (1) rather than c (2)
    expect(s.count('d')).toBe(0);
    expect(s.count('e')).toBe(2);
    expect(s.guaranteed('e')).toBe(1);
    expect(s.count('a')).toBe(3);
    expect(s.count('c')).toBe(2);
  });
});

describe('SpaceSaving.halve', () => {
  it('halves counts and errors, keeping the order', () => {
    const s = new SpaceSaving(2);
    for (let i = 0; i < 7; i++) s.add('a');
    for (let i = 0; i < 3; i++) s.add('b');
    s.add('c'); // replaces b (3): count 4, error 3
    s.halve();
    expect(s.count('a')).toBe(3);
    expect(s.count('c')).toBe(2);
    expect(s.guaranteed('c')).toBe(1);
    s.add('d'); // replaces the least counted, c
    expect(s.count('c')).toBe(0);
    expect(s.count('a')).toBe(3);
  });
});
