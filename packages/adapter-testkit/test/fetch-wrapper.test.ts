// The generic fetch wrapper of @tenant/core/fetch (`withTenancy`) passes the
// fetch-mode suite, in process and over real HTTP; the tenant it exposes is
// `tenantOf(request)`.
import { tenantOf, withTenancy } from '@tenant/core/fetch';
import { runFetchAdapterConformance } from '../src/index.js';

runFetchAdapterConformance('@tenant/core/fetch withTenancy', ({ options, handler }) => withTenancy(options, (request) => handler({ request, tenant: tenantOf(request) })));
