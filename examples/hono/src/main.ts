import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { serveDemo } from '@tenant/example-shared';
import { createApp } from './app.js';

// Listens on 127.0.0.1 and $PORT (3000), prints curl examples, stops on Ctrl-C.
// On Bun or Deno: `export default createApp()` (or Bun.serve / Deno.serve with app.fetch).
serveDemo('hono', createAdaptorServer({ fetch: createApp().fetch }) as Server);
