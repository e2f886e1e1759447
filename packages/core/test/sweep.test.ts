import { describe, expect, it } from 'vitest';
import { createIncrementalSweep } from '../src/index.js';

/** A map whose entries() counts the entries a sweep visits. */
function countingMap(size: number, expiresAt: (i: number) => number) {
  const map = new Map<number, number>();
  for (let i = 0; i < size; i++) map.set(i, expiresAt(i));
  let visited = 0;
  const entries = map.entries.bind(map);
  map.entries = () => {
    const it = entries();
    return Object.assign(Object.create(it) as typeof it, {
      next: () => {
        const r = it.next();
        if (!r.done) visited++;
        return r;
      },
    });
  };
  return { map, visited: () => visited };
}

describe('createIncrementalSweep', () => {
  it('visits at most batch entries a step, deletes what expired, and ends a pass within size / batch steps', () => {
    for (const [size, batch] of [[0, 1], [1, 1], [10, 3], [1000, 100], [999, 7]] as const) {
      const { map, visited } = countingMap(size, (i) => (i % 2 === 0 ? 50 : 500));
      const sweep = createIncrementalSweep(map, { intervalMs: 100, batch, start: 0 }, (_k, until, now) => until <= now);
      sweep.step(99); // not due yet
      expect(visited()).toBe(0);
      let steps = 0;
      let before = visited();
      do {
        sweep.step(100);
        expect(visited() - before).toBeLessThanOrEqual(batch);
        before = visited();
        steps++;
      } while (visited() < size && steps < 10_000);
      sweep.step(100); // the step that finds the pass over
      expect(steps).toBeLessThanOrEqual(Math.max(1, Math.ceil(size / batch)));
      expect([...map.values()].every((until) => until > 100)).toBe(true);
      expect(map.size).toBe(Math.floor(size / 2));
      const after = visited();
      sweep.step(150); // the next pass is due at 200
      expect(visited()).toBe(after);
    }
  });

  it('a pass visits no more entries than the map held when it began, and ends on a clear', () => {
    const { map, visited } = countingMap(10, () => 1_000);
    const sweep = createIncrementalSweep(map, { intervalMs: 10, batch: 4, start: 0 }, () => false);
    sweep.step(10);
    for (let i = 10; i < 100; i++) map.set(i, 1_000); // added during the pass
    sweep.step(10);
    sweep.step(10);
    sweep.step(10);
    expect(visited()).toBe(10);
    sweep.step(20); // a new pass: 100 entries
    map.clear();
    sweep.step(20);
    expect(visited()).toBe(14);
  });

  it('refuses a batch that is not a positive integer', () => {
    for (const batch of [0, -1, 1.5, Number.NaN]) {
      expect(() => createIncrementalSweep(new Map(), { intervalMs: 1, batch, start: 0 }, () => true)).toThrow(RangeError);
    }
  });
});
