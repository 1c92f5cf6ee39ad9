/**
 * Reading results files: runner's own (schema-checked), the old tool's (the guide's example), and
 * everything else refused with one clear message, exit code 104 and a hint.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ExitCode } from '../../runner/errors.ts';
import { decodeTrend, parseResultsText, readResultsFile, ResultsFileError, validateSummary } from '../../runner/results/read.ts';
import { createTempDir } from '../helpers.ts';
import { GUIDE_LEGACY_FILE, steadySamples, summaryFromSamples } from './summaries.ts';

function refusal(text: string): ResultsFileError {
  try {
    parseResultsText(text, 'x.json');
  } catch (error) {
    assert.instance(error, ResultsFileError);
    assert.is((error as ResultsFileError).exitCode, ExitCode.invalidOptions);
    assert.ok((error as ResultsFileError).hint, 'has a hint');
    return error as ResultsFileError;
  }
  throw new Error(`accepted: ${text.slice(0, 60)}`);
}

const reading = suite('results file: accepted shapes');

reading('a runner results file is read whole and normalised', () => {
  const summary = summaryFromSamples({ samples: steadySamples({ seconds: 3, perSecond: 20, medianMs: 10, seed: 1, failureRate: 0.1 }) });
  assert.equal(validateSummary(summary), [], 'the synthetic summary is schema-valid');
  const loaded = parseResultsText(JSON.stringify(summary), 'run.json');
  assert.is(loaded.kind, 'runner');
  assert.is(loaded.file, 'run.json');
  assert.equal(loaded.summary, summary);
  assert.is(loaded.totalRequests, 60);
  assert.is(loaded.successful + loaded.failed, 60);
  assert.is(loaded.throughputRps, summary.results.throughput_rps);
  assert.is(loaded.successfulRps, summary.results.successful_rps);
  assert.is(loaded.totalTimeSeconds, 3);
  assert.equal(loaded.latency, summary.results.latency);
});

reading('the guide\'s example of the old tool\'s file is read as a legacy run', () => {
  const loaded = parseResultsText(GUIDE_LEGACY_FILE, 'load_test_results_1732382456.json');
  assert.is(loaded.kind, 'legacy');
  assert.is(loaded.summary, undefined);
  assert.is(loaded.status, null);
  assert.is(loaded.totalRequests, 100);
  assert.is(loaded.successRate, 1);
  assert.is(loaded.throughputRps, 19.4);
  assert.is(loaded.throughputRpm, 1164);
  assert.is(loaded.successfulRps, 19.4);
  assert.ok(Math.abs(loaded.totalTimeSeconds! - 100 / 19.4) < 1e-9);
  assert.is(loaded.latency.p95_seconds, 0.6);
  assert.is(loaded.latency.p90_seconds, null, 'the old tool had no p90');
  assert.is(loaded.target, '127.0.0.1:2525');
});

reading('an old-tool file without optional fields: rates derived from what is there', () => {
  const loaded = parseResultsText(JSON.stringify({ results: { total_requests: 10, successful: 8, failed: 2, throughput_rps: 5, latency: {} } }), 'old.json');
  assert.is(loaded.successRate, 0.8);
  assert.is(loaded.throughputRpm, 300);
  assert.is(loaded.successfulRps, 4);
  assert.is(loaded.latency.p50_seconds, null);
});

reading.run();

const refused = suite('results file: refused with a clear message');

refused('not JSON, not an object, no results, a broken runner file, an incomplete old-tool file', () => {
  const cases: Array<[string, RegExp]> = [
    ['{"results": ', /x\.json is not JSON/],
    ['[1, 2]', /holds an array, not an object/],
    ['"text"', /holds a string/],
    ['{"hello": 1}', /no "results" object \(it has: hello\)/],
    ['{"results": {"total_requests": 1}}', /looks like the old tool's results file but is incomplete:\n {2}- results: must have required property 'successful'/],
  ];
  for (const [text, message] of cases) assert.match(refusal(text).message, message);
});

refused('a runner file with a wrong field names each problem by its path', () => {
  const summary: any = summaryFromSamples({ samples: steadySamples({ seconds: 1, perSecond: 5, medianMs: 1, seed: 2 }) });
  summary.results.latency.p95_seconds = 'fast';
  delete summary.histograms;
  const error = refusal(JSON.stringify(summary));
  assert.match(error.message, 'x.json is not a valid runner results file');
  assert.match(error.message, "(top level): must have required property 'histograms'");
  assert.match(error.message, 'results.latency.p95_seconds: must be number,null');
});

refused('a missing file or a folder: cannot read, with the reason', async () => {
  const temp = createTempDir();
  try {
    for (const [path, reason] of [[join(temp.dir, 'nope.json'), 'no such file'], [temp.dir, 'it is a folder']] as const) {
      try {
        await readResultsFile(path);
        assert.unreachable('should throw');
      } catch (error) {
        assert.instance(error, ResultsFileError);
        assert.match((error as Error).message, `cannot read ${path}: ${reason}`);
      }
    }
    const good = join(temp.dir, 'sub', 'ok.json');
    mkdirSync(join(temp.dir, 'sub'));
    writeFileSync(good, GUIDE_LEGACY_FILE);
    assert.is((await readResultsFile(good)).kind, 'legacy');
  } finally {
    temp.remove();
  }
});

refused('a corrupt histogram names the file and the field', () => {
  try {
    decodeTrend({ count: 3, sum: 3, min: 1, max: 1, hdr: 'not-base64-hdr' }, 'x.json', 'histograms.txn_duration');
    assert.unreachable('should throw');
  } catch (error) {
    assert.instance(error, ResultsFileError);
    assert.match((error as Error).message, 'x.json: histogram histograms.txn_duration cannot be decoded');
  }
});

refused.run();

const customTagSets = suite('results file: custom metrics and their tag sets (schema)');

customTagSets('with tag sets, and without them (files written before tags were kept): both valid', () => {
  const histogram = summaryFromSamples({ samples: steadySamples({ seconds: 1, perSecond: 5, medianMs: 1, seed: 3 }) }).histograms.txn_duration;
  const valid: Array<[string, unknown]> = [
    ['old shape', { type: 'trend', count: 2, min: 1, max: 5, avg: 3, p50: 1, p95: 5, p99: 5 }],
    ['no samples', { type: 'counter', count: 0, rate: 0, tag_sets: [] }],
    ['tag sets', {
      type: 'trend', count: 5, min: 1, max: 5, avg: 3, p50: 3, p95: 5, p99: 5,
      tag_sets: [
        { tags: {}, count: 1, min: 1, max: 1, avg: 1, p50: 1, p95: 1, p99: 1, histogram },
        { tags: { kind: 'big', region: 'eu' }, count: 4, min: 2, max: 5, avg: 3.5, p50: 3, p95: 5, p99: 5, histogram },
      ],
    }],
    ['overflow set', { type: 'rate', count: 3, rate: 1, tag_sets: [{ tags: { overflow: 'true' }, count: 3, rate: 1 }] }],
  ];
  for (const [label, figures] of valid) {
    const summary: any = summaryFromSamples({ samples: steadySamples({ seconds: 1, perSecond: 5, medianMs: 1, seed: 2 }) });
    summary.custom_metrics = { m: figures };
    assert.equal(validateSummary(summary), [], label);
  }
});

customTagSets('a wrong tag set is named by its path', () => {
  const cases: Array<[unknown, string]> = [
    [{ type: 'trend', count: 1, tag_sets: [{ count: 1 }] }, "custom_metrics.m.tag_sets.0: must have required property 'tags'"],
    [{ type: 'counter', count: 1, tag_sets: [{ tags: { id: 7 }, count: 1 }] }, 'custom_metrics.m.tag_sets.0.tags.id: must be string'],
    [{ type: 'trend', count: 1, tag_sets: [{ tags: {}, count: 1, histogram: { count: 1 } }] }, "custom_metrics.m.tag_sets.0.histogram: must have required property 'hdr'"],
    [{ type: 'trend', count: 1, tag_sets: {} }, 'custom_metrics.m.tag_sets: must be array'],
    [{ type: 'histogram', count: 1 }, 'custom_metrics.m.type: must be equal to one of the allowed values'],
  ];
  for (const [figures, problem] of cases) {
    const summary: any = summaryFromSamples({ samples: steadySamples({ seconds: 1, perSecond: 5, medianMs: 1, seed: 2 }) });
    summary.custom_metrics = { m: figures };
    assert.ok(validateSummary(summary).includes(problem), `${problem}\n  got: ${validateSummary(summary).join('\n  ')}`);
  }
});

customTagSets.run();
