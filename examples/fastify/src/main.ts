import { demoPort, demoUsage, stopOnSignal } from '@tenant/example-shared';
import { createApp } from './app.js';

const port = demoPort();
const app = await createApp();
await app.listen({ port, host: '127.0.0.1' });
console.log(demoUsage('fastify', port));
stopOnSignal(() => app.close());
