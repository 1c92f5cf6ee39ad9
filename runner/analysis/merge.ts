/**
 * `runner merge a.json b.json … -o total.json`: one results file from several load generators that
 * ran at the same time against one target (the base for running one test from several machines).
 * A pure function of the loaded files; the command writes the result atomically.
 *
 * What is exact and what is not:
 * - counters (requests, successes, failures, connections, bytes, iterations, dropped, errors by
 *   phase and code) add up exactly; vus_max adds (the generators ran side by side);
 * - the whole test's latency, response time and per-phase figures come from the added HDR
 *   histograms, so their percentiles are exactly what one generator sending every message would
 *   have recorded (within the histograms' 3 significant digits, as always);
 * - throughput is recomputed over the union wall time: from the earliest start to the latest end
 *   (timestamp + total_time_seconds of each file);
 * - per-scenario and per-account groups: counts add exactly, and so do their histograms when every
 *   file carries them (results files do since groups got `histogram`), making their percentiles
 *   exact; for older files the percentiles are kept when only one file has the group and are null
 *   when several do (min, max and the count-weighted average stay exact);
 * - custom metrics merge tag set by tag set (`tag_sets`, matched by their tags; a file written
 *   before tags were kept counts as untagged samples only): counters and rates add exactly; trends
 *   add their histograms, exactly; a gauge's value is the latest-ending file's. The metric's figures
 *   are the sum of the merged sets. Trends of files without histograms keep count, min, max and
 *   average, and their percentiles only when one file has the samples;
 * - timeline: windows are aligned on wall-clock time (each file's timestamp + t): every window goes
 *   into the bin of the merged run that holds its midpoint, so a count may land up to half a bin
 *   from where it happened; counts and msgs/s per bin are sums, VUs the sum of each file's last,
 *   the arrival queue the sum of each file's longest (an upper bound: peaks may not coincide).
 *   Bins are one second, or as long as the longest windows of the inputs (2, 4, … s when a long
 *   run folded its timeline), doubled while there would be more than the timeline's cap. A bin's
 *   p50/p95/p99 come from its windows' added histograms (`txnHistogram`), exact as above; windows
 *   of older files have no histogram: then a bin's percentiles are copied when one file completed
 *   messages in it and null when several did (percentiles of parts are not the whole's);
 * - watch (the server process sampled during the run): kept from the first file that has it, its
 *   sample times shifted to the merged start (the generators watched the same process, so one
 *   record is the process's; several would double its samples);
 * - thresholds are not judged again (that needs the scenario): the merged file has none, and
 *   config.merged_from lists each input with how many of its thresholds failed;
 * - delivery (files written with `delivery`): delivered, lost (and its refused/timeout split),
 *   late, pending, duplicated, unexpected and unknown add up exactly, over the whole test and per
 *   scenario and account; the lag and end-to-end histograms add, so their percentiles are exact;
 *   delivered_rps is over the union wall time; the timeout is the longest, the wait the longest
 *   and its end the worst (interrupted, skipped, timed_out, complete). In the timeline, delivered
 *   per bin adds, and the backlog is the sum of each file's latest backlog (it persists between a
 *   file's windows and after its last). Files without delivery tracking count in none of these:
 *   a warning says which.
 */
import { analyseTrends } from './run-trends.ts';
import { PHASES } from '../smtp/phases.ts';
import { errorKey } from '../metrics/series.ts';
import { TrendSink, type EncodedTrend } from '../metrics/trend.ts';
import { DEFAULT_TIMELINE_MAX_POINTS, windowPercentiles, type TimelinePoint } from '../metrics/timeline.ts';
import { trendValues } from '../metrics/registry.ts';
import { compareTagSets, tagSetKey } from '../metrics/custom.ts';
import { round } from '../util/format.ts';
import { distinctTargets, mergedTarget } from '../results/targets.ts';
import { decodeTrend, ResultsFileError, validateSummary, type LoadedResults } from '../results/read.ts';
import { customMetricFigures, summarise, type DeliveryAggregate, type GroupAggregate, type RunAggregates, type RunDeliveryAggregate } from '../results/summarise.ts';
import { timelinePoint, watchInMemory, type WatchInMemory } from '../results/names.ts';
import type { CustomMetricFigures, CustomTagSetFigures, DeliveryFigures, ErrorFigure, GroupCounts, GroupDeliveryFigures, IterationErrorFigure, GroupFigures, Summary, TestFigures } from '../results/types.ts';

