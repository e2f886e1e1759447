import {
  QUOTA_DIMENSIONS,
  TenantError,
  type JsonValue,
  type QuotaLimit,
  type TenantConfig,
  type TenantInput,
  type TenantPatch,
  type TenantPolicy,
  type TenantQuota,
  type TenantStatus,
} from '@tenant/interfaces';
import { normalizeHost } from './host.js';
import { validateTenantId, type TenantIdValidator } from './id.js';
import { byteLength } from './runtime.js';

/** Limits on what a tenant config may hold, so that one tenant cannot bloat every cache. */
export const CONFIG_LIMITS = Object.freeze({
  nameLength: 200,
  planLength: 64,
  domains: 100,
  policyDimensions: 32,
  policyValues: 1000,
  policyValueLength: 256,
  metadataBytes: 64 * 1024,
  metadataDepth: 16,
  maxWindowMs: 366 * 24 * 60 * 60 * 1000,
});

const WRITABLE_STATUSES: readonly TenantStatus[] = ['active', 'suspended', 'inactive'];
const PLAN = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;
const DIMENSION = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

type Problems = Record<string, string>;

function fail(problems: Problems, tenantId: string | undefined): never {
  const fields = Object.keys(problems);
  throw new TenantError(
    'config_invalid',
    `[@tenant/core] Invalid tenant config: ${fields.map((f) => `${f} ${problems[f]}`).join('; ')}`,
    { details: { fields: problems }, ...(tenantId === undefined ? {} : { tenantId }) },
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function checkText(value: unknown, field: string, max: number, problems: Problems, pattern?: RegExp): string | undefined {
  if (typeof value !== 'string' || value.length === 0) {
    problems[field] = 'must be a non-empty string';
    return undefined;
  }
  if (value.length > max) problems[field] = `must be at most ${max} characters`;
  else if (CONTROL.test(value)) problems[field] = 'must not contain control characters';
  else if (pattern && !pattern.test(value)) problems[field] = `must match ${String(pattern)}`;
  else return value;
  return undefined;
}

function checkStatus(value: unknown, problems: Problems): Exclude<TenantStatus, 'deleted'> | undefined {
  if (typeof value === 'string' && WRITABLE_STATUSES.includes(value as TenantStatus)) {
    return value as Exclude<TenantStatus, 'deleted'>;
  }
  problems['status'] = `must be one of ${WRITABLE_STATUSES.join(', ')} (delete with store.delete())`;
  return undefined;
}

function checkQuota(value: unknown, problems: Problems): TenantQuota {
  if (!isPlainObject(value)) {
    problems['quota'] = 'must be an object';
    return {};
  }
  const quota: Record<string, QuotaLimit> = {};
  for (const [key, limit] of Object.entries(value)) {
    if (!QUOTA_DIMENSIONS.includes(key as never)) {
      problems[`quota.${key}`] = `is not a quota dimension (${QUOTA_DIMENSIONS.join(', ')})`;
      continue;
    }
    if (limit === undefined) continue;
    if (!isPlainObject(limit)) {
      problems[`quota.${key}`] = 'must be an object { limit, windowMs }';
      continue;
    }
    const extra = Object.keys(limit).filter((k) => k !== 'limit' && k !== 'windowMs');
    if (extra.length > 0) problems[`quota.${key}`] = `has unknown fields: ${extra.join(', ')}`;
    const { limit: max, windowMs } = limit;
    if (typeof max !== 'number' || !Number.isSafeInteger(max) || max < 0) {
      problems[`quota.${key}.limit`] = 'must be a non-negative integer';
    }
    if (typeof windowMs !== 'number' || !Number.isSafeInteger(windowMs) || windowMs < 1 || windowMs > CONFIG_LIMITS.maxWindowMs) {
      problems[`quota.${key}.windowMs`] = `must be an integer from 1 to ${CONFIG_LIMITS.maxWindowMs}`;
    }
    quota[key] = { limit: max as number, windowMs: windowMs as number };
  }
  return quota;
}

function checkPolicy(value: unknown, problems: Problems): TenantPolicy {
  if (!isPlainObject(value)) {
    problems['policy'] = 'must be an object of string arrays';
    return {};
  }
  const entries = Object.entries(value).filter(([, list]) => list !== undefined);
  if (entries.length > CONFIG_LIMITS.policyDimensions) {
    problems['policy'] = `must have at most ${CONFIG_LIMITS.policyDimensions} dimensions`;
  }
  const policy: Record<string, readonly string[]> = {};
  for (const [dimension, list] of entries) {
    const field = `policy.${dimension}`;
    if (!DIMENSION.test(dimension)) {
      problems[field] = `is not a valid dimension name (${String(DIMENSION)})`;
      continue;
    }
    if (!Array.isArray(list) || list.length > CONFIG_LIMITS.policyValues) {
      problems[field] = `must be an array of at most ${CONFIG_LIMITS.policyValues} strings`;
      continue;
    }
    const values: string[] = [];
    for (const item of list as unknown[]) {
      const checked = checkText(item, field, CONFIG_LIMITS.policyValueLength, problems);
      if (checked !== undefined && !values.includes(checked)) values.push(checked);
    }
    policy[dimension] = values;
  }
  return policy;
}

function checkDomains(value: unknown, problems: Problems): readonly string[] {
  if (!Array.isArray(value) || value.length > CONFIG_LIMITS.domains) {
    problems['domains'] = `must be an array of at most ${CONFIG_LIMITS.domains} host names`;
    return [];
  }
  const domains: string[] = [];
  (value as unknown[]).forEach((raw, index) => {
    const host = typeof raw === 'string' && !raw.includes(':') ? normalizeHost(raw) : undefined;
    if (host === undefined) problems[`domains.${index}`] = 'must be a host name without port (for example app.example.com)';
    else if (!domains.includes(host)) domains.push(host);
  });
  return domains;
}

function checkJson(value: unknown, path: string, depth: number, problems: Problems): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) problems[path] = 'must be a finite number';
    return;
  }
  if (depth > CONFIG_LIMITS.metadataDepth) {
    problems[path] = `is nested deeper than ${CONFIG_LIMITS.metadataDepth} levels`;
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => checkJson(item, `${path}.${i}`, depth + 1, problems));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) checkJson(item, `${path}.${key}`, depth + 1, problems);
    return;
  }
  problems[path] = 'must be JSON (objects, arrays, strings, finite numbers, booleans, null)';
}

