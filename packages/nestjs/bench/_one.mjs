import { serveNest } from './serve.mjs';
const { createMemoryTenantStore, currentTenantId } = await import('@tenant/core');
const options = process.argv[3] === 'bare' ? undefined : { store: createMemoryTenantStore({ tenants: [{ id: 'acme', quota: { requests: { limit: 1e12, windowMs: 60_000 } } }] }) };
const port = await serveNest(process.argv[2], { options, hello: () => `hello ${currentTenantId()}` });
const url = `http://127.0.0.1:${port}/hello`;
for (let i = 0; i < 2; i++) { const r = await fetch(url, { headers: { 'x-tenant-id': 'acme' } }); console.log(r.status, [...r.headers].map(([k, v]) => `${k}: ${v}`).join(' | '), await r.text()); }
process.exit(0);
