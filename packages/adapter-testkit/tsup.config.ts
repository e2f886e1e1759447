import { definePackageConfig } from '../../tsup.config.base.js';

// ESM only: the suite imports vitest, which cannot be loaded by require().
export default definePackageConfig({ entry: { index: 'src/index.ts' }, format: ['esm'] });