/** The merged results and what a person should know about them. */
export interface MergeOutcome {
  summary: Summary;
  /** Things that make the merge less meaningful (different targets, runs that did not overlap). */
  warnings: string[];
}

interface Input {
  file: string;
  summary: Summary;
  /** Wall-clock start and end of the load, ms since the epoch. */
  startMs: number;
  endMs: number;
}

/** Merges results files of generators that ran at the same time (see the module comment). */
export function mergeResults(loaded: readonly LoadedResults[]): MergeOutcome {
  if (loaded.length === 0) throw new ResultsFileError('', 'nothing to merge: give two or more results files', 'runner merge a.json b.json -o total.json');
  const inputs: Input[] = loaded.map((run) => {
    if (!run.summary) {
      throw new ResultsFileError(run.file, `${run.file} is the old tool's results file: it has no histograms, so it cannot be merged exactly`,
        'merge only files written by `runner run`');
    }
    const startMs = Date.parse(run.summary.timestamp);
    if (Number.isNaN(startMs)) throw new ResultsFileError(run.file, `${run.file}: timestamp '${run.summary.timestamp}' is not a date`);
    return { file: run.file, summary: run.summary, startMs, endMs: startMs + run.summary.results.total_time_seconds * 1000 };
  });
  const originMs = Math.min(...inputs.map((i) => i.startMs));
  const endMs = Math.max(...inputs.map((i) => i.endMs));
  const unionSeconds = (endMs - originMs) / 1000;
  const warnings = mergeWarnings(inputs);

  const txn = mergeTrends(inputs, (s) => s.histograms.txn_duration, 'histograms.txn_duration');
  const responseTime = mergeTrends(inputs, (s) => s.histograms.txn_response_time, 'histograms.txn_response_time');
  const phases = new Map<string, TrendSink>();
  const phaseNames = new Set(inputs.flatMap((i) => Object.keys(i.summary.histograms.phases)));
  // Phases in protocol order, as summaries list them.
  for (const phase of [...PHASES.filter((p) => phaseNames.has(p)), ...[...phaseNames].filter((p) => !(PHASES as readonly string[]).includes(p))]) {
    phases.set(phase, mergeTrends(inputs, (s) => s.histograms.phases[phase], `histograms.phases.${phase}`));
  }

  const results = inputs.map((i) => i.summary.results);
  const sum = (pick: (r: Summary['results']) => number | undefined) => results.reduce((total, r) => total + (pick(r) ?? 0), 0);
  const scenarios = new Map([...mergeGroups(inputs, (s) => s.scenarios, 'scenarios')].map(([name, { parts, group }]) => [name, {
    ...group,
    executor: [...new Set(parts.map((p) => p.executor))].join('+'),
    droppedIterations: parts.reduce((n, p) => n + p.dropped_iterations, 0),
  }]));
  const timeline = mergeTimelines(inputs, originMs, endMs);
  const watch = mergeWatch(inputs, originMs);
  const aggregates: RunAggregates = {
    timestamp: new Date(originMs).toISOString(),
    target: mergedTarget(inputs.map((i) => i.summary.target)),
    config: mergedConfig(inputs),
    status: worstStatus(inputs.map((i) => i.summary.status)),
    abortReason: inputs.map((i) => i.summary.abort_reason).filter((r): r is string => Boolean(r)).join('; ') || null,
    durationSeconds: unionSeconds,
    total: { counts: { total_requests: sum((r) => r.total_requests), successful: sum((r) => r.successful), failed: sum((r) => r.failed), interrupted: sum((r) => r.interrupted) }, txn },
    responseTime,
    phases,
    errors: mergeErrors(results.map((r) => r.errors)),
    errorsAfterAccept: mergeErrors(results.map((r) => r.errors_after_accept)),
    counters: {
      connections: sum((r) => r.connections),
      message_bytes: sum((r) => r.message_bytes),
      bytes_sent: sum((r) => r.bytes_sent),
      bytes_received: sum((r) => r.bytes_received),
      iterations: sum((r) => r.iterations),
      dropped_iterations: sum((r) => r.dropped_iterations),
      script_errors: sum((r) => r.script_errors),
      vus_max: sum((r) => r.vus_max),
    },
    iterationErrors: mergeIterationErrors(results.map((r) => r.iteration_errors ?? [])),
    scenarios,
    accounts: new Map([...mergeGroups(inputs, (s) => s.accounts, 'accounts')].map(([name, { group }]) => [name, group])),
    groups: new Map([...mergeGroups(inputs, (s) => s.groups ?? {}, 'groups')].map(([name, { group }]) => [name, group])),
    sourceIps: new Map([...mergeGroups(inputs, (s) => s.source_ips ?? {}, 'source_ips')].map(([name, { parts, group }]) => [name, { ...group, connections: parts.reduce((total, part) => total + part.connections, 0) }])),
    customMetrics: mergeCustomMetrics(inputs, unionSeconds),
    thresholds: [],
    timeline,
    watch,
    // Trends are judged again on the merged timeline (the inputs' verdicts each saw only a part).
    trends: analyseTrends(timeline, watch, undefined, [...scenarios.values()].map((s) => s.executor)),
    ...mergeRetries(inputs),
    ...mergeRunDelivery(inputs),
    ...mergeMessageSizes(results),
  };
  const summary = summarise(aggregates);
  const problems = validateSummary(summary);
  // Inputs were valid, so an invalid merge is our bug, not the user's: fail loudly.
  if (problems.length) throw new Error(`merged results do not match schemas/results.schema.json:\n  - ${problems.join('\n  - ')}`);
  return { summary, warnings };
}

