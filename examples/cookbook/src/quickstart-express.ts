import express, { type Express } from 'express';
import { requireTenant } from '@tenant/core';
import { tenancy } from '@tenant/express';
import { quickstartOptions } from './quickstart-tenants.js';

export function createApp(): Express {
  const app = express();
  app.use(tenancy(quickstartOptions())); // before the routes and the body parsers
  app.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get('/whoami', (req, res) => {
    res.json({ tenant: requireTenant().id, plan: req.tenant?.plan });
  });
  return app;
}
