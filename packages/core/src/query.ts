import { TenantError } from '@tenant/interfaces';

/**
 * The most `&`-separated pieces a query may have for {@link queryParam} to
 * read it: Node's `querystring` (Express 5, Koa) and `qs` (Express 4) stop
 * reading after 1,000 parameters, so a parameter past that point would be
 * seen by the policy and not by the handler.
 */
export const QUERY_PARAM_LIMIT = 1_000;

const refuse = (name: string, why: string): never => {
  throw new TenantError('query_invalid', `[@tenant/core] Query parameter "${name}" has no single value: ${why}`);
};

/** `+` as a space, then strict percent-decoding; `undefined` when the text is not valid percent-encoded UTF-8. */
function decodeStrict(text: string): string | undefined {
  const spaced = text.includes('+') ? text.replace(/\+/g, ' ') : text;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return undefined;
  }
}

/** What a lenient parser makes of text that is not valid: valid escapes decoded one byte at a time, the rest kept. */
function decodeLenient(text: string): string {
  return text.replace(/\+/g, ' ').replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Whether some common parser could file `key` under the parameter `name`:
 * the name itself, or the name with bracket or dot syntax around it, which
 * `qs` (Express 4's `extended` parser, and many others) reads as nesting
 * (`model[]`, `model[0]`, `model[`, `[model]`, `model.x` and `.model` with
 * `allowDots`). Deliberately wider than any one parser: a key that merely
 * could be read as the name counts.
 */
function readsAs(key: string, name: string): boolean {
  if (key === name) return true;
  const bare = key.replace(/^[[\].]+/, '');
  if (!bare.startsWith(name)) return false;
  const next = bare.charAt(name.length);
  return next === '' || next === '[' || next === ']' || next === '.';
}

/**
 * Reads one query parameter the way every common parser would agree on, for
 * a `policyRequest` or `cost` function: `undefined` when it is absent, its
 * decoded value when it is given exactly once, and a 400 `query_invalid`
 * {@link TenantError} when parsers could disagree about it.
 *
 * Why: the policy and the route handler read the query with different
 * parsers. `URLSearchParams.get('model')` sees the first of
 * `?model=gpt-4o-mini&model=gpt-4o`, while Fastify, Koa and Express give the
 * handler both (an array), `qs` reads `?model[]=gpt-4o` and `?[model]=gpt-4o`
 * as `model`, and bad percent-encoding decodes differently in each. A policy
 * that checked one value while the handler used another is a bypass; this
 * function refuses every such query instead:
 *
 * - the name given more than once, in any spelling that decodes to it
 *   (`mod%65l`), or also in a nested spelling (`model[]`, `model[0]`,
 *   `model[x]`, `[model]`, `model.x`);
 * - its value (or a key read as it) with invalid percent-encoding or UTF-8,
 *   or its piece containing `]=` (which `qs` splits elsewhere);
 * - a query of more than {@link QUERY_PARAM_LIMIT} pieces.
 *
 * Read the same parameter in the handler as a single string (refuse an
 * array), and prefer one source: a model taken from the body is not checked
 * by a policy that reads the query.
 *
 * @param request - Anything with the raw query string (a `TenantRequest`, a `RoutedRequest`).
 * @param name - The decoded parameter name, as the handler reads it.
 * @throws TenantError `query_invalid` (400) when the value is ambiguous.
 *
 * @example
 * ```ts
 * import { queryParam } from '@tenant/core';
 *
 * const options = {
 *   policyRequest: (request) => (request.path === '/chat' ? { models: queryParam(request, 'model') ?? 'gpt-4o-mini' } : undefined),
 * };
 * queryParam({ query: 'model=gpt-4o' }, 'model');                  // 'gpt-4o'
 * queryParam({ query: 'model=gpt-4o-mini&model=gpt-4o' }, 'model'); // throws query_invalid
 * ```
 */
export function queryParam(request: { readonly query: string }, name: string): string | undefined {
  if (typeof name !== 'string' || name === '') throw new TypeError('[@tenant/core] queryParam needs a parameter name');
  const query = typeof request?.query === 'string' ? request.query : '';
  if (query === '') return undefined;
  const pieces = query.split('&');
  if (pieces.length > QUERY_PARAM_LIMIT) refuse(name, `the query has more than ${QUERY_PARAM_LIMIT} parameters, and parsers stop at different points`);
  let found: string | undefined;
  for (const piece of pieces) {
    if (piece === '') continue;
    const equals = piece.indexOf('=');
    const rawKey = equals === -1 ? piece : piece.slice(0, equals);
    const key = decodeStrict(rawKey);
    // A key some parser could decode into the name (strictly, leniently, or as it is).
    const candidates = key === undefined ? [decodeLenient(rawKey), rawKey] : [key];
    // qs splits a piece at `]=` when it has one, not at the first `=`.
    const bracketEquals = piece.indexOf(']=');
    if (bracketEquals !== -1) candidates.push(decodeLenient(piece.slice(0, bracketEquals + 1)));
    if (!candidates.some((candidate) => readsAs(candidate, name))) continue;
    if (bracketEquals !== -1) refuse(name, 'a piece with "]=" is split there by some parsers and at the first "=" by others');
    if (key !== name) refuse(name, `it is given as ${JSON.stringify(rawKey.slice(0, 64))}, which some parsers read as the same parameter`);
    if (found !== undefined) refuse(name, 'it is given more than once');
    const value = decodeStrict(equals === -1 ? '' : piece.slice(equals + 1));
    if (value === undefined) refuse(name, 'its value is not valid percent-encoded UTF-8');
    found = value;
  }
  return found;
}