/** The inputs' message size histograms added, when every input has the figures; none otherwise. */
function mergeMessageSizes(results: readonly TestFigures[]): Pick<RunAggregates, 'messageSizes' | 'messageTotalSizes'> {
  if (!results.every((r) => r.message_bytes_per_second !== undefined)) return {};
  const sizes = new Map<number, number>();
  for (const r of results) for (const { body_bytes, messages } of r.message_sizes ?? []) sizes.set(body_bytes, (sizes.get(body_bytes) ?? 0) + messages);
  const totalSizes = new Map<number, number>();
  for (const r of results) for (const { bytes, messages } of r.message_total_sizes ?? []) totalSizes.set(bytes, (totalSizes.get(bytes) ?? 0) + messages);
  return { messageSizes: sizes, messageTotalSizes: totalSizes };
}

/** The inputs' retries blocks added (counts, deferrals by reply, histograms); none when no input had one. */
function mergeRetries(inputs: readonly Input[]): Pick<RunAggregates, 'retries'> {
  const withRetries = inputs.filter((input) => input.summary.retries !== undefined);
  if (withRetries.length === 0) return {};
  const deferrals = new Map<number, number>();
  let deferred = 0;
  let firstTry = 0;
  let pending = 0;
  let messages = 0;
  for (const { summary } of withRetries) {
    const r = summary.retries!;
    deferred += r.deferred;
    firstTry += r.first_try;
    pending += r.pending;
    messages += summary.results.successful + summary.results.failed + r.pending;
    for (const [code, count] of Object.entries(r.deferrals)) deferrals.set(Number(code), (deferrals.get(Number(code)) ?? 0) + count);
  }
  return {
    retries: {
      deferred, deferrals, firstTry, pending, messages,
      attempts: mergeTrends(withRetries, (s) => s.retries!.attempts_histogram, 'retries.attempts_histogram'),
      eventual: mergeTrends(withRetries, (s) => s.retries!.eventual_histogram, 'retries.eventual_histogram'),
    },
  };
}

function mergeTrends(inputs: readonly Input[], pick: (s: Summary) => EncodedTrend | undefined, field: string): TrendSink {
  const merged = new TrendSink();
  for (const input of inputs) {
    const encoded = pick(input.summary);
    if (encoded && encoded.count > 0) merged.add(decodeTrend(encoded, input.file, field));
  }
  return merged;
}

/**
 * The groups (scenarios or accounts) of the inputs by name: counts add exactly, and so do their
 * histograms when every part carries one; for files written before groups carried them, the
 * parts' latency figures (the summariser combines them as well as figures allow).
 */
