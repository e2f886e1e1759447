import { createServer } from 'node:http';
import express from 'express';
import express4 from 'express4';
import { listen, runAdapterConformance, type StartServer } from '@tenant/adapter-testkit';
import { tenancy } from '../src/index.js';

const start =
  (createApp: typeof express): StartServer =>
  ({ options, handler }) => {
    const app = createApp();
    app.use(tenancy(options));
    // a catch-all for every method and path, for Express 4 and 5 alike
    app.use((req, res, next) => {
      handler({ req, res, tenant: req.tenant }).catch(next);
    });
    return listen(createServer(app));
  };

runAdapterConformance('express 5', start(express));
runAdapterConformance('express 4', start(express4));
