/* global Request, fetch */
// Runs the smoke checks on the runtime that runs this file (node, bun or
// deno): in process (app.fetch) and over real HTTP with the runtime's own
// server (Bun.serve, Deno.serve, @hono/node-server on Node). Prints one line:
// RESULT {"runtime": ..., "results": [...]}.
import { honoApp, smoke, wrappedFetch } from './app.mjs';

const runtime = typeof globalThis.Bun !== 'undefined' ? `bun ${globalThis.Bun.version}` : typeof globalThis.Deno !== 'undefined' ? `deno ${globalThis.Deno.version.deno}` : `node ${process.versions.node}`;

function deferred() {
  let resolve;
  const promise = new Promise((done) => (resolve = done));
  return { promise, resolve };
}

async function serve(fetch) {
  if (typeof globalThis.Bun !== 'undefined') {
    const server = globalThis.Bun.serve({ port: 0, hostname: '127.0.0.1', fetch });
    return { url: `http://127.0.0.1:${server.port}`, close: () => server.stop(true) };
  }
  if (typeof globalThis.Deno !== 'undefined') {
    const { promise, resolve } = deferred();
    const server = globalThis.Deno.serve({ port: 0, hostname: '127.0.0.1', onListen: ({ port }) => resolve(port) }, fetch);
    const port = await promise;
    return { url: `http://127.0.0.1:${port}`, close: () => server.shutdown() };
  }
  const { serve: nodeServe } = await import('@hono/node-server');
  const { promise, resolve } = deferred();
  const server = nodeServe({ fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port));
  const port = await promise;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise((done) => server.close(done)) };
}

const inProcess = (fetch) => (path, headers) => Promise.resolve(fetch(new Request(`http://app.test${path}`, { headers })));

const results = [];
for (const [name, make, options] of [
  ['hono', honoApp, { cors: true }],
  ['wrapper', wrappedFetch, {}],
]) {
  for (const r of await smoke(inProcess(make()), options)) results.push({ ...r, name: `${name} in process: ${r.name}` });
  const server = await serve(make());
  try {
    for (const r of await smoke((path, headers) => fetch(`${server.url}${path}`, { headers }), options)) results.push({ ...r, name: `${name} over HTTP: ${r.name}` });
  } finally {
    await server.close();
  }
}
console.log(`RESULT ${JSON.stringify({ runtime, results })}`);
