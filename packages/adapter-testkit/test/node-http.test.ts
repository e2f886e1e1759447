import { createServer } from 'node:http';
import { listen, runAdapterConformance, type StartServer } from '../src/index.js';
import { laxRoute } from './lax-router.js';
import { withTenancy } from './node-http-adapter.js';

// node:http has no router: the routes of the setup are matched by the laxest router there is.
const start: StartServer = ({ options, handler, routes }) =>
  listen(createServer(withTenancy(options, (req, res, tenant) => handler({ req, res, tenant, ...laxRoute(routes, req) }))));

runAdapterConformance('node:http reference adapter', start);

// A second run in the same file, to prove that runs do not share tenants or counters.
runAdapterConformance('node:http reference adapter (second run)', start, { concurrency: 200, largeBodyBytes: 256 * 1024 });
