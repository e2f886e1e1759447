import { createSaasApp } from './app.js';
import { loadConfig } from './config.js';

const config = loadConfig();
const saas = await createSaasApp(config);
const { app } = saas;
await app.listen({ port: config.port, host: config.host });
const address = app.server.address();
const port = typeof address === 'object' && address ? address.port : config.port;
const base = `http://127.0.0.1:${port}`;
const where = config.database.kind === 'postgres' ? 'PostgreSQL' : `SQLite (${config.database.file})`;

console.log(`Multi-tenant SaaS example on ${base}
  data:    ${where}${saas.database.dialect === 'postgres' ? `, row-level security ${saas.rlsEnforced ? 'enforced' : 'NOT enforced (this role is a superuser or BYPASSRLS)'}` : ''}
  cache and quotas: ${config.redisUrl ? 'Redis (REDIS_URL) + memory' : 'in memory (set REDIS_URL to share them)'}
  admin token: ${config.adminTokenIsDefault ? `${config.adminToken}   <- development default: set ADMIN_TOKEN in production` : '(from ADMIN_TOKEN)'}

  curl -H 'authorization: Bearer ${config.adminTokenIsDefault ? config.adminToken : '$ADMIN_TOKEN'}' ${base}/admin/tenants
  curl -H 'x-tenant-id: acme' -H 'content-type: application/json' -d '{"name":"Launch"}' ${base}/projects
  curl -H 'x-tenant-id: acme' ${base}/projects
  curl ${base}/metrics

See examples/saas/README.md for the walk-through. Ctrl-C to stop.`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  saas.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
