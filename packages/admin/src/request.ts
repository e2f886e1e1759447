import type { AdminFieldError, AdminHeaderValue, AdminRequest } from './types.js';

/** A request header by name, case-insensitive; repeated values joined with `, `. */
export type HeaderLookup = (name: string) => string | undefined;

const join = (value: AdminHeaderValue): string | undefined => (typeof value === 'string' ? value : value === undefined ? undefined : value.join(', '));

/** A case-insensitive header lookup over the request's headers. */
export function headerLookup(headers: AdminRequest['headers']): HeaderLookup {
  const byName = new Map<string, string>();
  for (const [name, value] of Object.entries(headers ?? {})) {
    const joined = join(value);
    if (joined === undefined) continue;
    const key = name.toLowerCase();
    const previous = byName.get(key);
    byName.set(key, previous === undefined ? joined : `${previous}, ${joined}`);
  }
  return (name) => byName.get(name.toLowerCase());
}

/** The query as lists of values by name. */
export function parseQuery(query: AdminRequest['query'], fromPath: string): Map<string, string[]> {
  const params = new Map<string, string[]>();
  const add = (name: string, value: string) => {
    const list = params.get(name);
    if (list === undefined) params.set(name, [value]);
    else list.push(value);
  };
  const fromSearch = (search: URLSearchParams) => search.forEach((value, name) => add(name, value));
  if (fromPath !== '') fromSearch(new URLSearchParams(fromPath));
  if (typeof query === 'string') fromSearch(new URLSearchParams(query.startsWith('?') ? query.slice(1) : query));
  else if (query instanceof URLSearchParams) fromSearch(query);
  else if (query !== undefined) {
    for (const [name, value] of Object.entries(query)) {
      if (typeof value === 'string') add(name, value);
      else if (value !== undefined) for (const item of value) add(name, item);
    }
  }
  return params;
}

/** What `If-Match` asks for. */
export type IfMatch =
  | { readonly kind: 'none' }
  | { readonly kind: 'any' }
  | { readonly kind: 'versions'; readonly versions: readonly number[] }
  | { readonly kind: 'invalid' };

const ENTITY_TAG = /^(W\/)?"([^"]*)"$/;

/**
 * Parses `If-Match`: `*`, or a list of entity tags. Our tags are strong
 * (`"<version>"`); weak tags and tags that are not versions never match
 * (RFC 9110: If-Match compares strongly), so they are kept out of the list.
 */
export function parseIfMatch(value: string | undefined): IfMatch {
  if (value === undefined) return { kind: 'none' };
  const trimmed = value.trim();
  if (trimmed === '*') return { kind: 'any' };
  const versions: number[] = [];
  for (const part of trimmed.split(',')) {
    const tag = ENTITY_TAG.exec(part.trim());
    if (tag === null) return { kind: 'invalid' };
    if (tag[1] === undefined && /^[1-9][0-9]{0,15}$/.test(tag[2] as string)) versions.push(Number(tag[2]));
  }
  return { kind: 'versions', versions };
}

/**
 * Whether `If-None-Match` matches a version: `*`, or any listed tag, weak or
 * strong (RFC 9110 compares If-None-Match weakly).
 */
export function noneMatchHits(value: string | undefined, version: number): boolean {
  if (value === undefined) return false;
  if (value.trim() === '*') return true;
  return value.split(',').some((part) => {
    const tag = ENTITY_TAG.exec(part.trim());
    return tag !== null && tag[2] === String(version);
  });
}

/** The entity tag of a tenant version. */
export const etagOf = (version: number): string => `"${version}"`;

const JSON_MEDIA_TYPE = /^application\/(?:[a-z0-9.+-]+\+)?json$/;

/** Why a body could not be read. */
export type BodyFailure = 'too_large' | 'media_type' | 'not_json';

/** The body of a request, or why it could not be read. */
export type BodyResult =
  | { readonly ok: true; readonly present: false }
  | { readonly ok: true; readonly present: true; readonly value: unknown }
  | { readonly ok: false; readonly failure: BodyFailure; readonly detail: string };

/** Whether a `content-type` is JSON in UTF-8 (`application/json`, `application/*+json`). */
export function isJsonContentType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const [type = '', ...params] = contentType.split(';');
  if (!JSON_MEDIA_TYPE.test(type.trim().toLowerCase())) return false;
  for (const param of params) {
    const [name = '', raw = ''] = param.split('=');
    if (name.trim().toLowerCase() === 'charset' && raw.trim().replace(/^"|"$/g, '').toLowerCase() !== 'utf-8') return false;
  }
  return true;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Reads the request body: the parsed `body`, or `rawBody` checked and parsed as JSON. */
export function readBody(request: AdminRequest, header: HeaderLookup, maxBytes: number): BodyResult {
  if (request.body !== undefined) return { ok: true, present: true, value: request.body };
  const raw = request.rawBody;
  if (raw === undefined || raw.length === 0) return { ok: true, present: false };
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.byteLength;
  if (bytes > maxBytes) return { ok: false, failure: 'too_large', detail: `The body is larger than ${maxBytes} bytes` };
  if (!isJsonContentType(header('content-type'))) {
    return { ok: false, failure: 'media_type', detail: 'The body must be application/json (UTF-8)' };
  }
  try {
    const text = typeof raw === 'string' ? raw : decoder.decode(raw);
    return { ok: true, present: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, failure: 'not_json', detail: 'The body is not valid UTF-8 JSON' };
  }
}

/** Keys that could reach an object's prototype when a body is merged or copied carelessly. */
const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 64;

/**
 * Finds reserved keys (`__proto__`, `constructor`, `prototype`) anywhere in
 * a parsed body, and nesting deeper than any tenant field allows. Iterative,
 * so a hostile nesting depth cannot overflow the stack.
 */
export function hostileKeys(value: unknown): AdminFieldError[] {
  const errors: AdminFieldError[] = [];
  const stack: { value: unknown; path: string; depth: number }[] = [{ value, path: '', depth: 0 }];
  while (stack.length > 0 && errors.length < 20) {
    const { value: item, path, depth } = stack.pop() as { value: unknown; path: string; depth: number };
    if (typeof item !== 'object' || item === null) continue;
    if (depth > MAX_DEPTH) {
      errors.push({ field: path, message: `is nested deeper than ${MAX_DEPTH} levels` });
      continue;
    }
    for (const key of Object.keys(item)) {
      const field = path === '' ? key : `${path}.${key}`;
      if (RESERVED_KEYS.has(key)) errors.push({ field, message: 'is a reserved key (__proto__, constructor and prototype are refused)' });
      else stack.push({ value: (item as Record<string, unknown>)[key], path: field, depth: depth + 1 });
    }
  }
  return errors;
}

/** Whether a value is a plain JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