function mergeGroups<G extends GroupFigures>(inputs: readonly Input[], pick: (s: Summary) => Record<string, G>, field: string): Map<string, { parts: G[]; group: GroupAggregate }> {
  const byName = new Map<string, Array<{ part: G; input: Input }>>();
  for (const input of inputs) {
    for (const [name, part] of Object.entries(pick(input.summary))) byName.set(name, [...(byName.get(name) ?? []), { part, input }]);
  }
  const merged = new Map<string, { parts: G[]; group: GroupAggregate }>();
  for (const [name, entries] of byName) {
    const parts = entries.map((e) => e.part);
    const counts: GroupCounts = { total_requests: 0, successful: 0, failed: 0, interrupted: 0 };
    for (const part of parts) {
      counts.total_requests += part.total_requests;
      counts.successful += part.successful;
      counts.failed += part.failed;
      counts.interrupted += part.interrupted;
    }
    let txn: GroupAggregate['txn'] = parts.map((p) => p.latency);
    if (entries.every((e) => e.part.histogram !== undefined)) {
      const trend = new TrendSink();
      for (const { part, input } of entries) if (part.histogram!.count > 0) trend.add(decodeTrend(part.histogram!, input.file, `${field}.${name}.histogram`));
      txn = trend;
    }
    const delivered = entries.filter((e) => e.part.delivery !== undefined);
    const delivery = delivered.length ? mergeDelivery(delivered.map((e) => ({ figures: e.part.delivery!, file: e.input.file })), `${field}.${name}.delivery`) : undefined;
    merged.set(name, { parts, group: { counts, txn, ...(delivery ? { delivery } : {}) } });
  }
  return merged;
}

/** Adds groups' delivery figures: counts exactly, lag and e2e from their histograms. */
function mergeDelivery(parts: ReadonlyArray<{ figures: GroupDeliveryFigures; file: string }>, field: string): DeliveryAggregate {
  const counts: DeliveryAggregate['counts'] = { delivered: 0, lost: 0, lost_refused: 0, lost_timeout: 0, pending: 0, duplicated: 0, unexpected: 0 };
  const lag = new TrendSink();
  const e2e = new TrendSink();
  for (const { figures, file } of parts) {
    counts.delivered += figures.delivered;
    counts.lost += figures.lost;
    // Files written before the split: every lost message timed out
    const refused = figures.lost_refused ?? 0;
    counts.lost_refused += refused;
    counts.lost_timeout += figures.lost_timeout ?? figures.lost - refused;
    counts.pending += figures.pending;
    counts.duplicated += figures.duplicated;
    counts.unexpected += figures.unexpected;
    if (figures.lag_histogram && figures.lag_histogram.count > 0) lag.add(decodeTrend(figures.lag_histogram, file, `${field}.lag_histogram`));
    if (figures.e2e_histogram && figures.e2e_histogram.count > 0) e2e.add(decodeTrend(figures.e2e_histogram, file, `${field}.e2e_histogram`));
  }
  return { counts, lag, e2e };
}

/** How a merged wait ended: the worst of the inputs'. */
const WAIT_ORDER: ReadonlyArray<DeliveryFigures['wait']> = ['complete', 'timed_out', 'skipped', 'interrupted'];

/** The whole test's delivery, from the inputs that tracked it (none: no field). */
function mergeRunDelivery(inputs: readonly Input[]): { delivery?: RunDeliveryAggregate } {
  const tracked = inputs.filter((i) => i.summary.delivery !== undefined);
  if (tracked.length === 0) return {};
  const figures = tracked.map((i) => i.summary.delivery!);
  const merged = mergeDelivery(tracked.map((i) => ({ figures: i.summary.delivery!, file: i.file })), 'delivery');
  return {
    delivery: {
      ...merged,
      source: figures[0]!.source,
      timeoutSeconds: Math.max(...figures.map((d) => d.timeout_seconds)),
      wait: figures.map((d) => d.wait).reduce((worst, wait) => (WAIT_ORDER.indexOf(wait) > WAIT_ORDER.indexOf(worst) ? wait : worst)),
      waitSeconds: Math.max(...figures.map((d) => d.wait_seconds)),
      late: figures.reduce((n, d) => n + d.late, 0),
      unknown: figures.reduce((n, d) => n + d.unknown, 0),
    },
  };
}

