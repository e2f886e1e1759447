import { describeExampleSmoke } from '@tenant/example-shared/smoke';
import { createApp } from '../src/app.js';

describeExampleSmoke(
  'fastify example',
  async () => {
    const app = await createApp();
    return { url: await app.listen({ port: 0, host: '127.0.0.1' }), close: () => app.close() };
  },
  { adapter: true },
);
