import type { AddressInfo } from 'node:net';
import { describeExampleSmoke } from '@tenant/example-shared/smoke';
import { expect, it } from 'vitest';
import { createApp, type Platform } from '../src/app.js';

for (const platform of ['express', 'fastify'] as const satisfies readonly Platform[]) {
  describeExampleSmoke(
    `nestjs example on ${platform}`,
    async () => {
      const app = await createApp(platform, { logger: false });
      await app.listen(0, '127.0.0.1');
      const { port } = app.getHttpServer().address() as AddressInfo;
      return { url: `http://127.0.0.1:${port}`, close: () => app.close() };
    },
    { adapter: true },
    (call) => {
      it('checks the chat policy for the route, however the path is spelled', async () => {
        // acme may use gpt-4o and gpt-4o-mini, not gpt-5: a spelling is refused by the policy, or routed nowhere
        const statuses: number[] = [];
        for (const path of ['/chat', '/Chat', '/CHAT', '/chat/', '/ch%61t', '/%63hat']) {
          const res = await call(`${path}?model=gpt-5`, 'acme', { method: 'POST', body: JSON.stringify({ prompt: 'hi' }) });
          expect([403, 404], path).toContain(res.status);
          statuses.push(res.status);
        }
        expect(statuses[0]).toBe(403);
        expect(statuses.filter((status) => status === 403).length).toBeGreaterThan(1);
      });
    },
  );
}
