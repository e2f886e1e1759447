import { createServer } from 'node:http';
import { listen, runAdapterConformance } from '../src/index.js';
import { withTenancy } from './node-http-adapter.js';

runAdapterConformance('node:http reference adapter', ({ options, handler }) =>
  listen(createServer(withTenancy(options, (req, res, tenant) => handler({ req, res, tenant })))),
);
