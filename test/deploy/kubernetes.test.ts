/**
 * deploy/kubernetes/: every manifest is valid against the Kubernetes API's JSON schemas (the
 * kubernetes-models package's validators, generated from the API's OpenAPI document, offline);
 * the manifests agree with each other (the agents' DNS names, the Service's selector, the
 * ConfigMap's key, the Secret); and the exact command lines the containers run work as local
 * processes on 127.0.0.1, with only the cluster's addresses and mounted paths put in local terms.
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Service } from 'kubernetes-models/v1/Service';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { createTempDir } from '../helpers.ts';
import { ROOT, startCli, startFixtureProcess, type CliProcess } from '../cli-process.ts';

const DIR = join(ROOT, 'deploy/kubernetes');

interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
}
type PodSpec = {
  subdomain?: string;
  containers: Array<{ command: string[]; args: string[]; volumeMounts?: Array<{ name: string; mountPath: string }> }>;
  volumes: Array<{ name: string; secret?: { secretName: string }; configMap?: { name: string } }>;
};

/** The validating model of each kind the manifests use. */
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'batch/v1 Job': Job as never,
  'v1 Service': Service as never,
  'v1 ConfigMap': ConfigMap as never,
};

function manifests(): Array<{ file: string; manifest: Manifest }> {
  const found: Array<{ file: string; manifest: Manifest }> = [];
  for (const file of readdirSync(DIR).filter((name) => name.endsWith('.yaml')).sort()) {
    for (const document of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      found.push({ file, manifest: document.toJS() as Manifest });
    }
  }
  return found;
}

