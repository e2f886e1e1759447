import type { ConformanceRoute } from '../src/index.js';

/**
 * The router of the fetch reference adapters' tests (no framework: the
 * application matches the routes itself): as lax as a router gets on a Web
 * `Request` (its URL already has dot segments resolved; everything decoded
 * once, `%2F` included, case ignored, duplicate and trailing slashes
 * ignored), so that the pipeline's default routing must cover (or refuse)
 * every variant that reaches a guarded route.
 */
export function laxFetchRoute(routes: readonly ConformanceRoute[], request: Request): { route: string } | undefined {
  let path: string;
  try {
    path = decodeURIComponent(new URL(request.url).pathname);
  } catch {
    return undefined;
  }
  path = path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  const found = routes.find((route) => route.method === request.method && new RegExp(`^${route.path.replace(/:[a-z]+/gi, '[^/]+')}$`, 'i').test(path));
  return found === undefined ? undefined : { route: found.path };
}
