/* global Request, Response */
// The smoke app as a Cloudflare Worker (bundled by the test, run by workerd
// through miniflare with nodejs_compat): /__smoke runs the checks inside the
// worker; other paths go to the Hono app (or the wrapper, with x-app: wrapper).
import { honoApp, smoke, wrappedFetch } from './app.mjs';

const apps = { hono: honoApp(), wrapper: wrappedFetch() };
const inProcess = (fetch) => (path, headers) => Promise.resolve(fetch(new Request(`http://app.test${path}`, { headers })));

export default {
  async fetch(request) {
    const url = new URL(request.url);
    if (url.pathname === '/__smoke') {
      const results = [];
      for (const [name, make, options] of [
        ['hono', honoApp, { cors: true }],
        ['wrapper', wrappedFetch, {}],
      ]) {
        for (const r of await smoke(inProcess(make()), options)) results.push({ ...r, name: `${name} in the worker: ${r.name}` });
      }
      return Response.json(results);
    }
    return (request.headers.get('x-app') === 'wrapper' ? apps.wrapper : apps.hono)(request);
  },
};
