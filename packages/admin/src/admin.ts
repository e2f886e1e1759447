import {
  PAGE_LIMITS,
  TENANT_STATUSES,
  TenantError,
  isTenantErrorCode,
  normalizeHost,
  systemClock,
  validateTenantId,
  type TenantConfig,
  type TenantListQuery,
  type TenantStatus,
  type TenantStore,
} from '@tenant/core';
import { errorProblem, httpProblem, invalid, type AdminProblemType } from './problem.js';
import {
  etagOf,
  headerLookup,
  hostileKeys,
  isJsonObject,
  noneMatchHits,
  parseIfMatch,
  parseQuery,
  readBody,
  type BodyResult,
  type HeaderLookup,
  type IfMatch,
} from './request.js';
import { matchRoute } from './routes.js';
import type {
  AdminAction,
  AdminErrorEvent,
  AdminFieldError,
  AdminRequest,
  AdminResponse,
  AdminWriteAction,
  TenantAdmin,
  TenantAdminOptions,
} from './types.js';

const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Writes retried when a concurrent write wins and the client did not pin a version. */
const WRITE_ATTEMPTS = 3;
const WRITABLE_STATUSES: readonly TenantStatus[] = ['active', 'suspended', 'inactive'];
const STORE_METHODS = ['get', 'list', 'create', 'update', 'delete', 'restore'] as const;
const JSON_HEADERS = { 'content-type': 'application/json', 'cache-control': 'no-store' } as const;

/** Routes whose body is required, and the one whose body is optional. */
const BODY_REQUIRED = new Set<AdminAction>(['tenant.create', 'tenant.update', 'tenant.quota.set', 'tenant.policy.set', 'tenant.domains.add']);
const BODY_OPTIONAL = new Set<AdminAction>(['tenant.restore']);
const READS = new Set<AdminAction>(['tenant.list', 'tenant.get', 'tenant.domains.list']);

/** A failure of the store (not one of its `TenantError` answers): reported, and answered as `store_unavailable`. */
class StoreFailure {
  constructor(readonly cause: unknown) {}
}

/** A response decided before the action runs (validation, precondition). */
class Answer {
  constructor(readonly response: AdminResponse) {}
}

/** What a write does to the tenant it found: the store call, or `undefined` when it changes nothing. */
type Mutation = (current: TenantConfig) => ((expectedVersion: number) => Promise<TenantConfig>) | undefined;

const defaultProblemType: AdminProblemType = (code) => `urn:tenant:error:${code}`;

const defaultOnError = (event: AdminErrorEvent): void => {
  const message = event.error instanceof Error ? event.error.message : String(event.error);
  process.emitWarning(`[@tenant/admin] ${event.phase} failed${event.action === undefined ? '' : ` (${event.action})`}: ${message}`, {
    code: 'TENANT_ADMIN_ERROR',
  });
};

function checkOptions(options: TenantAdminOptions<unknown>): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('[@tenant/admin] createTenantAdmin takes an options object: { store, authorize, ... }');
  const { store, authorize } = options;
  if (typeof store !== 'object' || store === null || STORE_METHODS.some((name) => typeof store[name] !== 'function')) {
    throw new TypeError(`[@tenant/admin] store must be a TenantStore (with ${STORE_METHODS.join(', ')})`);
  }
  if (typeof authorize !== 'function') {
    throw new TypeError(
      '[@tenant/admin] authorize is required: a function (input) => actor | undefined | false that decides who may administer tenants (there is no open default)',
    );
  }
  for (const name of ['audit', 'onError', 'validateId', 'problemType'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') throw new TypeError(`[@tenant/admin] ${name} must be a function`);
  }
  const { maxBodyBytes, requireIfMatch, clock } = options;
  if (maxBodyBytes !== undefined && (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)) {
    throw new RangeError('[@tenant/admin] maxBodyBytes must be a positive integer');
  }
  if (requireIfMatch !== undefined && typeof requireIfMatch !== 'boolean') throw new TypeError('[@tenant/admin] requireIfMatch must be a boolean');
  if (options.challenge !== undefined && (typeof options.challenge !== 'string' || !/^[A-Za-z][\x20-\x7e]*$/.test(options.challenge))) {
    throw new TypeError('[@tenant/admin] challenge must be a WWW-Authenticate value, such as \'Basic realm="admin"\'');
  }
  if (clock !== undefined && (typeof clock !== 'object' || clock === null || typeof clock.now !== 'function')) {
    throw new TypeError('[@tenant/admin] clock must be an object with now()');
  }
}

