import { defineConfig, type Options } from 'tsup';

/**
 * The one build every package uses: ESM + CJS, with `.d.ts` and `.d.cts`,
 * for Node 20+ (and Bun, Deno, workerd: built imports keep `node:`). A package's own `tsup.config.ts` names only its entry points.
 */
export function definePackageConfig(options: { entry: Record<string, string> } & Partial<Options>) {
  return defineConfig({
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
    splitting: true,
    treeshake: true,
    outDir: 'dist',
    // Keep `node:` in built imports: Deno and workerd (nodejs_compat) resolve
    // Node's built-in modules only by that name.
    removeNodeProtocol: false,
    ...options,
  });
}
