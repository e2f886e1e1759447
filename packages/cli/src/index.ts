/**
 * The `tenant` command line of the @tenant/* toolkit: store migrations,
 * the tenant lifecycle, JSON and CSV import and export, schema-per-tenant
 * provisioning, cache warm-up and health checks. The binary is `tenant`;
 * this entry point lets you run the same commands from code.
 *
 * @packageDocumentation
 */
export { run } from './cli.js';
export type { CliIo } from './cli.js';
export { EXIT_CODES, CliError } from './errors.js';
export type { ExitCode } from './errors.js';
export { parseStoreUrl, DEFAULT_DATABASE } from './target.js';
export type { StoreTarget } from './target.js';
export type { OutputStream } from './output.js';
export { escapeFormula, unescapeFormula, CSV_COLUMNS } from './formats.js';
