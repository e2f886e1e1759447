import type { Clock } from '@tenant/core';
import type { AdminHttpErrorCode } from './problem.js';
import type { MaybePromise, TenantConfig, TenantErrorCode, TenantIdValidator, TenantStore } from '@tenant/core';

/**
 * What an admin route does, as given to `authorize` and to the audit hook.
 * Reads (`tenant.list`, `tenant.get`, `tenant.domains.list`) are authorized
 * but never audited.
 */
export type AdminAction =
  | 'tenant.list'
  | 'tenant.create'
  | 'tenant.get'
  | 'tenant.update'
  | 'tenant.delete'
  | 'tenant.restore'
  | 'tenant.suspend'
  | 'tenant.resume'
  | 'tenant.quota.set'
  | 'tenant.policy.set'
  | 'tenant.domains.list'
  | 'tenant.domains.add'
  | 'tenant.domains.remove';

/** The actions that write, and so reach the audit hook. */
export type AdminWriteAction = Exclude<AdminAction, 'tenant.list' | 'tenant.get' | 'tenant.domains.list'>;

/** A header value as frameworks give it: one string, several, or none. */
export type AdminHeaderValue = string | readonly string[] | undefined;

/**
 * An admin request as plain data. Build it from any framework's request, or
 * let {@link createAdminNodeHandler} build it from a `node:http` one.
 */
export interface AdminRequest {
  /** The HTTP method (any case). */
  readonly method: string;
  /**
   * The path relative to where the admin API is mounted, for example
   * `/tenants/acme`, not decoded. A query string on it is split off.
   */
  readonly path: string;
  /**
   * The query: a raw query string (with or without `?`), a
   * `URLSearchParams`, or an object of values.
   * @default none
   */
  readonly query?: string | URLSearchParams | { readonly [name: string]: AdminHeaderValue };
  /** Request headers by name (any case). @default {} */
  readonly headers?: { readonly [name: string]: AdminHeaderValue };
  /**
   * The body, already parsed from JSON by your framework. Give this or
   * `rawBody`, not both; when given, `content-type` is not checked again.
   */
  readonly body?: unknown;
  /**
   * The body as received (UTF-8 JSON); parsed after authorization, after
   * checking that `content-type` is JSON and that it fits `maxBodyBytes`.
   */
  readonly rawBody?: string | Uint8Array;
  /**
   * Whatever your authentication established about the caller (a verified
   * token, a session), passed through to `authorize`.
   * @default undefined
   */
  readonly principal?: unknown;
}

/** An admin response as plain data: write `status`, `headers` and `body` (as JSON when present). */
export interface AdminResponse {
  readonly status: number;
  /** Response headers by lower-case name, `content-type` included when there is a body. */
  readonly headers: { readonly [name: string]: string };
  /** A JSON-serializable body (a tenant, a page, `{ domains }`, or a problem); `undefined` for a 304. */
  readonly body: unknown;
}

/** What `authorize` is asked about. */
export interface AdminAuthorizeInput {
  /** What the request would do. */
  readonly action: AdminAction;
  /**
   * The tenant it targets, from the path, validated; `undefined` for
   * `tenant.list` and `tenant.create` (the body is read after authorization).
   */
  readonly tenantId: string | undefined;
  /**
   * The parsed JSON body, on routes that take one, when it could be read
   * (`undefined` otherwise; a body that is too large, not JSON or of another
   * type is refused after `authorize`, so anonymous callers never learn
   * why). Not validated yet: look at it, do not trust its shape. Use it to
   * allow a create by its `id`, or a patch by the fields it changes
   * (`tenant.update` can change any field, status, quota, policy and
   * domains included).
   */
  readonly body: unknown;
  /** The request, as given to `handle`. */
  readonly request: AdminRequest;
  /** A request header by name (case-insensitive); repeated headers are joined with `, `. */
  header(name: string): string | undefined;
  /** `request.principal`. */
  readonly principal: unknown;
}

/**
 * Decides who may call the admin API. Return the actor (any value but
 * `undefined`, `null` and `false`, recorded in audits) to allow the request,
 * `undefined` or `null` when the caller is not authenticated (401), and
 * `false` when they are but may not do this (403). A throw or rejection is a
 * 500, reported through `onError`.
 */
