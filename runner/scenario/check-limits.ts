/**
 * The limits of limits.ts applied to what the engine will run: every resolved scenario, after
 * the scenario file, the defaults and every flag (--scale, --duration, --vus, …) have had their
 * say, so no way of writing a value past a limit gets through. Each problem names the option as
 * the file writes it (`scenarios.peak.maxVUs`); options.ts reports the flags themselves first.
 */
import { exceedsLimit, formatLimit, LIMITS, type LimitName } from './limits.ts';
import { parseDurationMs } from './duration.ts';
import type { ResolvedScenario } from './resolved.ts';

/** Scenario fields that count VUs. */
const VU_FIELDS: ReadonlySet<string> = new Set(['vus', 'maxVUs', 'preAllocatedVUs', 'startVUs']);
/** Scenario fields that are rates per timeUnit. */
const RATE_FIELDS: ReadonlySet<string> = new Set(['rate', 'startRate']);

/** Every problem of the resolved scenarios with the limits, `scenarios.NAME.option: …`. */
export function checkResolvedLimits(scenarios: readonly ResolvedScenario[]): string[] {
  const problems: string[] = [];
  const add = (where: string, name: LimitName, value: number) => {
    const problem = exceedsLimit(name, value);
    if (problem) problems.push(`${where}: ${problem}`);
  };
  if (scenarios.length > LIMITS.scenarios.max) problems.push(`scenarios: ${scenarios.length} scenarios; at most ${formatLimit('scenarios')}: ${LIMITS.scenarios.why}`);
  for (const scenario of scenarios) {
    const at = (field: string) => `scenarios.${scenario.name}.${field}`;
    const fields = scenario as unknown as Record<string, unknown>;
    const timeUnitMs = typeof fields['timeUnitMs'] === 'number' ? fields['timeUnitMs'] : 1000;
    const perSecond = (rate: number) => (timeUnitMs > 0 ? (rate * 1000) / timeUnitMs : Infinity);
    for (const [key, value] of Object.entries(fields)) {
      if (typeof value !== 'number') continue;
      if (VU_FIELDS.has(key)) add(at(key), 'vus', value);
      else if (RATE_FIELDS.has(key)) add(`${at(key)} per second`, 'ratePerSecond', perSecond(value));
      else if (key === 'iterations') add(at(key), 'iterations', scenario.executor === 'per-vu-iterations' ? value * scenario.vus : value);
      else if (key.endsWith('Ms')) add(at(key.slice(0, -2)), 'durationMs', value);
    }
    if ('stages' in scenario) {
      if (scenario.stages.length > LIMITS.stages.max) problems.push(`${at('stages')}: ${scenario.stages.length} stages; at most ${formatLimit('stages')}`);
      let totalMs = 0;
      scenario.stages.forEach((stage, index) => {
        totalMs += stage.durationMs;
        if (scenario.executor === 'ramping-vus') add(at(`stages[${index}].target`), 'vus', stage.target);
        else add(`${at(`stages[${index}].target`)} per second`, 'ratePerSecond', perSecond(stage.target));
      });
      add(`${at('stages')} in total`, 'durationMs', totalMs);
    }
    const smtp = scenario.smtp;
    add(at('smtp.messageSize'), 'messageSizeBytes', smtp.messageSize);
    add(at('smtp.messagesPerConnection'), 'iterations', smtp.messagesPerConnection);
    add(at('smtp.to'), 'recipients', smtp.to.length);
    for (const [phase, timeoutMs] of Object.entries(smtp.timeoutsMs)) add(at(`smtp.timeouts.${phase}`), 'durationMs', timeoutMs);
  }
  return problems;
}

/**
 * The problem with a warm-up as written (`warmup` in the file or `--warmup`), or undefined: a
 * duration ('30s') up to the duration limit, or a whole number of messages >= 0.
 */
export function checkWarmup(value: unknown, where: string): string | undefined {
  if (value === undefined) return undefined;
  const usage = `${where}: must be a duration such as '30s' or a whole number of messages >= 0 (got ${JSON.stringify(value)})`;
  if (typeof value === 'number' || (typeof value === 'string' && /^\s*-?\d+\s*$/.test(value))) {
    const count = Number(value);
    if (!Number.isSafeInteger(count) || count < 0) return usage;
    const problem = exceedsLimit('iterations', count);
    return problem ? `${where}: ${problem}` : undefined;
  }
  if (typeof value !== 'string') return usage;
  let ms: number;
  try {
    ms = parseDurationMs(value);
  } catch {
    return usage;
  }
  const problem = exceedsLimit('durationMs', ms, JSON.stringify(value));
  return problem ? `${where}: ${problem}` : undefined;
}
