import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// The suite of @tenant/nestjs (its tests and its sources), with every import
// of Nest resolved to the NestJS 11 installed in this package instead of the
// current major the package develops against.
const here = createRequire(import.meta.url);
const NEST = /^@nestjs\/(common|core|platform-express|platform-fastify|testing)(\/package\.json)?$/;

export default defineConfig({
  root: fileURLToPath(new URL('../..', import.meta.url)),
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias: [{ find: NEST, replacement: '$&', customResolver: (source) => here.resolve(source) }] },
  test: {
    name: 'nestjs-compat-nest11',
    include: ['test/**/*.test.ts'],
    setupFiles: ['reflect-metadata'],
    env: { NEST_MAJOR: '11' },
  },
});