function byName(kind: string, name: string): Manifest {
  const found = manifests().find(({ manifest }) => manifest.kind === kind && manifest.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in deploy/kubernetes`);
  return found.manifest;
}

const podSpecOf = (job: Manifest): PodSpec => (job.spec!['template'] as { spec: PodSpec }).spec;
const argsOf = (job: Manifest): string[] => [...podSpecOf(job).containers[0]!.command, ...podSpecOf(job).containers[0]!.args];
const flagValue = (args: string[], flag: string): string => args[args.indexOf(flag) + 1]!;

const schema = suite('deploy/kubernetes: valid against the Kubernetes schemas, and consistent');

schema('every manifest validates against its kind\'s schema', () => {
  const all = manifests();
  assert.ok(all.length >= 4, `${all.length} manifests`);
  for (const { file, manifest } of all) {
    const Model = MODELS[`${manifest.apiVersion} ${manifest.kind}`];
    assert.ok(Model, `${file}: ${manifest.apiVersion} ${manifest.kind} has no validator here`);
    try {
      new Model(manifest as never).validate();
    } catch (error) {
      assert.unreachable(`${file}: ${(error as Error).message}`);
    }
  }
});

schema('the validator does reject a broken manifest (the check is real)', () => {
  const job = structuredClone(byName('Job', 'runner-agent')) as Manifest;
  (job.spec as Record<string, unknown>)['completions'] = 'two';
  assert.throws(() => new Job(job as never).validate(), /completions/);
});

schema('the coordinator lists the Indexed Job\'s pods in index order, by the headless Service\'s names', () => {
  const agents = byName('Job', 'runner-agent');
  const coordinator = byName('Job', 'runner-coordinator');
  const service = byName('Service', 'runner-agents');
  assert.is(agents.spec!['completionMode'], 'Indexed');
  const count = agents.spec!['completions'] as number;
  assert.is(agents.spec!['parallelism'], count, 'every agent runs at once');
  assert.is(podSpecOf(agents).subdomain, service.metadata.name);
  assert.is((service.spec!['clusterIP'] as string), 'None');
  const podLabels = (agents.spec!['template'] as { metadata: { labels: Record<string, string> } }).metadata.labels;
  for (const [key, value] of Object.entries(service.spec!['selector'] as Record<string, string>)) assert.is(podLabels[key], value, `selector ${key}`);
  const port = (service.spec!['ports'] as Array<{ port: number }>)[0]!.port;
  const expected = Array.from({ length: count }, (_, index) => `${agents.metadata.name}-${index}.${service.metadata.name}:${port}`).join(',');
  assert.is(flagValue(argsOf(coordinator), '--agents'), expected);
  assert.is(flagValue(argsOf(agents), '--listen'), `0.0.0.0:${port}`);
});

schema('the scenario and the token are mounted where the command lines read them', () => {
  const coordinator = byName('Job', 'runner-coordinator');
  const agents = byName('Job', 'runner-agent');
  const configMap = byName('ConfigMap', 'runner-scenario');
  for (const job of [coordinator, agents]) {
    const spec = podSpecOf(job);
    const tokenFile = flagValue(argsOf(job), '--token-file');
    const mount = spec.containers[0]!.volumeMounts!.find((candidate) => tokenFile.startsWith(`${candidate.mountPath}/`))!;
    assert.ok(mount, `${job.metadata.name}: ${tokenFile} is mounted`);
    assert.is(spec.volumes.find((volume) => volume.name === mount.name)!.secret!.secretName, 'runner-token');
  }
  const scenarioPath = argsOf(coordinator)[2]!;
  const spec = podSpecOf(coordinator);
  const mount = spec.containers[0]!.volumeMounts!.find((candidate) => scenarioPath.startsWith(`${candidate.mountPath}/`))!;
  assert.is(spec.volumes.find((volume) => volume.name === mount.name)!.configMap!.name, configMap.metadata.name);
  assert.ok(configMap.data![scenarioPath.slice(mount.mountPath.length + 1)], 'the ConfigMap holds the scenario file');
});

const local = suite('deploy/kubernetes: the manifests\' command lines, as local processes');

local('N agents (--once) and the coordinator: the run passes, the agents leave with 0, the counts are the proxy\'s', async () => {
  const temp = createTempDir();
  const fixture = await startFixtureProcess();
  const started: CliProcess[] = [];
  try {
    const agentsJob = byName('Job', 'runner-agent');
    const coordinatorJob = byName('Job', 'runner-coordinator');
    const configMap = byName('ConfigMap', 'runner-scenario');
    // The mounted volumes, as local folders: the Secret, the ConfigMap, the results' emptyDir.
    for (const folder of ['secrets', 'scenario', 'results']) mkdirSync(join(temp.dir, folder));
    writeFileSync(join(temp.dir, 'secrets/token'), 'a-token-that-kubectl-create-secret-made\n');
    for (const [key, text] of Object.entries(configMap.data!)) writeFileSync(join(temp.dir, 'scenario', key), text);
    const inLocalTerms = (arg: string): string => arg.replace(/^\/(secrets|scenario|results)\//, `${temp.dir}/$1/`).replace(/^0\.0\.0\.0:\d+$/, '127.0.0.1:0');

    const count = agentsJob.spec!['completions'] as number;
    const addresses: string[] = [];
    for (let index = 0; index < count; index++) {
      const [program, ...args] = argsOf(agentsJob).map(inLocalTerms);
      assert.is(program, 'runner');
      const address = await new Promise<string>((resolve, reject) => {
        const agent = startCli(args, { limitMs: 60_000, onStderr: (text) => {
          const match = /listening on (127\.0\.0\.1:\d+)/.exec(text);
          if (match) resolve(match[1]!);
        } });
        started.push(agent);
        void agent.done.then((ran) => reject(new Error(`agent ${index} exited: ${ran.stderr}`)));
      });
      addresses.push(address);
    }
    const cluster: Record<string, string> = {
      '--agents': addresses.join(','),
      '--host': '127.0.0.1',
      '--port': String(fixture.port),
    };
    const [program, ...manifestArgs] = argsOf(coordinatorJob);
    assert.is(program, 'runner');
    const args = manifestArgs.map((arg, i) => cluster[manifestArgs[i - 1]!] ?? inLocalTerms(arg));
    // The one addition: the ConfigMap's 5-minute scenario scaled to 3 s.
    const coordinator = startCli([...args, '--scale', '0.01', '--admin-url', `http://127.0.0.1:${fixture.adminPort}`], { limitMs: 60_000 });
    started.push(coordinator);
    const ran = await coordinator.done;
    assert.is(ran.code, 0, ran.stdout + ran.stderr);
    const agentsRan = await Promise.all(started.slice(0, count).map((agent) => agent.done));
    for (const agentRan of agentsRan) assert.is(agentRan.code, 0, agentRan.stderr);
    const results = JSON.parse(readFileSync(join(temp.dir, 'results/results.json'), 'utf8')) as { results: { successful: number; total_requests: number } };
    const stats = await fixture.stats();
    assert.is(results.results.successful, stats.messagesAccepted);
    assert.ok(results.results.total_requests > 0);
  } finally {
    for (const cli of started) if (cli.child.exitCode === null) cli.child.kill('SIGTERM');
    await Promise.all(started.map((cli) => cli.done));
    await fixture.close();
    temp.remove();
  }
});

schema.run();
local.run();