/**
 * Creates the admin API over a tenant store. `handle(request)` answers one
 * request given as plain data; mount it with {@link createAdminNodeHandler}
 * (express, koa, fastify, `node:http`) or call it from any framework.
 *
 * Every request is matched to a route, its tenant id validated, and then
 * `authorize` decides: an actor allows it, `undefined`/`null` is a 401,
 * `false` a 403. Bodies are validated field by field (400 `config_invalid`
 * with `errors`). Writes apply to the version the admin read (a concurrent
 * write is retried), or to the version named by `If-Match` (412 otherwise),
 * and go to `audit` with the exact `before` and `after`.
 *
 * @throws TypeError when `store` is not a store or `authorize` is missing
 * (there is no open default), or another option has the wrong type.
 *
 * @example
 * ```ts
 * import { createMemoryTenantStore } from '@tenant/core';
 * import { createTenantAdmin } from '@tenant/admin';
 *
 * const admin = createTenantAdmin({
 *   store: createMemoryTenantStore(),
 *   authorize: ({ header }) => (header('authorization') === 'Bearer s3cret' ? { id: 'ops' } : undefined),
 *   audit: ({ action, actor, tenantId }) => console.log(action, tenantId, actor),
 * });
 * const response = await admin.handle({
 *   method: 'POST',
 *   path: '/tenants',
 *   headers: { authorization: 'Bearer s3cret' },
 *   body: { id: 'acme', plan: 'pro' },
 * });
 * // response.status === 201, response.body is the new tenant
 * ```
 */
