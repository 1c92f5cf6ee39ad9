/**
 * `runner init [dir]` (k6's `k6 new`): a project of one's own for TypeScript scenarios — a
 * package.json that depends on runner, TypeScript and @types/node, a tsconfig.json under which
 * scenario files type-check strictly (runner ships built declaration files, dist/types, so the
 * project's own settings and skipLibCheck apply to them), an example scenario and an accounts
 * file whose senders the built-in fake proxy knows, so `npx runner run scenario.ts --with-fixture`
 * works as soon as `npm install` is done.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './errors.ts';

/** runner's package root: this file is runner/init.ts, or bundled into dist/cli.cjs. */
const PACKAGE_ROOT = dirname(dirname(fileURLToPath(import.meta.url)));

/** What `runner init` takes. */
export interface InitOptions {
  /** The project's folder, created when missing. @default '.' */
  dir?: string;
  /** How package.json names the runner dependency. @default `file:` and this runner's own folder */
  runnerSpec?: string;
  /** Overwrite files that exist. @default false */
  force?: boolean;
  cwd?: string;
  stdout?: NodeJS.WritableStream;
}

/** The files `runner init` writes, in order, each with what it is for. */
export const INIT_FILES = ['package.json', 'tsconfig.json', 'scenario.ts', 'accounts.json'] as const;

/** A package name npm accepts, from a folder name (lower case, no spaces); 'smtp-load-test' when nothing is left. */
export function packageNameOf(folder: string): string {
  const name = folder.toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+|-+$/g, '');
  return name || 'smtp-load-test';
}

/** runner's own devDependency range of `name`, so a new project uses the versions runner is tested with. */
function ownVersionOf(name: string, fallback: string): string {
  try {
    const own = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string> };
    return own.devDependencies?.[name] ?? fallback;
  } catch {
    return fallback;
  }
}

/** The text of each file, for a project named `name` depending on runner as `runnerSpec`. */
export function initFiles(name: string, runnerSpec: string): Record<(typeof INIT_FILES)[number], string> {
  const packageJson = {
    name,
    private: true,
    type: 'module',
    scripts: {
      typecheck: 'tsc',
      'load-test': 'runner run scenario.ts',
      'load-test:fixture': 'runner run scenario.ts --with-fixture --duration 10s',
    },
    dependencies: { runner: runnerSpec },
    devDependencies: { '@types/node': ownVersionOf('@types/node', '^20.19.0'), typescript: ownVersionOf('typescript', '^5.9.0') },
  };
  const tsconfig = {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      // Scenario files are run by runner (esbuild), never compiled by tsc: it only checks them,
      // and may then allow `import './recipients.ts'` as esbuild does.
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
      types: ['node'],
    },
    include: ['**/*.ts'],
    exclude: ['node_modules'],
  };
  const scenario = `// A load test scenario: \`npx runner run scenario.ts\` (add --with-fixture to try it against
// runner's built-in fake proxy, which accepts the senders of accounts.json). \`npx tsc\` checks it.
import { defineScenario, Trend } from 'runner';

/** From MAIL FROM to the message accepted: a custom metric, in ms. */
const sendTime = new Trend('send_time', true);

export default defineScenario({
  description: 'Example: 5 VUs for 30 s, p95 under 500 ms, under 1% of messages failed',
  target: { host: '127.0.0.1', port: 2525 },
  // A reserved test domain (RFC 2606): no real mailbox receives these.
  smtp: { to: ['load@example.com'], messageSize: 2048 },
  // Senders round robin from the proxy's own accounts file (path relative to this file).
  accounts: { file: './accounts.json', pick: 'round-robin' },
  thresholds: {
    smtp_txn_duration: ['p(95)<500ms'],
    smtp_txn_failed: ['rate<0.01'],
    send_time: ['p(95)<400'],
    iteration_errors: ['count==0'],
  },
  scenarios: {
    steady: { executor: 'constant-vus', vus: 5, duration: '30s' },
  },
  async iteration(ctx) {
    await ctx.smtp.connect();
    await ctx.smtp.ehlo();
    await ctx.smtp.auth();
    const start = performance.now();
    await ctx.smtp.mail();
    await ctx.smtp.rcpt();
    await ctx.smtp.data();
    sendTime.add(performance.now() - start);
    await ctx.smtp.quit();
  },
});
`;
  const accounts = [
    { email: 'test@example.com', provider: 'gmail' },
    { email: 'sales@company.com', provider: 'outlook' },
  ];
  return {
    'package.json': JSON.stringify(packageJson, null, 2) + '\n',
    'tsconfig.json': JSON.stringify(tsconfig, null, 2) + '\n',
    'scenario.ts': scenario,
    'accounts.json': JSON.stringify(accounts, null, 2) + '\n',
  };
}

/** Writes the project; refuses to overwrite a file unless `force`. Returns the folder written. */
export function runInit(options: InitOptions = {}): string {
  const stdout = options.stdout ?? process.stdout;
  const dir = resolvePath(options.cwd ?? process.cwd(), options.dir ?? '.');
  const existing = INIT_FILES.filter((file) => existsSync(join(dir, file)));
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`runner init: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}`, 'choose another folder (runner init my-load-tests), or add --force to overwrite them');
  }
  const files = initFiles(packageNameOf(basename(dir)), options.runnerSpec ?? `file:${PACKAGE_ROOT}`);
  mkdirSync(dir, { recursive: true });
  for (const file of INIT_FILES) writeFileSync(join(dir, file), files[file]);
  const shown = relative(options.cwd ?? process.cwd(), dir) || '.';
  stdout.write([
    `Created in ${shown}:`,
    '  package.json   depends on runner, typescript and @types/node',
    '  tsconfig.json  strict type checking of scenario files (npx tsc)',
    '  scenario.ts    an example: 5 VUs for 30 s, thresholds, a custom metric',
    '  accounts.json  the senders (the built-in fake proxy knows them)',
    'Next:',
    ...(shown === '.' ? [] : [`  cd ${shown}`]),
    '  npm install',
    '  npx tsc                                                     # type-check the scenario',
    '  npx runner run scenario.ts --with-fixture --duration 10s    # try it against the built-in fake proxy',
    '',
  ].join('\n'));
  return dir;
}
