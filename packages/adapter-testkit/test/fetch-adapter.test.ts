// The fetch adapter of docs/writing-an-adapter.md passes the fetch-mode suite,
// in process and over real HTTP.
import { runFetchAdapterConformance } from '../src/index.js';
import { tenantFetch } from './fetch-adapter.js';
import { laxFetchRoute } from './lax-fetch-router.js';

runFetchAdapterConformance('fetch reference adapter', ({ options, handler, routes }) =>
  tenantFetch(options, (request, tenant) => handler({ request, tenant, ...laxFetchRoute(routes, request) })),
);
