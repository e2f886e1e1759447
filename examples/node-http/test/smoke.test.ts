import { describeExampleSmoke, listen } from '@tenant/example-shared/smoke';
import { expect, it } from 'vitest';
import { createApp } from '../src/app.js';

describeExampleSmoke('node:http example', () => listen(createApp()), { adapter: false }, (call) => {
  // This app checks the model and a token estimate in the /chat route itself
  // (tenancy.authorize), with the model in the body.
  it('enforces policy and settles tokens on /chat', async () => {
    const denied = await call('/chat', 'acme', { method: 'POST', body: JSON.stringify({ model: 'o1-pro', prompt: 'hi' }) });
    expect(denied.status).toBe(403);
    expect(((await denied.json()) as { code: string }).code).toBe('policy_denied');
    const ok = await call('/chat', 'acme', { method: 'POST', body: JSON.stringify({ model: 'gpt-4o', prompt: 'hello there' }) });
    expect(ok.status).toBe(200);
    const body = (await ok.json()) as { usage: { estimated: number; tokens: number } };
    expect(body.usage.tokens).toBeLessThan(body.usage.estimated);
    const after = (await (await call('/whoami', 'acme')).json()) as { quota: { tokens: { remaining: number; limit: number } } };
    // The settled (real) token count, not the estimate, is what was charged.
    expect(after.quota.tokens.limit - after.quota.tokens.remaining).toBe(body.usage.tokens);
  });
});