function checkMetadata(value: unknown, problems: Problems): { readonly [key: string]: JsonValue } {
  if (!isPlainObject(value)) {
    problems['metadata'] = 'must be a JSON object';
    return {};
  }
  const before = Object.keys(problems).length;
  checkJson(value, 'metadata', 0, problems);
  if (Object.keys(problems).length > before) return {};
  const json = JSON.stringify(value);
  if (byteLength(json) > CONFIG_LIMITS.metadataBytes) {
    problems['metadata'] = `must be at most ${CONFIG_LIMITS.metadataBytes} bytes as JSON`;
    return {};
  }
  return JSON.parse(json) as { [key: string]: JsonValue };
}

/** Freezes a value and everything reachable from it. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const item of Object.values(value)) deepFreeze(item);
  }
  return value;
}

function unknownFields(value: Record<string, unknown>, allowed: readonly string[], problems: Problems): void {
  for (const key of Object.keys(value)) if (!allowed.includes(key)) problems[key] = 'is not a tenant field';
}

const INPUT_FIELDS = ['id', 'name', 'status', 'plan', 'quota', 'policy', 'domains', 'metadata'] as const;
const PATCH_FIELDS = INPUT_FIELDS.filter((field) => field !== 'id');

/**
 * Validates a {@link TenantInput} and builds the new tenant's config, deeply
 * frozen and copied (nothing of the input is kept). Store implementations use
 * this so that every store accepts exactly the same configs.
 *
 * @throws TenantError `tenant_invalid` for a bad id, `config_invalid` (with
 * `details.fields`, a message per field) for anything else.
 */
