import { createApp } from './app.js';

const port = Number(process.env['PORT'] ?? 3000);
const app = await createApp();
await app.listen({ port, host: '127.0.0.1' });
console.log(`Multi-tenant fastify demo on http://127.0.0.1:${port}

  curl -H 'x-tenant-id: acme' http://127.0.0.1:${port}/whoami
  curl http://acme.localhost:${port}/whoami
  curl -H 'x-tenant-id: globex' -H 'content-type: application/json' -d '{"text":"hello"}' http://127.0.0.1:${port}/notes
  curl -H 'x-tenant-id: globex' -H 'content-type: application/json' -d '{"prompt":"hi"}' 'http://127.0.0.1:${port}/chat?model=gpt-4o'
  curl -H 'x-tenant-id: initech' http://127.0.0.1:${port}/whoami   # suspended: 403

Ctrl-C to stop.`);
const stop = () => void app.close().then(() => process.exit(0));
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
