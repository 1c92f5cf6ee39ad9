/**
 * What `runner run --agents` ships to every agent: the scenario file bundled (its local imports
 * and JSON data inside; a YAML/JSON scenario as written) and the data files its options name
 * (accounts files), each at its path relative to the scenario's folder, so the agent's copy
 * resolves them as the coordinator's does.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, relative } from 'node:path';
import { bundleForShipping, CODE_EXTENSIONS } from '../scenario/load.ts';
import type { ResolvedOptions } from '../scenario/resolved.ts';
import { UsageError } from '../errors.ts';
import type { Shipment } from './remote.ts';
import type { ShippedFile } from './wire.ts';

/** The shipment for a run: `scenarioFile` absolute (or undefined: a scenario from flags or data), `baseDir` where its relative paths start. */
export async function buildShipment(scenarioFile: string | undefined, options: ResolvedOptions, baseDir: string): Promise<Shipment> {
  const files: ShippedFile[] = [];
  let scenarioPath: string | undefined;
  if (scenarioFile !== undefined) {
    const isCode = (CODE_EXTENSIONS as readonly string[]).includes(extname(scenarioFile));
    scenarioPath = isCode ? `${basename(scenarioFile, extname(scenarioFile))}.mjs` : basename(scenarioFile);
    const bytes = isCode ? Buffer.from(await bundleForShipping(scenarioFile)) : readFileSync(scenarioFile);
    files.push({ path: scenarioPath, base64: bytes.toString('base64') });
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const scenario of options.scenarios) {
    const file = scenario.accounts.file;
    if (file === undefined || seen.has(file)) continue;
    seen.add(file);
    const path = relative(baseDir, file);
    if (path.startsWith('..') || isAbsolute(path)) {
      problems.push(`scenarios.${scenario.name}: accounts file ${file} is outside ${baseDir}`);
      continue;
    }
    files.push({ path, base64: readFileSync(file).toString('base64') });
  }
  if (problems.length > 0) {
    throw new UsageError(`--agents ships the scenario's folder only: ${problems.join('; ')}`, `move the file next to the scenario (${scenarioFile ? dirname(scenarioFile) : baseDir}) and name it relative to it`);
  }
  return { scenarioPath, files };
}
