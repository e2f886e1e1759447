import type { ErrorEvent, TenantHooks } from '@tenant/interfaces';

type HookName = Exclude<keyof TenantHooks, 'onError'>;
type EventOf<H extends keyof TenantHooks> = Parameters<NonNullable<TenantHooks[H]>>[0];

/** Calls hooks safely: never throws, never awaits. */
export interface HookRunner {
  /** Whether any hook set has this hook (so events need not be built for nobody). */
  has(name: keyof TenantHooks): boolean;
  emit<H extends HookName>(name: H, event: EventOf<H>): void;
  error(event: ErrorEvent): void;
}

/**
 * Combines hook sets into one runner. Every hook is called synchronously in
 * order; a hook that throws or returns a rejected promise is reported to
 * `onError` with `phase: 'hook'`, and an `onError` that fails is ignored.
 */
export function createHookRunner(hooks: TenantHooks | readonly TenantHooks[] | undefined): HookRunner {
  const sets: readonly TenantHooks[] = hooks === undefined ? [] : Array.isArray(hooks) ? [...hooks] : [hooks as TenantHooks];
  for (const set of sets) {
    if (typeof set !== 'object' || set === null) throw new TypeError('[@tenant/core] hooks must be an object of hook functions, or a list of them');
  }
  const present = new Set<keyof TenantHooks>();
  for (const set of sets) for (const name of Object.keys(set) as (keyof TenantHooks)[]) if (typeof set[name] === 'function') present.add(name);

  const error = (event: ErrorEvent): void => {
    for (const set of sets) {
      if (typeof set.onError !== 'function') continue;
      try {
        const result = set.onError(event);
        if (isThenable(result)) result.then(undefined, () => undefined);
      } catch {
        // onError is the last resort; nothing is left to tell.
      }
    }
  };

  return {
    has: (name) => present.has(name),
    emit(name, event) {
      if (!present.has(name)) return;
      for (const set of sets) {
        const hook = set[name] as ((event: unknown) => unknown) | undefined;
        if (typeof hook !== 'function') continue;
        const tenantId = tenantIdOf(event);
        try {
          const result = hook.call(set, event);
          if (isThenable(result)) result.then(undefined, (cause: unknown) => error({ phase: 'hook', hook: name, error: cause, tenantId }));
        } catch (cause) {
          error({ phase: 'hook', hook: name, error: cause, tenantId });
        }
      }
    },
    error,
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as { then?: unknown }).then === 'function';
}

function tenantIdOf(event: unknown): string | undefined {
  const e = event as { tenant?: { id?: unknown }; tenantId?: unknown; ticket?: { tenantId?: unknown } };
  const id = e.tenant?.id ?? e.tenantId ?? e.ticket?.tenantId;
  return typeof id === 'string' ? id : undefined;
}
