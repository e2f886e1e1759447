import type { IncomingMessage } from 'node:http';
import type { ConformanceRoute } from '../src/index.js';

/**
 * The router of the node:http reference adapter's tests: as lax as a router
 * gets (dot segments resolved as a WHATWG URL does, everything decoded once,
 * `%2F` included, case ignored, duplicate and trailing slashes ignored), so
 * that the most variants reach the guarded routes and the pipeline's
 * default routing must cover (or refuse) every one of them.
 */
export function laxRoute(routes: readonly ConformanceRoute[], req: IncomingMessage): { route: string } | undefined {
  const target = (req.url ?? '/').split('?')[0] as string;
  let path: string;
  try {
    path = decodeURIComponent(new URL(`http://router${target}`).pathname);
  } catch {
    return undefined;
  }
  path = path.toLowerCase().replace(/\/{2,}/g, '/').replace(/(.)\/$/, '$1');
  const found = routes.find((route) => route.method === req.method && new RegExp(`^${route.path.replace(/:[a-z]+/gi, '[^/]+')}$`, 'i').test(path));
  return found === undefined ? undefined : { route: found.path };
}
