import { isPromiseLike, type MaybePromise } from '@tenant/core';

/**
 * Shares one in-flight load per key: while a load for `key` is pending,
 * later callers get the same promise. The entry is removed when the load
 * settles, or earlier by {@link SingleFlight.forget} (an invalidation: later
 * callers then start a fresh load).
 */
export class SingleFlight<T> {
  readonly #pending = new Map<string, Promise<T>>();

  run(key: string, load: () => Promise<T>): Promise<T> {
    const existing = this.#pending.get(key);
    if (existing !== undefined) return existing;
    const promise = load().finally(() => {
      if (this.#pending.get(key) === promise) this.#pending.delete(key);
    });
    this.#pending.set(key, promise);
    return promise;
  }

  forget(key: string): void {
    this.#pending.delete(key);
  }

  clear(): void {
    this.#pending.clear();
  }
}

/** `next(value)`, now when `value` is plain, or once it settles when it is a promise. */
export function chain<A, B>(value: MaybePromise<A>, next: (value: A) => MaybePromise<B>): MaybePromise<B> {
  return isPromiseLike(value) ? Promise.resolve(value).then(next) : next(value);
}

/** `run()`, with `fallback(error)` for a synchronous throw or a rejection. */
export function recover<T>(run: () => MaybePromise<T>, fallback: (error: unknown) => T): MaybePromise<T> {
  try {
    const result = run();
    return isPromiseLike(result) ? Promise.resolve(result).catch(fallback) : result;
  } catch (error) {
    return fallback(error);
  }
}

/** Calls `fn`, turning a synchronous throw into a rejected promise. */
export function call<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(error);
  }
}

/** Calls a listener that must not throw; a throw is ignored. */
export function report<E>(listener: ((event: E) => void) | undefined, event: E): void {
  if (listener === undefined) return;
  try {
    listener(event);
  } catch {
    // An error listener that throws must not turn a handled error into a failure.
  }
}