export function createTenantConfig(
  input: TenantInput,
  options: { readonly now: Date; readonly validateId?: TenantIdValidator },
): TenantConfig {
  const raw: unknown = input;
  if (!isPlainObject(raw)) fail({ input: 'must be an object' }, undefined);
  const id = (options.validateId ?? validateTenantId)(raw['id']);
  const problems: Problems = {};
  unknownFields(raw, INPUT_FIELDS, problems);
  const at = options.now.toISOString();
  const config: Record<string, unknown> = {
    id,
    status: raw['status'] === undefined ? 'active' : checkStatus(raw['status'], problems),
    quota: raw['quota'] === undefined ? {} : checkQuota(raw['quota'], problems),
    policy: raw['policy'] === undefined ? {} : checkPolicy(raw['policy'], problems),
    domains: raw['domains'] === undefined ? [] : checkDomains(raw['domains'], problems),
    metadata: raw['metadata'] === undefined ? {} : checkMetadata(raw['metadata'], problems),
    createdAt: at,
    updatedAt: at,
    version: 1,
  };
  if (raw['name'] !== undefined) config['name'] = checkText(raw['name'], 'name', CONFIG_LIMITS.nameLength, problems);
  if (raw['plan'] !== undefined) config['plan'] = checkText(raw['plan'], 'plan', CONFIG_LIMITS.planLength, problems, PLAN);
  if (Object.keys(problems).length > 0) fail(problems, id);
  return deepFreeze(config as unknown as TenantConfig);
}

/**
 * Validates a {@link TenantPatch} and applies it to `current`, returning the
 * next version (frozen). `null` clears `name` or `plan`.
 */
export function applyTenantPatch(current: TenantConfig, patch: TenantPatch, options: { readonly now: Date }): TenantConfig {
  const raw: unknown = patch;
  if (!isPlainObject(raw)) fail({ patch: 'must be an object' }, current.id);
  const problems: Problems = {};
  unknownFields(raw, PATCH_FIELDS, problems);
  const next: Record<string, unknown> = { ...current };
  if (raw['status'] !== undefined) next['status'] = checkStatus(raw['status'], problems);
  if (raw['quota'] !== undefined) next['quota'] = checkQuota(raw['quota'], problems);
  if (raw['policy'] !== undefined) next['policy'] = checkPolicy(raw['policy'], problems);
  if (raw['domains'] !== undefined) next['domains'] = checkDomains(raw['domains'], problems);
  if (raw['metadata'] !== undefined) next['metadata'] = checkMetadata(raw['metadata'], problems);
  for (const [field, max, pattern] of [['name', CONFIG_LIMITS.nameLength, undefined], ['plan', CONFIG_LIMITS.planLength, PLAN]] as const) {
    if (raw[field] === null) delete next[field];
    else if (raw[field] !== undefined) next[field] = checkText(raw[field], field, max, problems, pattern);
  }
  if (Object.keys(problems).length > 0) fail(problems, current.id);
  next['updatedAt'] = options.now.toISOString();
  next['version'] = current.version + 1;
  return deepFreeze(next as unknown as TenantConfig);
}

/** Parses a config read back from storage or the wire, refusing anything malformed. */
export function parseTenantConfig(value: unknown, options: { readonly validateId?: TenantIdValidator } = {}): TenantConfig {
  if (!isPlainObject(value)) fail({ config: 'must be an object' }, undefined);
  const id = (options.validateId ?? validateTenantId)(value['id']);
  const problems: Problems = {};
  const status = value['status'];
  if (typeof status !== 'string' || !['active', 'suspended', 'inactive', 'deleted'].includes(status)) {
    problems['status'] = 'must be a tenant status';
  }
  const config: Record<string, unknown> = {
    id,
    status,
    quota: checkQuota(value['quota'] ?? {}, problems),
    policy: checkPolicy(value['policy'] ?? {}, problems),
    domains: checkDomains(value['domains'] ?? [], problems),
    metadata: checkMetadata(value['metadata'] ?? {}, problems),
  };
  for (const field of ['createdAt', 'updatedAt', 'deletedAt'] as const) {
    const at = value[field];
    if (at === undefined && field === 'deletedAt') continue;
    if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) problems[field] = 'must be an ISO 8601 date string';
    else config[field] = at;
  }
  if (value['name'] !== undefined) config['name'] = checkText(value['name'], 'name', CONFIG_LIMITS.nameLength, problems);
  if (value['plan'] !== undefined) config['plan'] = checkText(value['plan'], 'plan', CONFIG_LIMITS.planLength, problems, PLAN);
  const version = value['version'];
  if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) problems['version'] = 'must be a positive integer';
  config['version'] = version;
  if (Object.keys(problems).length > 0) fail(problems, id);
  return deepFreeze(config as unknown as TenantConfig);
}
