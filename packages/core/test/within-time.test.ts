import { afterEach, describe, expect, it, vi } from 'vitest';
import { withinTime } from '../src/index.js';

afterEach(() => vi.useRealTimers());

describe('withinTime', () => {
  it('settles as the promise does when it is in time', async () => {
    await expect(withinTime(Promise.resolve(7), 1_000, () => new Error('late'))).resolves.toBe(7);
    await expect(withinTime(Promise.reject(new Error('boom')), 1_000, () => new Error('late'))).rejects.toThrow('boom');
  });

  it('rejects with onTimeout() once the time is up, and drops a late failure', async () => {
    vi.useFakeTimers();
    let fail!: (e: Error) => void;
    const pending = new Promise<number>((_, reject) => (fail = reject));
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const bounded = withinTime(pending, 50, () => new RangeError('no answer within 50 ms'));
      const outcome = bounded.catch((e: unknown) => e);
      vi.advanceTimersByTime(49);
      await Promise.resolve();
      vi.advanceTimersByTime(1);
      expect(await outcome).toBeInstanceOf(RangeError);
      fail(new Error('late failure'));
      vi.useRealTimers();
      await new Promise((r) => setTimeout(r, 10));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a late answer after the time is up changes nothing', async () => {
    vi.useFakeTimers();
    let answer!: (v: number) => void;
    const bounded = withinTime(new Promise<number>((r) => (answer = r)), 10, () => 'timeout').catch((e: unknown) => e);
    vi.advanceTimersByTime(10);
    answer(1);
    expect(await bounded).toBe('timeout');
  });
});
