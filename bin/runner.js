#!/usr/bin/env node
// The `runner` command: the built CLI (npm install builds dist/ through the `prepare` script).
// It exits explicitly once the command is done, so no stray handle can keep a finished run alive.
import('../dist/cli.js').then(
  async ({ main }) => {
    await main();
    process.exit(process.exitCode ?? 0);
  },
  (error) => {
    if (error && error.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/cli.js')) {
      console.error('error: runner is not built: run `npm install` (or `npm run build`) in the runner folder');
      process.exit(1);
    }
    throw error;
  },
);
