/**
 * The injection token of the module's adapter options (what `forRoot` was
 * given, or what the `forRootAsync` factory returned).
 */
export const TENANCY_OPTIONS = Symbol.for('@tenant/nestjs.options');

/** The injection token of the `@tenant/core` pipeline (`Tenancy`) the module runs. */
export const TENANCY_PIPELINE = Symbol.for('@tenant/nestjs.pipeline');

// Metadata keys: strings with the package name, so that two copies of this
// package (an ESM and a CJS build) read each other's decorators.
/** @internal */
export const SKIP_TENANCY_KEY = '@tenant/nestjs:skip';
/** @internal */
export const REQUIRE_POLICY_KEY = '@tenant/nestjs:policy';
/** @internal */
export const TENANT_COST_KEY = '@tenant/nestjs:cost';
