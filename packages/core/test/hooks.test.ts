import { describe, expect, it, vi } from 'vitest';
import { createHookRunner, type ErrorEvent, type RejectEvent, type TenantHooks } from '../src/index.js';
import { toRejection } from '../src/index.js';
import { createTestTenant } from '../src/testing.js';
import { request } from './fixtures-b/request.js';

const tenant = createTestTenant({ id: 'acme' });
const resolveEvent = { request: request(), tenant, source: 'header', durationMs: 0.1 };
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('createHookRunner', () => {
  it('calls each hook once, with the event, in the order of the sets', () => {
    const calls: string[] = [];
    const first: TenantHooks = { onResolve: vi.fn(() => void calls.push('first')) };
    const second: TenantHooks = { onResolve: vi.fn(() => void calls.push('second')), onReject: vi.fn() };
    const runner = createHookRunner([first, second]);
    runner.emit('onResolve', resolveEvent);
    expect(calls).toEqual(['first', 'second']);
    expect(first.onResolve).toHaveBeenCalledTimes(1);
    expect(first.onResolve).toHaveBeenCalledWith(resolveEvent);
    expect(second.onReject).not.toHaveBeenCalled();
  });

  it('calls hooks with their set as this', () => {
    const set = {
      seen: [] as string[],
      onResolve(this: { seen: string[] }, event: { source: string }) {
        this.seen.push(event.source);
      },
    };
    createHookRunner(set as TenantHooks).emit('onResolve', resolveEvent);
    expect(set.seen).toEqual(['header']);
  });

  it('knows which hooks are present', () => {
    const runner = createHookRunner([{ onQuota: () => undefined }, { onError: () => undefined, onPolicy: undefined } as unknown as TenantHooks]);
    expect(runner.has('onQuota')).toBe(true);
    expect(runner.has('onError')).toBe(true);
    expect(runner.has('onPolicy')).toBe(false);
    expect(createHookRunner(undefined).has('onResolve')).toBe(false);
    // Emitting with no hook at all is a no-op.
    createHookRunner(undefined).emit('onResolve', resolveEvent);
  });

  it('reports a throwing hook to onError and still calls the next hooks', () => {
    const boom = new Error('hook bug');
    const errors: ErrorEvent[] = [];
    const after = vi.fn();
    const runner = createHookRunner([{ onResolve: () => { throw boom; } }, { onResolve: after, onError: (e) => void errors.push(e) }]);
    expect(() => runner.emit('onResolve', resolveEvent)).not.toThrow();
    expect(after).toHaveBeenCalledTimes(1);
    expect(errors).toEqual([{ phase: 'hook', hook: 'onResolve', error: boom, tenantId: 'acme' }]);
  });

  it('reports a rejecting hook to onError without an unhandled rejection', async () => {
    const errors: ErrorEvent[] = [];
    const rejection = toRejection(new Error('x'));
    const event: RejectEvent = { request: undefined, tenantId: 'globex', rejection };
    const runner = createHookRunner({ onReject: () => Promise.reject(new Error('async bug')), onError: (e) => void errors.push(e) });
    runner.emit('onReject', event);
    expect(errors).toHaveLength(0);
    await flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ phase: 'hook', hook: 'onReject', tenantId: 'globex' });
    expect((errors[0]?.error as Error).message).toBe('async bug');
  });

  it('finds the tenant id of settle events in the ticket', () => {
    const errors: ErrorEvent[] = [];
    const runner = createHookRunner({ onSettle: () => { throw new Error('x'); }, onError: (e) => void errors.push(e) });
    runner.emit('onSettle', { ticket: { tenantId: 'initech', cost: {}, limits: {}, at: 0 }, actual: {} });
    expect(errors[0]?.tenantId).toBe('initech');
    runner.emit('onSettle', { ticket: { tenantId: 42 as never, cost: {}, limits: {}, at: 0 }, actual: {} });
    expect(errors[1]?.tenantId).toBeUndefined();
  });

  it('passes errors to every onError and ignores an onError that throws or rejects', async () => {
    const seen = vi.fn();
    const runner = createHookRunner([
      { onError: () => { throw new Error('onError bug'); } },
      { onError: () => Promise.reject(new Error('async onError bug')) },
      { onError: seen },
    ]);
    const event: ErrorEvent = { phase: 'store', error: new Error('down'), tenantId: 'acme' };
    expect(() => runner.error(event)).not.toThrow();
    await flush();
    expect(seen).toHaveBeenCalledTimes(1);
    expect(seen).toHaveBeenCalledWith(event);
  });

  it('refuses hook sets that are not objects', () => {
    expect(() => createHookRunner(null as never)).toThrow(TypeError);
    expect(() => createHookRunner([{}, 'onResolve' as never])).toThrow(/hooks must be an object/);
    expect(createHookRunner([]).has('onError')).toBe(false);
  });

  it('copies the list of sets: sets added later are not called', () => {
    const sets: TenantHooks[] = [];
    const runner = createHookRunner(sets);
    const late = vi.fn();
    sets.push({ onResolve: late });
    runner.emit('onResolve', resolveEvent);
    expect(late).not.toHaveBeenCalled();
  });
});
