import { demoPort, demoUsage, stopOnSignal } from '@tenant/example-shared';
import { createApp, type Platform } from './app.js';

// Listens on 127.0.0.1 and $PORT (3000), on express, or fastify with
// NEST_PLATFORM=fastify; prints curl examples, stops on Ctrl-C.
const platform: Platform = process.env['NEST_PLATFORM'] === 'fastify' ? 'fastify' : 'express';
const app = await createApp(platform);
const port = demoPort();
await app.listen(port, '127.0.0.1');
console.log(demoUsage(`NestJS (${platform})`, port));
stopOnSignal(() => app.close());
