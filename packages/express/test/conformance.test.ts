import { createServer } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { listen, runAdapterConformance, type StartServer } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const start =
  (createApp: typeof express, settings: Record<string, boolean> = {}): StartServer =>
  ({ options, handler, routes }) => {
    const app = createApp();
    for (const [name, value] of Object.entries(settings)) app.set(name, value);
    app.use(tenancy(options));
    // the guarded routes, on express's own router
    for (const route of routes) {
      app[route.method === 'GET' ? 'get' : 'post'](route.path, (req, res, next) => {
        handler({ req, res, tenant: req.tenant, route: route.path }).catch(next);
      });
    }
    // a catch-all for every method and path, for Express 4 and 5 alike
    app.use((req, res, next) => {
      handler({ req, res, tenant: req.tenant }).catch(next);
    });
    return listen(createServer(app));
  };

runAdapterConformance('express 5', start(express));
runAdapterConformance('express 4', start(express4));
// The app's own routing settings are read: the variants follow them.
runAdapterConformance('express 5, case sensitive and strict routing', start(express, { 'case sensitive routing': true, 'strict routing': true }), { only: ['path-variants', 'policy'] });
