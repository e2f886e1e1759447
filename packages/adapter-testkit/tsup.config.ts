import { definePackageConfig } from '../../tsup.config.base.js';

// ESM only: the suite imports vitest, which cannot be loaded by require().
// `bench` is its own entry, without vitest or (in the bare server) @tenant/core.
export default definePackageConfig({ entry: { index: 'src/index.ts', bench: 'src/bench.ts' }, format: ['esm'] });
