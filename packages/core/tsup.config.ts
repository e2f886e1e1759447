import { definePackageConfig } from '../../tsup.config.base.js';

export default definePackageConfig({ entry: { index: 'src/index.ts', fetch: 'src/fetch.ts', testing: 'src/testing.ts' } });
