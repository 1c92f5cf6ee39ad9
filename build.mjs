// Bundles the TypeScript sources into dist/ with esbuild (runs on `npm install` via `prepare`).
// Dependencies stay external: they are installed next to us.
import { build } from 'esbuild';

await build({
  entryPoints: { cli: 'runner/cli.ts', index: 'runner/index.ts' },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: true,
  logLevel: 'warning',
});
