import type { PolicyDecision, PolicyRequest } from './policy.js';
import type { QuotaCost, QuotaResult, QuotaTicket } from './quota.js';
import type { TenantRequest } from './request.js';
import type { TenantConfig } from './tenant.js';
import type { TenantRejected } from './decision.js';

/** A tenant was resolved and loaded, and its status lets it in. */
export interface ResolveEvent {
  readonly request: TenantRequest;
  readonly tenant: TenantConfig;
  /** The resolver that found the id. */
  readonly source: string;
  /** Time spent resolving and loading, in milliseconds. */
  readonly durationMs: number;
}

/** A policy was evaluated. */
export interface PolicyEvent {
  readonly request: TenantRequest | undefined;
  readonly tenant: TenantConfig;
  readonly policyRequest: PolicyRequest;
  readonly decision: PolicyDecision;
}

/** A quota was checked. */
export interface QuotaEvent {
  readonly request: TenantRequest | undefined;
  readonly tenant: TenantConfig;
  readonly cost: QuotaCost;
  readonly result: QuotaResult;
}

/** A ticket was settled with its actual cost. */
export interface SettleEvent {
  readonly ticket: QuotaTicket;
  readonly actual: QuotaCost;
}

/** A request was refused. */
export interface RejectEvent {
  readonly request: TenantRequest | undefined;
  /** The tenant id, when one was resolved (it may be invalid or unknown). */
  readonly tenantId: string | undefined;
  readonly rejection: TenantRejected;
}

/** Where in the toolkit an unexpected failure happened. */
export type ErrorPhase = 'resolve' | 'store' | 'policy' | 'quota' | 'settle' | 'hook';

/** Something failed: a backend, a resolver, or a hook itself. */
export interface ErrorEvent {
  readonly phase: ErrorPhase;
  readonly error: unknown;
  readonly tenantId: string | undefined;
  /** For `phase: 'hook'`, the hook that threw. */
  readonly hook?: keyof TenantHooks;
}

/**
 * Observers of the pipeline, for metrics, logs and audits. Hooks are called
 * synchronously and never awaited; a hook that throws or rejects never breaks
 * a request (its error is passed to `onError`, and an `onError` that throws
 * is ignored).
 */
export interface TenantHooks {
  onResolve?(event: ResolveEvent): void | Promise<void>;
  onPolicy?(event: PolicyEvent): void | Promise<void>;
  onQuota?(event: QuotaEvent): void | Promise<void>;
  onSettle?(event: SettleEvent): void | Promise<void>;
  onReject?(event: RejectEvent): void | Promise<void>;
  onError?(event: ErrorEvent): void | Promise<void>;
}

