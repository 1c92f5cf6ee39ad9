/**
 * The Dockerfile, checked without docker (not on every machine, nor in .ci/run): what it COPYs
 * exists and is not left out of the build context by .dockerignore; its runtime stage ships what
 * package.json's "files" ship; the packages the built CLI loads at run time are dependencies, not
 * devDependencies, so `npm ci --omit=dev` installs them; and its ENTRYPOINT is the command the
 * Kubernetes manifests run, linked to package.json's bin.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { fileURLToPath } from 'node:url';

/** The repository root. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Instruction {
  keyword: string;
  /** The rest of the line, continuations joined. */
  rest: string;
}

interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Splits a Dockerfile into stages of instructions: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1).trim()} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [keyword, ...rest] = line.split(/\s+/);
    const instruction = { keyword: keyword!.toUpperCase(), rest: rest.join(' ') };
    if (instruction.keyword === 'FROM') {
      const match = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(instruction.rest);
      stages.push({ from: match![1]!, name: match![2], instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${line}: before any FROM`);
      stages.at(-1)!.instructions.push(instruction);
    }
  }
  return stages;
}

/** A COPY's sources and destination; `from` when it copies out of another stage. */
function copyOf(instruction: Instruction): { from: string | undefined; sources: string[]; destination: string } {
  const words = instruction.rest.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  return { from, sources: paths.slice(0, -1), destination: paths.at(-1)! };
}

const stages = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = stages.at(-1)!;
const packageJson = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  files: string[];
  dependencies: Record<string, string>;
};
const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));

const dockerfile = suite('Dockerfile: agrees with the repository, package.json and the manifests');

dockerfile('parseDockerfile: stages, continuations and comments', () => {
  const parsed = parseDockerfile('# a comment\nFROM node:20-slim AS build\nRUN a \\\n  && b\n\nFROM node:20-slim\n# another\nCMD ["x"]\n');
  assert.equal(parsed.map((stage) => [stage.from, stage.name]), [['node:20-slim', 'build'], ['node:20-slim', undefined]]);
  assert.equal(parsed[0]!.instructions, [{ keyword: 'RUN', rest: 'a && b' }]);
  assert.equal(parsed[1]!.instructions, [{ keyword: 'CMD', rest: '["x"]' }]);
});

dockerfile('every stage is node:20-slim (the Node the package asks for)', () => {
  assert.ok(stages.length >= 1);
  for (const stage of stages) assert.is(stage.from, 'node:20-slim');
});

dockerfile('every file it copies from the context exists and is not left out by .dockerignore', () => {
  const sources = stages.flatMap((stage) => stage.instructions.filter((i) => i.keyword === 'COPY').map(copyOf).filter((copy) => copy.from === undefined).flatMap((copy) => copy.sources));
  assert.ok(sources.length > 0);
  for (const source of sources) {
    assert.ok(existsSync(join(ROOT, source)), `COPY ${source}: no such file in the repository`);
    assert.not.ok(ignored.includes(source.split('/')[0]!), `COPY ${source}: .dockerignore leaves it out of the build context`);
  }
});

dockerfile('a --from copies out of a stage that exists', () => {
  const names = stages.map((stage) => stage.name);
  for (const stage of stages) {
    for (const copy of stage.instructions.filter((i) => i.keyword === 'COPY').map(copyOf)) {
      if (copy.from !== undefined) assert.ok(names.includes(copy.from), `COPY --from=${copy.from}: no such stage`);
    }
  }
});

dockerfile('the build stage has every file build.mjs reads and runs npm ci (whose prepare is the build)', () => {
  const build = stages.find((stage) => stage.name === 'build');
  assert.ok(build, 'a stage named build');
  const copied = build.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyOf(i).sources);
  const buildScript = readFileSync(join(ROOT, 'build.mjs'), 'utf8');
  const read = [...buildScript.matchAll(/new URL\('\.\/([^']+)'/g)].map((match) => match[1]!);
  read.push('runner/cli.ts', 'runner/index.ts', 'tsconfig.types.json');
  for (const path of read) assert.ok(copied.some((source) => path === source || path.startsWith(`${source}/`)), `build.mjs needs ${path}; the build stage does not copy it`);
  assert.ok(build.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b/.test(i.rest)));
});

dockerfile('the runtime stage ships what package.json\'s "files" ship, and installs the runtime dependencies only', () => {
  const copied = runtime.instructions.filter((i) => i.keyword === 'COPY').flatMap((i) => copyOf(i).sources.map((source) => source.replace(/^\/app\//, '')));
  for (const entry of packageJson.files.filter((entry) => !entry.startsWith('!'))) {
    assert.ok(copied.includes(entry), `package.json files has ${entry}; the image does not copy it`);
  }
  assert.ok(copied.includes('package.json') && copied.includes('package-lock.json'));
  assert.ok(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.rest)), 'npm ci --omit=dev');
});

dockerfile('the packages the CLI bundle leaves out (loaded at run time) are dependencies, which --omit=dev keeps', () => {
  const buildScript = readFileSync(join(ROOT, 'build.mjs'), 'utf8');
  const external = /external: \[([^\]]*)\]/.exec(buildScript);
  assert.ok(external, 'build.mjs lists its external packages');
  const names = [...external[1]!.matchAll(/'([^']+)'/g)].map((match) => match[1]!);
  assert.ok(names.length > 0);
  for (const name of names) assert.ok(name in packageJson.dependencies, `${name} is loaded at run time but is not in dependencies`);
});

dockerfile('its ENTRYPOINT is the manifests\' command, on the PATH, linked to package.json\'s bin', () => {
  const entrypoint = runtime.instructions.find((i) => i.keyword === 'ENTRYPOINT');
  assert.ok(entrypoint, 'an ENTRYPOINT');
  const command = JSON.parse(entrypoint.rest) as string[];
  assert.equal(command, ['runner']);
  const dir = join(ROOT, 'deploy/kubernetes');
  let containers = 0;
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml'))) {
    for (const document of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      const manifest = document.toJS() as { kind: string; spec?: { template?: { spec: { containers: Array<{ command: string[] }> } } } };
      for (const container of manifest.spec?.template?.spec.containers ?? []) {
        containers++;
        assert.equal(container.command, command, `${file}: the container's command is the image's ENTRYPOINT`);
      }
    }
  }
  assert.is(containers, 2);
  const workdir = runtime.instructions.filter((i) => i.keyword === 'WORKDIR').at(-1)!.rest;
  const bin = packageJson.bin[command[0]!]!;
  assert.ok(runtime.instructions.some((i) => i.keyword === 'RUN' && i.rest.includes(`ln -s ${join(workdir, bin)} /usr/local/bin/${command[0]}`)), `a RUN links /usr/local/bin/${command[0]} to ${join(workdir, bin)}`);
});

dockerfile.run();