function mergeErrors(lists: ReadonlyArray<readonly ErrorFigure[]>): ErrorFigure[] {
  const byKey = new Map<string, ErrorFigure>();
  for (const list of lists) {
    for (const error of list) {
      const key = errorKey({ phase: error.phase, code: error.code ?? undefined, error: error.error ?? undefined });
      const known = byKey.get(key);
      if (known) known.count += error.count;
      else byKey.set(key, { ...error });
    }
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}

function mergeCustomMetrics(inputs: readonly Input[], unionSeconds: number): Record<string, CustomMetricFigures> {
  const byName = new Map<string, Array<{ figures: CustomMetricFigures; input: Input }>>();
  for (const input of inputs) {
    for (const [name, figures] of Object.entries(input.summary.custom_metrics)) byName.set(name, [...(byName.get(name) ?? []), { figures, input }]);
  }
  const merged: Record<string, CustomMetricFigures> = {};
  for (const [name, parts] of byName) {
    const type = parts[0]!.figures.type;
    const other = parts.find((p) => p.figures.type !== type);
    if (other) {
      throw new ResultsFileError(other.input.file, `custom metric ${name} is a ${type} in ${parts[0]!.input.file} but a ${other.figures.type} in ${other.input.file}`,
        'merge runs of the same scenario');
    }
    // Tag sets merge by their tags. A file without tag_sets was written before tags were kept:
    // every sample it has is untagged, so its figures are its untagged set.
    const sets = new Map<string, { tags: Record<string, string>; parts: CustomPart[] }>();
    for (const { figures, input } of parts) {
      const { type: _type, tag_sets: tagSets, ignored_values: _ignored, ...whole } = figures;
      const own: CustomTagSetFigures[] = tagSets ?? (figures.count > 0 ? [{ tags: {}, ...whole }] : []);
      for (const set of own) {
        const key = tagSetKey(set.tags);
        const known = sets.get(key) ?? { tags: set.tags, parts: [] };
        known.parts.push({ figures: set, input });
        sets.set(key, known);
      }
    }
    const mergedSets = [...sets.values()]
      .sort((a, b) => compareTagSets(a.tags, b.tags))
      .map((set) => ({ tags: set.tags, ...combineCustomFigures(type, set.parts, unionSeconds, `custom_metrics.${name}.tag_sets`) }));
    // A trend's whole distribution is the sum of its sets' histograms when each has one (exact);
    // otherwise the files' totals are combined as well as their figures allow.
    const trendSets = mergedSets.map((set) => set.sink);
    let whole: CustomFigures;
    if (type === 'trend' && mergedSets.length > 0 && trendSets.every((sink) => sink !== undefined)) {
      const sink = new TrendSink();
      for (const set of trendSets) sink.add(set!);
      whole = customMetricFigures(trendValues(sink, 1000));
    } else {
      const totals = parts.map(({ figures, input }): CustomPart => {
        const { type: _type, tag_sets: _sets, ignored_values: _ignored, is_time: _isTime, ...total } = figures;
        return { figures: total, input };
      });
      const { sink: _sink, histogram: _histogram, ...figures } = combineCustomFigures(type, totals, unionSeconds, `custom_metrics.${name}`);
      whole = figures;
    }
    const entry: CustomMetricFigures = { type, ...whole };
    // Tag sets are written only when an input had them, so older files merge into the older shape.
    if (parts.some((p) => p.figures.tag_sets !== undefined)) {
      entry.tag_sets = mergedSets.map(({ sink: _sink, ...set }) => set);
    }
    const ignored = parts.reduce((sum, p) => sum + (p.figures.ignored_values ?? 0), 0);
    if (ignored > 0) entry.ignored_values = ignored;
    if (parts.some((p) => p.figures.is_time)) entry.is_time = true;
    merged[name] = entry;
  }
  return merged;
}

/** A custom metric's figures without its type and tag sets (the whole metric's, or one tag set's). */
type CustomFigures = Omit<CustomTagSetFigures, 'tags'>;

/** One file's figures of a custom metric or of one of its tag sets. */
interface CustomPart {
  figures: CustomFigures;
  input: Input;
}

/**
 * Combines the files' figures of one custom metric (or one tag set of it): counters and rates
 * exactly; a gauge's value is the latest-ending file's; a trend exactly from its histograms when
 * every file with samples has one (`sink` is then the merged distribution), else count, min, max
 * and the weighted mean, with percentiles only when one file has samples.
 */
function combineCustomFigures(type: string, parts: readonly CustomPart[], unionSeconds: number, field: string): CustomFigures & { sink?: TrendSink } {
  const count = parts.reduce((n, p) => n + p.figures.count, 0);
  const entry: CustomFigures & { sink?: TrendSink } = { count };
  const withSamples = parts.filter((p) => p.figures.count > 0);
  const minOf = () => Math.min(...withSamples.map((p) => p.figures.min).filter((v): v is number => v !== undefined));
  const maxOf = () => Math.max(...withSamples.map((p) => p.figures.max).filter((v): v is number => v !== undefined));
  if (type === 'counter') {
    entry.rate = unionSeconds > 0 ? count / unionSeconds : 0;
  } else if (type === 'rate') {
    // rate × count is each file's number of non-zero samples, an integer: rounding makes it exact.
    entry.rate = count ? parts.reduce((s, p) => s + Math.round((p.figures.rate ?? 0) * p.figures.count), 0) / count : 0;
  } else if (type === 'gauge') {
    const latest = [...withSamples].sort((a, b) => a.input.endMs - b.input.endMs).at(-1);
    if (latest) Object.assign(entry, { value: latest.figures.value, min: minOf(), max: maxOf() });
  } else if (type === 'trend' && withSamples.length > 0) {
    if (withSamples.every((p) => p.figures.histogram !== undefined)) {
      const sink = new TrendSink();
      for (const p of withSamples) sink.add(decodeTrend(p.figures.histogram!, p.input.file, `${field} histogram`));
      return { ...customMetricFigures(trendValues(sink, 1000)), histogram: sink.encode(), sink };
    }
    if (withSamples.length === 1) {
      const { histogram: _histogram, ...figures } = withSamples[0]!.figures;
      Object.assign(entry, figures, { count });
    } else {
      const avg = withSamples.reduce((s, p) => s + (p.figures.avg ?? 0) * p.figures.count, 0) / count;
      Object.assign(entry, { min: minOf(), max: maxOf(), avg });
    }
  }
  return entry;
}

/** Aligns the inputs' windows on wall-clock time into bins (see the module comment). */
function mergeTimelines(inputs: readonly Input[], originMs: number, endMs: number): TimelinePoint[] {
  const spanMs = endMs - originMs;
  let binMs = 1000 * Math.max(...inputs.map((i) => windowSeconds(i.summary.timeline.map((entry) => entry.window_ms))));
  while (spanMs / binMs > DEFAULT_TIMELINE_MAX_POINTS) binMs *= 2;
  const binCount = Math.max(1, Math.ceil(spanMs / binMs - 1e-9));
  interface Bin {
    started: number;
    accepted: number;
    failed: number;
    dropped: number;
    /** Last VU count of each input in this bin. */
    vus: Map<number, number>;
    /** Bytes of accepted messages. */
    messageBytes: number;
    /** Arrivals planned by arrival-rate executors. */
    planned: number;
    /** Longest arrival queue of each input in this bin (inputs whose windows carry it). */
    queued: Map<number, number>;
    /** The windows that completed messages (they have percentiles), with where they come from. */
    completed: CompletedWindow[];
    /** Whether every window in the bin carries its histogram (null or not). */
    hasHistograms: boolean;
    /** Messages delivered upstream in the bin (files with delivery tracking). */
    delivered: number;
    /** Each input's latest backlog among its windows in this bin. */
    backlog: Map<number, number>;
  }
  const bins: Array<Bin | undefined> = new Array(binCount);
  inputs.forEach((input, index) => {
    const offsetMs = input.startMs - originMs;
    input.summary.timeline.map(timelinePoint).forEach((point, at) => {
      const midMs = offsetMs + point.t * 1000 - point.windowMs / 2;
      const k = Math.min(binCount - 1, Math.max(0, Math.floor(midMs / binMs)));
      const bin: Bin = (bins[k] ??= { started: 0, accepted: 0, failed: 0, dropped: 0, messageBytes: 0, planned: 0, vus: new Map(), queued: new Map(), completed: [], hasHistograms: true, delivered: 0, backlog: new Map() });
      bin.started += point.started;
      bin.accepted += point.accepted;
      bin.failed += point.failed;
      bin.dropped += point.dropped;
      bin.messageBytes += point.messageBytes ?? 0;
      bin.planned += point.planned ?? 0;
      bin.vus.set(index, point.vus);
      if (point.queued !== undefined) bin.queued.set(index, Math.max(bin.queued.get(index) ?? 0, point.queued));
      bin.delivered += point.delivered ?? 0;
      if (point.backlog !== undefined) bin.backlog.set(index, point.backlog);
      if (point.p50Ms !== null || point.txnHistogram) bin.completed.push({ point, file: input.file, at });
      // Percentiles without a histogram (older files, or edited ones) cannot be merged exactly.
      if (point.txnHistogram === undefined || (point.txnHistogram === null && point.p50Ms !== null)) bin.hasHistograms = false;
    });
  });
  let last = bins.length - 1;
  while (last >= 0 && !bins[last]) last--;
  // Files written before windows carried the queue: the merged timeline has none either.
  const hasQueued = inputs.some((input) => input.summary.timeline.some((entry) => entry.queued !== undefined));
  // Message bytes only when every window has them (a file from before they were kept would undercount).
  const hasBytes = inputs.every((input) => input.summary.timeline.every((entry) => entry.message_bytes !== undefined));
  const hasPlanned = inputs.every((input) => input.summary.timeline.every((entry) => entry.planned !== undefined));
  // Delivery columns when any input tracked delivery; the backlog is a level: each input's latest, carried forward
  const hasDelivery = inputs.some((input) => input.summary.timeline.some((entry) => entry.delivery_backlog !== undefined));
  const latestBacklog = new Map<number, number>();
  const timeline: TimelinePoint[] = [];
  for (let k = 0; k <= last; k++) {
    const bin = bins[k];
    const isFinal = k === binCount - 1;
    const windowMs = isFinal ? Math.round(spanMs - k * binMs) : binMs;
    let vus = 0;
    for (const count of bin?.vus.values() ?? []) vus += count;
    let queued = 0;
    for (const count of bin?.queued.values() ?? []) queued += count;
    const accepted = bin?.accepted ?? 0;
    for (const [index, backlog] of bin?.backlog ?? []) latestBacklog.set(index, backlog);
    let backlog = 0;
    for (const count of latestBacklog.values()) backlog += count;
    timeline.push({
      t: isFinal ? round(spanMs / 1000, 2) : ((k + 1) * binMs) / 1000,
      windowMs,
      started: bin?.started ?? 0,
      accepted,
      failed: bin?.failed ?? 0,
      dropped: bin?.dropped ?? 0,
      msgsPerSecond: windowMs > 0 ? (accepted * 1000) / windowMs : 0,
      ...(hasPlanned ? { planned: bin?.planned ?? 0 } : {}),
      ...(hasBytes ? { messageBytes: bin?.messageBytes ?? 0, bytesPerSecond: windowMs > 0 ? ((bin?.messageBytes ?? 0) * 1000) / windowMs : 0 } : {}),
      ...binPercentiles(bin?.completed ?? [], bin?.hasHistograms ?? true),
      vus,
      ...(hasQueued ? { queued } : {}),
      ...(hasDelivery ? { delivered: bin?.delivered ?? 0, backlog } : {}),
    });
  }
  return timeline;
}

/** Seconds per window of a timeline: its longest full window, as a power of two (1 for 1 s windows). */
function windowSeconds(windowsMs: readonly number[]): number {
  // The last window is partial; folded timelines hold 2^k-second windows (and an odd shorter one).
  // Floor, with 10% slack, not round: a late tick (a 1.4 s window) must not halve the resolution,
  // while a folded 2 s window that ended a little early (1.9 s) still counts as 2 s.
  let power = 0;
  for (let i = 0; i < windowsMs.length - 1; i++) power = Math.max(power, Math.floor(Math.log2((windowsMs[i]! * 1.1) / 1000)));
  return 2 ** power;
}

/** A window that completed messages, and where it is in the inputs (for errors). */
interface CompletedWindow {
  point: TimelinePoint;
  file: string;
  /** Index in the file's timeline. */
  at: number;
}

/**
 * A bin's percentiles and histogram from the windows in it that completed messages: exact from
 * their histograms when every window has one; from older files (no histograms), one window's
 * percentiles are copied and several give null.
 */
function binPercentiles(completed: readonly CompletedWindow[], hasHistograms: boolean): Pick<TimelinePoint, 'p50Ms' | 'p95Ms' | 'p99Ms' | 'txnHistogram'> {
  const copy = (point: TimelinePoint | undefined) => ({ p50Ms: point?.p50Ms ?? null, p95Ms: point?.p95Ms ?? null, p99Ms: point?.p99Ms ?? null });
  const only = completed.length === 1 ? completed[0]!.point : undefined;
  if (!hasHistograms) return copy(only);
  // One window: its own figures, no decoding.
  if (completed.length <= 1) return { ...copy(only), txnHistogram: only?.txnHistogram ?? null };
  const merged = new TrendSink();
  for (const { point, file, at } of completed) merged.add(decodeTrend(point.txnHistogram!, file, `timeline[${at}].txn_histogram`));
  return { ...windowPercentiles(merged), txnHistogram: merged.encode() };
}

function mergeWatch(inputs: readonly Input[], originMs: number): WatchInMemory | null {
  const input = inputs.find((i) => i.summary.watch);
  if (!input?.summary.watch) return null;
  const offsetSeconds = (input.startMs - originMs) / 1000;
  const watch = watchInMemory(input.summary.watch);
  return { ...watch, samples: watch.samples.map((s) => ({ ...s, t: round(s.t + offsetSeconds, 3) })) };
}

function mergedConfig(inputs: readonly Input[]): Record<string, unknown> {
  const configs = inputs.map((i) => i.summary.config);
  const config: Record<string, unknown> = {
    merged_from: inputs.map((i) => ({
      file: i.file,
      timestamp: i.summary.timestamp,
      target: i.summary.target,
      status: i.summary.status,
      total_time_seconds: i.summary.results.total_time_seconds,
      total_requests: i.summary.results.total_requests,
      thresholds_failed: i.summary.thresholds.filter((t) => !t.ok).length,
    })),
  };
  // The guide's size fields add up across generators; the scenario file is kept when all agree.
  for (const key of ['num_emails', 'concurrent']) {
    if (configs.every((c) => typeof c[key] === 'number')) config[key] = configs.reduce((n, c) => n + (c[key] as number), 0);
  }
  const files = new Set(configs.map((c) => c['scenario_file'] ?? null));
  config['scenario_file'] = files.size === 1 ? [...files][0] : null;
  return config;
}

function worstStatus(statuses: ReadonlyArray<Summary['status']>): Summary['status'] {
  if (statuses.includes('aborted')) return 'aborted';
  if (statuses.includes('interrupted')) return 'interrupted';
  return 'completed';
}

function mergeWarnings(inputs: readonly Input[]): string[] {
  const warnings: string[] = [];
  const targets = distinctTargets(inputs.map((i) => i.summary.target));
  if (targets.length > 1) warnings.push(`the files ran against different targets (${targets.join(', ')}): merge is meant for generators loading one target`);
  const sorted = [...inputs].sort((a, b) => a.startMs - b.startMs);
  for (let i = 1; i < sorted.length; i++) {
    const earlierEnd = Math.max(...sorted.slice(0, i).map((s) => s.endMs));
    if (sorted[i]!.startMs >= earlierEnd) {
      warnings.push(`${sorted[i]!.file} started after the earlier runs had ended: merge is meant for generators running at the same time, so throughput is spread over the gap too`);
    }
  }
  const tracked = inputs.filter((i) => i.summary.delivery !== undefined);
  if (tracked.length > 0 && tracked.length < inputs.length) {
    const untracked = inputs.filter((i) => i.summary.delivery === undefined).map((i) => i.file);
    warnings.push(`delivery was tracked in ${tracked.length} of ${inputs.length} files: the delivery figures leave out ${untracked.join(', ')}`);
  }
  const sources = new Set(tracked.map((i) => i.summary.delivery!.source));
  if (sources.size > 1) warnings.push(`delivery was read from different sources (${[...sources].join(', ')}): the merged file says ${tracked[0]!.summary.delivery!.source}`);
  const unfinished = inputs.filter((i) => i.summary.status !== 'completed');
  for (const input of unfinished) warnings.push(`${input.file} was ${input.summary.status}: the merged file is marked ${input.summary.status} too`);
  return warnings;
}

/** Iteration-error groups of several runs: counts of the same message at the same place added, commonest first. */
function mergeIterationErrors(lists: ReadonlyArray<readonly IterationErrorFigure[]>): IterationErrorFigure[] {
  const byKey = new Map<string, IterationErrorFigure>();
  for (const group of lists.flat()) {
    const key = `${group.location ?? ''}\n${group.message}`;
    const known = byKey.get(key);
    if (known) known.count += group.count;
    else byKey.set(key, { ...group });
  }
  return [...byKey.values()].sort((a, b) => b.count - a.count);
}