export type AdminAuthorize<TActor> = (input: AdminAuthorizeInput) => MaybePromise<TActor | false | null | undefined>;

/** One audited write. */
export interface AdminAuditEntry<TActor = unknown> {
  readonly action: AdminWriteAction;
  /** What `authorize` returned for this request. */
  readonly actor: TActor;
  readonly tenantId: string;
  /** The tenant as the write found it (`undefined` for `tenant.create`): exactly the version the write replaced. */
  readonly before: TenantConfig | undefined;
  /** The tenant after the write. */
  readonly after: TenantConfig;
  /** When the write was answered (ISO 8601, UTC, by the admin's clock). */
  readonly at: string;
}

/** Where an error reported to `onError` came from. */
export type AdminErrorPhase = 'authorize' | 'audit' | 'store' | 'internal';

/** An unexpected failure, reported to `onError`. */
export interface AdminErrorEvent {
  readonly phase: AdminErrorPhase;
  readonly error: unknown;
  readonly action: AdminAction | undefined;
  readonly tenantId: string | undefined;
}

/** Options of {@link createTenantAdmin}. */
export interface TenantAdminOptions<TActor = unknown> {
  /** Where tenants live. Any `TenantStore`. */
  readonly store: TenantStore;
  /** Who may call, and as whom (required: there is no open default). */
  readonly authorize: AdminAuthorize<TActor>;
  /**
   * Receives every write that changed a tenant, after the write and before
   * the response. It is awaited; a throw or rejection never undoes or fails
   * the write (the write has happened): it goes to `onError` with phase
   * `audit`, and the response is the write's.
   * @default undefined (no audit)
   */
  readonly audit?: (entry: AdminAuditEntry<TActor>) => MaybePromise<void>;
  /**
   * Receives unexpected failures: a throwing `authorize` or `audit`, a store
   * error that is not a `TenantError`. An `onError` that throws is ignored.
   * @default a `process.emitWarning` of the error
   */
  readonly onError?: (event: AdminErrorEvent) => void;
  /**
   * The tenant id check for ids in paths. Give the same one as your store.
   * @default validateTenantId of `@tenant/core` (the default format)
   */
  readonly validateId?: TenantIdValidator;
  /** The largest request body, in bytes (413 beyond). @default 1048576 (1 MiB) */
  readonly maxBodyBytes?: number;
  /**
   * Refuse writes without `If-Match` (428 `precondition_required`), so that
   * no client can overwrite a change it has not seen.
   * @default false (writes without `If-Match` apply to the current version)
   */
  readonly requireIfMatch?: boolean;
  /** The `type` of problem bodies, by code. @default (code) => `urn:tenant:error:${code}` */
  readonly problemType?: (code: AdminErrorCode) => string;
  /**
   * The `WWW-Authenticate` challenge sent with every 401 (HTTP requires one):
   * the scheme your `authorize` expects.
   * @default 'Bearer realm="tenant-admin"'
   */
  readonly challenge?: string;
  /** The clock for audit timestamps. @default systemClock */
  readonly clock?: Clock;
}

/** The admin API. */
export interface TenantAdmin {
  /**
   * Answers one admin request. Never rejects: every failure is a response
   * (problem+json), unexpected ones a 500 reported through `onError`.
   */
  handle(request: AdminRequest): Promise<AdminResponse>;
  /** The body size limit in bytes, for transports that read the body. */
  readonly maxBodyBytes: number;
  /**
   * A problem response in this admin's format (its `problemType`), for
   * transports that refuse a request before `handle` (a body too large).
   */
  reject(code: AdminErrorCode, detail: string): AdminResponse;
}


/** Every code an admin problem body can carry. */
export type AdminErrorCode = TenantErrorCode | AdminHttpErrorCode;

/** One field-level validation message. */
export interface AdminFieldError {
  /** The field, as a dotted path in the body or the query (`quota.requests.limit`, `domains.0`, `limit`). */
  readonly field: string;
  readonly message: string;
}