export function createTenantAdmin<TActor = unknown>(options: TenantAdminOptions<TActor>): TenantAdmin {
  checkOptions(options as TenantAdminOptions<unknown>);
  const { store, authorize, audit } = options;
  const onError = options.onError ?? defaultOnError;
  const validateId = options.validateId ?? validateTenantId;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requireIfMatch = options.requireIfMatch ?? false;
  const problemType = options.problemType ?? defaultProblemType;
  const clock = options.clock ?? systemClock;
  const challenge = options.challenge ?? 'Bearer realm="tenant-admin"';

  const report = (phase: AdminErrorEvent['phase'], error: unknown, action: AdminAction | undefined, tenantId: string | undefined) => {
    try {
      onError({ phase, error, action, tenantId });
    } catch {
      // An onError that throws must not turn an answer into a crash.
    }
  };

  /**
   * Calls the store; a failure that is not a TenantError answer (a driver's
   * error, or the store's own `store_unavailable`) becomes a StoreFailure,
   * which is reported.
   */
  const fromStore = async <T>(call: (s: TenantStore) => Promise<T>): Promise<T> => {
    try {
      return await call(store);
    } catch (error) {
      if (TenantError.is(error) && !TenantError.is(error, 'store_unavailable')) throw error;
      throw new StoreFailure(error);
    }
  };

  const tenantResponse = (status: number, tenant: TenantConfig, headers: Record<string, string> = {}): AdminResponse => ({
    status,
    headers: { ...JSON_HEADERS, etag: etagOf(tenant.version), ...headers },
    body: tenant,
  });

  const load = async (id: string): Promise<TenantConfig> => {
    const tenant = await fromStore((s) => s.get(id));
    if (tenant === undefined) throw new TenantError('tenant_not_found', `[@tenant/admin] No tenant with id ${id}`, { tenantId: id });
    return tenant;
  };

  const preconditionFailed = (tenant: TenantConfig) =>
    new TenantError('version_conflict', `[@tenant/admin] Tenant ${tenant.id} is at version ${tenant.version}, not the one If-Match names`, {
      status: 412,
      tenantId: tenant.id,
      details: { currentVersion: tenant.version },
    });

  const runAudit = async (action: AdminWriteAction, actor: TActor, before: TenantConfig | undefined, after: TenantConfig) => {
    if (audit === undefined) return;
    try {
      await audit({ action, actor, tenantId: after.id, before, after, at: new Date(clock.now()).toISOString() });
    } catch (error) {
      report('audit', error, action, after.id);
    }
  };

  /**
   * Runs a write against the version it read (or the one If-Match names):
   * the audit's `before` is then exactly the version the write replaced. A
   * concurrent write in between is retried, unless the client pinned a
   * version, which is then a 412.
   */
  const write = async (action: AdminWriteAction, actor: TActor, id: string, ifMatch: IfMatch, mutate: Mutation): Promise<AdminResponse> => {
    for (let attempt = 1; ; attempt += 1) {
      const current = await load(id);
      if (ifMatch.kind === 'versions' && !ifMatch.versions.includes(current.version)) throw preconditionFailed(current);
      const apply = mutate(current);
      if (apply === undefined) return tenantResponse(200, current);
      let after: TenantConfig;
      try {
        after = await fromStore(() => apply(current.version));
      } catch (error) {
        if (!TenantError.is(error, 'version_conflict')) throw error;
        if (ifMatch.kind === 'versions') throw preconditionFailed(await load(id));
        if (attempt < WRITE_ATTEMPTS) continue;
        throw error;
      }
      await runAudit(action, actor, current, after);
      return tenantResponse(200, after);
    }
  };

  const checkBodyObject = (body: unknown, field: string): Record<string, unknown> => {
    if (!isJsonObject(body)) throw new Answer(invalid(problemType, [{ field, message: 'must be a JSON object' }]));
    const hostile = hostileKeys(body);
    if (hostile.length > 0) throw new Answer(invalid(problemType, hostile.map((e) => ({ ...e, field: field === 'body' ? e.field : `${field}.${e.field}` }))));
    return body;
  };

  const onlyFields = (body: Record<string, unknown>, allowed: readonly string[]): AdminFieldError[] =>
    Object.keys(body)
      .filter((key) => !allowed.includes(key))
      .map((field) => ({ field, message: `is not a field of this request (expected ${allowed.join(', ')})` }));

  const listQuery = (params: Map<string, string[]>): TenantListQuery => {
    const errors: AdminFieldError[] = [];
    const query: { status?: TenantStatus[]; plan?: string; limit?: number; cursor?: string } = {};
    const single = (name: string): string | undefined => {
      const values = params.get(name);
      if (values === undefined) return undefined;
      if (values.length > 1) errors.push({ field: name, message: 'must be given once' });
      return values[0];
    };
    for (const name of params.keys()) {
      if (!['status', 'plan', 'limit', 'cursor'].includes(name)) errors.push({ field: name, message: 'is not a query parameter (status, plan, limit, cursor)' });
    }
    const statuses = params.get('status');
    if (statuses !== undefined) {
      const list = statuses.flatMap((value) => value.split(',')).map((value) => value.trim());
      if (list.some((value) => !TENANT_STATUSES.includes(value as TenantStatus))) {
        errors.push({ field: 'status', message: `must be one or more of ${TENANT_STATUSES.join(', ')}` });
      } else query.status = [...new Set(list as TenantStatus[])];
    }
    const plan = single('plan');
    if (plan !== undefined) query.plan = plan;
    const limit = single('limit');
    if (limit !== undefined) {
      const n = /^[0-9]{1,7}$/.test(limit) ? Number(limit) : Number.NaN;
      if (!(n >= 1 && n <= PAGE_LIMITS.max)) errors.push({ field: 'limit', message: `must be an integer from 1 to ${PAGE_LIMITS.max}` });
      else query.limit = n;
    }
    const cursor = single('cursor');
    if (cursor !== undefined) query.cursor = cursor;
    if (errors.length > 0) throw new Answer(invalid(problemType, errors));
    return query;
  };

  const domainOf = (value: unknown, field: string): string => {
    const host = typeof value === 'string' && !value.includes(':') ? normalizeHost(value) : undefined;
    if (host === undefined) throw new Answer(invalid(problemType, [{ field, message: 'must be a host name without port (for example app.example.com)' }]));
    return host;
  };

  const decodeId = (raw: string): string => {
    let id: string;
    try {
      id = decodeURIComponent(raw);
    } catch {
      throw new TenantError('tenant_invalid', '[@tenant/admin] Invalid tenant id: it is not valid percent-encoding');
    }
    return validateId(id);
  };

  interface Call {
    readonly action: AdminAction;
    readonly actor: TActor;
    readonly id: string | undefined;
    readonly domain: string | undefined;
    readonly body: unknown;
    readonly params: Map<string, string[]>;
    readonly ifMatch: IfMatch;
    readonly header: HeaderLookup;
  }

  const execute = async (call: Call): Promise<AdminResponse> => {
    const { action, actor, ifMatch } = call;
    const id = call.id as string;
    switch (action) {
      case 'tenant.list': {
        const query = listQuery(call.params);
        const page = await fromStore((s) => s.list(query));
        return { status: 200, headers: { ...JSON_HEADERS }, body: page.nextCursor === undefined ? { items: page.items } : { items: page.items, nextCursor: page.nextCursor } };
      }
      case 'tenant.create': {
        const body = checkBodyObject(call.body, 'body');
        validateId(body['id']);
        const created = await fromStore((s) => s.create(body as never));
        await runAudit(action, actor, undefined, created);
        return tenantResponse(201, created, { location: `tenants/${encodeURIComponent(created.id)}` });
      }
      case 'tenant.get':
      case 'tenant.domains.list': {
        const tenant = await load(id);
        // A conditional GET (If-None-Match with the ETag the client holds) is a 304 without a body.
        if (noneMatchHits(call.header('if-none-match'), tenant.version)) return { status: 304, headers: { 'cache-control': 'no-store', etag: etagOf(tenant.version) }, body: undefined };
        if (action === 'tenant.get') return tenantResponse(200, tenant);
        return { status: 200, headers: { ...JSON_HEADERS, etag: etagOf(tenant.version) }, body: { domains: tenant.domains } };
      }
      case 'tenant.update': {
        const patch = checkBodyObject(call.body, 'body');
        // An empty patch changes nothing: answered with the current tenant, not written (no new version, no audit).
        return write(action, actor, id, ifMatch, () =>
          Object.keys(patch).length === 0 ? undefined : (expectedVersion) => store.update(id, patch as never, { expectedVersion }),
        );
      }
      case 'tenant.quota.set': {
        const quota = checkBodyObject(call.body, 'quota');
        return write(action, actor, id, ifMatch, () => (expectedVersion) => store.update(id, { quota: quota as never }, { expectedVersion }));
      }
      case 'tenant.policy.set': {
        const policy = checkBodyObject(call.body, 'policy');
        return write(action, actor, id, ifMatch, () => (expectedVersion) => store.update(id, { policy: policy as never }, { expectedVersion }));
      }
      case 'tenant.delete':
        return write(action, actor, id, ifMatch, (current) =>
          current.status === 'deleted' ? undefined : (expectedVersion) => store.delete(id, { expectedVersion }),
        );
      case 'tenant.restore': {
        let status: Exclude<TenantStatus, 'deleted'> | undefined;
        if (call.body !== undefined) {
          const body = checkBodyObject(call.body, 'body');
          const unknown = onlyFields(body, ['status']);
          if (unknown.length > 0) throw new Answer(invalid(problemType, unknown));
          if (body['status'] !== undefined) {
            if (!WRITABLE_STATUSES.includes(body['status'] as TenantStatus)) {
              throw new Answer(invalid(problemType, [{ field: 'status', message: `must be one of ${WRITABLE_STATUSES.join(', ')}` }]));
            }
            status = body['status'] as Exclude<TenantStatus, 'deleted'>;
          }
        }
        return write(action, actor, id, ifMatch, (current) =>
          current.status !== 'deleted'
            ? undefined
            : (expectedVersion) => store.restore(id, status === undefined ? { expectedVersion } : { expectedVersion, status }),
        );
      }
      case 'tenant.suspend':
      case 'tenant.resume': {
        const status = action === 'tenant.suspend' ? 'suspended' : 'active';
        return write(action, actor, id, ifMatch, (current) =>
          current.status === status ? undefined : (expectedVersion) => store.update(id, { status }, { expectedVersion }),
        );
      }
      case 'tenant.domains.add': {
        const body = checkBodyObject(call.body, 'body');
        const errors = onlyFields(body, ['domain', 'primary']);
        if (body['primary'] !== undefined && typeof body['primary'] !== 'boolean') errors.push({ field: 'primary', message: 'must be a boolean' });
        if (errors.length > 0) throw new Answer(invalid(problemType, errors));
        const domain = domainOf(body['domain'], 'domain');
        const primary = body['primary'] === true;
        return write(action, actor, id, ifMatch, (current) => {
          const has = current.domains.includes(domain);
          if (has && (!primary || current.domains[0] === domain)) return undefined;
          const others = current.domains.filter((d) => d !== domain);
          const domains = primary ? [domain, ...others] : [...others, domain];
          return (expectedVersion) => store.update(id, { domains }, { expectedVersion });
        });
      }
      case 'tenant.domains.remove': {
        let raw: string;
        try {
          raw = decodeURIComponent(call.domain as string);
        } catch {
          raw = '';
        }
        const domain = domainOf(raw, 'domain');
        return write(action, actor, id, ifMatch, (current) =>
          current.domains.includes(domain)
            ? (expectedVersion) => store.update(id, { domains: current.domains.filter((d) => d !== domain) }, { expectedVersion })
            : undefined,
        );
      }
    }
  };

  const answer = async (request: AdminRequest, trace: { action?: AdminAction; tenantId?: string }): Promise<AdminResponse> => {
    if (typeof request !== 'object' || request === null || typeof request.method !== 'string' || typeof request.path !== 'string') {
      throw new TypeError('[@tenant/admin] handle() takes { method, path, ... }');
    }
    const method = request.method.toUpperCase();
    const q = request.path.indexOf('?');
    const path = q === -1 ? request.path : request.path.slice(0, q);
    const match = matchRoute(method, path);
    if (match.kind === 'not_found') return httpProblem(problemType, 'route_not_found', 'No admin route has this path');
    if (match.kind === 'method_not_allowed') {
      return httpProblem(problemType, 'method_not_allowed', `This route takes ${match.allow.join(', ')}`, { headers: { allow: match.allow.join(', ') } });
    }
    const { action } = match;
    trace.action = action;
    const tenantId = match.id === undefined ? undefined : decodeId(match.id);
    if (tenantId !== undefined) trace.tenantId = tenantId;
    const header: HeaderLookup = headerLookup(request.headers);

    // The body is read (bounded) before authorize, so that authorize can look
    // at it (the id of a create, the fields of a patch); its failures are
    // answered only after authorization, so that anonymous callers learn nothing.
    const takesBody = BODY_REQUIRED.has(action) || BODY_OPTIONAL.has(action);
    const read: BodyResult = takesBody ? readBody(request, header, maxBodyBytes) : { ok: true, present: false };
    const body = read.ok && read.present ? read.value : undefined;

    let actor: TActor | false | null | undefined;
    try {
      actor = await authorize({ action, tenantId, body, request, header, principal: request.principal });
    } catch (error) {
      report('authorize', error, action, tenantId);
      return errorProblem(problemType, new TenantError('internal_error', '[@tenant/admin] authorize failed', { cause: error }));
    }
    if (actor === undefined || actor === null) {
      return httpProblem(problemType, 'unauthorized', 'Authentication is required to administer tenants', { headers: { 'www-authenticate': challenge } });
    }
    if (actor === false) return httpProblem(problemType, 'forbidden', `The caller may not ${action}`);

    if (!read.ok) {
      const code = read.failure === 'too_large' ? 'payload_too_large' : read.failure === 'media_type' ? 'unsupported_media_type' : 'request_invalid';
      return httpProblem(problemType, code, read.detail);
    }
    if (!read.present && BODY_REQUIRED.has(action)) return invalid(problemType, [{ field: 'body', message: 'is required (a JSON object)' }]);

    let ifMatch: IfMatch = { kind: 'none' };
    if (!READS.has(action) && action !== 'tenant.create') {
      ifMatch = parseIfMatch(header('if-match'));
      if (ifMatch.kind === 'invalid') {
        return httpProblem(problemType, 'request_invalid', 'If-Match must be "*" or a list of entity tags such as "3"', {
          errors: [{ field: 'If-Match', message: 'must be "*" or a list of entity tags such as "3"' }],
        });
      }
      if (requireIfMatch && ifMatch.kind === 'none') {
        return httpProblem(problemType, 'precondition_required', 'This write needs If-Match with the version it applies to (the ETag of the tenant)');
      }
    }

    return execute({
      action,
      actor,
      id: tenantId,
      domain: match.domain,
      body,
      params: parseQuery(request.query, q === -1 ? '' : request.path.slice(q + 1)),
      ifMatch,
      header,
    });
  };

  return {
    maxBodyBytes,
    reject(code, detail) {
      return isTenantErrorCode(code) ? errorProblem(problemType, new TenantError(code, detail)) : httpProblem(problemType, code, detail);
    },
    async handle(request) {
      const trace: { action?: AdminAction; tenantId?: string } = {};
      try {
        return await answer(request, trace);
      } catch (error) {
        if (error instanceof Answer) return error.response;
        if (error instanceof StoreFailure) {
          report('store', error.cause, trace.action, trace.tenantId);
          // a store's own store_unavailable keeps its status (a 504 from a cache, say)
          const failure = TenantError.is(error.cause) ? error.cause : new TenantError('store_unavailable', '[@tenant/admin] The tenant store failed', { cause: error.cause });
          return errorProblem(problemType, failure);
        }
        if (!TenantError.is(error)) report('internal', error, trace.action, trace.tenantId);
        return errorProblem(problemType, error);
      }
    },
  };
}
