import { readFileSync } from 'node:fs';
import { definePackageConfig } from '../../tsup.config.base.js';

const { version } = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8')) as { version: string };

export default [
  definePackageConfig({ entry: { index: 'src/index.ts' }, define: { __CLI_VERSION__: JSON.stringify(version) } }),
  // The binary: ESM only, no types; built after the library (clean: false keeps it).
  definePackageConfig({ entry: { bin: 'src/bin.ts' }, format: ['esm'], dts: false, clean: false, define: { __CLI_VERSION__: JSON.stringify(version) } }),
];
