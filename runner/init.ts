/**
 * `runner init [dir]` (k6's `k6 new`): a project of one's own for TypeScript scenarios — a
 * package.json that depends on runner, TypeScript and @types/node, a tsconfig.json under which
 * scenario files type-check strictly (runner ships built declaration files, dist/types, so the
 * project's own settings and skipLibCheck apply to them), an example scenario and an accounts
 * file whose senders the built-in fake proxy knows, so `npx runner run scenario.ts --with-fixture`
 * works as soon as `npm install` is done.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OutputError, UsageError } from './errors.ts';

/** What is at `path`: nothing, a file, a folder or something else (a socket, a device). */
function kindOf(path: string): 'missing' | 'file' | 'directory' | 'other' {
  try {
    const stats = statSync(path);
    return stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : 'other';
  } catch (error) {
    // ENOTDIR: a parent is a file; the write below says so
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return 'missing';
    throw error;
  }
}

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

/**
 * Writes the project; refuses to overwrite a file unless `force`, and a folder in a file's place
 * always. All or nothing: when a write fails (a read-only folder, a full disk), the files and
 * folders it created are removed and the error says why. Returns the folder written.
 */
export function runInit(options: InitOptions = {}): string {
  const stdout = options.stdout ?? process.stdout;
  const dir = resolvePath(options.cwd ?? process.cwd(), options.dir ?? '.');
  // An empty spec would make npm install whatever the registry calls "runner"
  if (options.runnerSpec !== undefined && options.runnerSpec.trim() === '') {
    throw new UsageError('runner init: --runner is empty', 'name where runner comes from, e.g. --runner git+https://HOST/OWNER/runner.git or --runner file:../runner; or leave --runner out for this checkout');
  }
  const dirKind = kindOf(dir);
  if (dirKind !== 'missing' && dirKind !== 'directory') {
    throw new UsageError(`runner init: ${dir} is ${dirKind === 'file' ? 'a file' : 'not a folder'}`, 'name a new folder (runner init my-load-tests) or an existing one');
  }
  const kinds = INIT_FILES.map((file) => [file, kindOf(join(dir, file))] as const);
  const notFiles = kinds.filter(([, kind]) => kind !== 'missing' && kind !== 'file').map(([file]) => file);
  if (notFiles.length > 0) {
    throw new UsageError(`runner init: ${notFiles.join(', ')} in ${dir} ${notFiles.length === 1 ? 'is a folder' : 'are folders'}, not a file`, 'choose another folder (runner init my-load-tests), or move it away');
  }
  const existing = kinds.filter(([, kind]) => kind === 'file').map(([file]) => file);
  if (existing.length > 0 && !options.force) {
    throw new UsageError(`runner init: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''} in ${dir}`, 'choose another folder (runner init my-load-tests), or add --force to overwrite them');
  }
  const files = initFiles(packageNameOf(basename(dir)), options.runnerSpec ?? `file:${PACKAGE_ROOT}`);
  const created: string[] = [];
  let firstNewDir: string | undefined;
  try {
    firstNewDir = mkdirSync(dir, { recursive: true });
    for (const file of INIT_FILES) {
      const path = join(dir, file);
      const isNew = !existsSync(path);
      writeFileSync(path, files[file]);
      if (isNew) created.push(path);
    }
  } catch (error) {
    // Leave nothing half-made: a second `runner init` would then refuse the files of the first.
    for (const path of created) rmSync(path, { force: true });
    if (firstNewDir) rmSync(firstNewDir, { recursive: true, force: true });
    const { code, message } = error as NodeJS.ErrnoException;
    const why = code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'not allowed to write there' : code === 'ENOTDIR' ? 'part of the path is a file, not a folder' : code === 'ENOSPC' ? 'the disk is full' : message;
    // exit 111, as for any file runner cannot write
    throw new OutputError(`runner init: cannot write the project in ${dir}: ${why}${code ? ` (${code})` : ''}`, 'choose a folder you can write to, e.g. runner init ~/my-load-tests', error);
  }
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
