// The generic fetch wrapper of @tenant/core/fetch (`withTenancy`) passes the
// fetch-mode suite, in process and over real HTTP; the tenant it exposes is
// `tenantOf(request)`.
import { tenantOf, withTenancy } from '@tenant/core/fetch';
import { runFetchAdapterConformance } from '../src/index.js';
import { laxFetchRoute } from './lax-fetch-router.js';

// No framework, no router: the setup's routes are matched by the laxest router there is.
runFetchAdapterConformance('@tenant/core/fetch withTenancy', ({ options, handler, routes }) =>
  withTenancy(options, (request) => handler({ request, tenant: tenantOf(request), ...laxFetchRoute(routes, request) })),
);
