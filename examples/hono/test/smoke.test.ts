import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { describeExampleSmoke, listen } from '@tenant/example-shared/smoke';
import { expect, it } from 'vitest';
import { createApp } from '../src/app.js';

describeExampleSmoke('hono example', () => listen(createAdaptorServer({ fetch: createApp().fetch }) as Server), { adapter: true }, (call) => {
  it('keeps the CORS and security headers on refusals', async () => {
    const res = await call('/whoami', 'initech', { headers: { origin: 'https://front.test' } });
    expect(res.status).toBe(403);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  });
});
