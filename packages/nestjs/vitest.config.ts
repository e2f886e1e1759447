import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // swc instead of esbuild: Nest's dependency injection reads the constructor
  // parameter types that only `emitDecoratorMetadata` records (legacy decorators, from tsconfig.json)
  plugins: [swc.vite({ module: { type: 'es6' } })],
  test: { name: 'nestjs', include: ['test/**/*.test.ts'], setupFiles: ['reflect-metadata'] },
});
