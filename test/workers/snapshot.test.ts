/**
 * A worker's state crosses to the parent as a snapshot: every figure of a Series must survive
 * the trip (taken, cloned as IPC clones it, loaded), or `--workers N` reports less than one
 * process would (retries, upstream refusals, message sizes).
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { deserialize, serialize } from 'node:v8';
import { MetricsRegistry } from '../../runner/metrics/registry.ts';
import { Series } from '../../runner/metrics/series.ts';
import { TrendSink } from '../../runner/metrics/trend.ts';
import { loadSnapshots, takeSnapshot } from '../../runner/workers/snapshot.ts';

/** Every figure of a series, by field name: counters as numbers, maps as entries, trends as count and max. */
function figuresOf(series: Series): Record<string, unknown> {
  const figures: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(series)) {
    if (name === 'index' || name === 'tags') continue;
    if (typeof value === 'number') figures[name] = value;
    else if (value instanceof Map) figures[name] = [...value.entries()].map(([key, entry]) => [key, typeof entry === 'object' ? entry.count : entry]);
    else if (value instanceof TrendSink) figures[name] = [value.count, value.max];
    else if (Array.isArray(value)) figures[name] = value.map((trend: TrendSink) => [trend.count, trend.max]);
  }
  return figures;
}

const roundTrip = suite('worker snapshot: a series round trip');

roundTrip('every counter, map and trend of a Series arrives in the parent as the worker had it', () => {
  const worker = new MetricsRegistry(0);
  const series = worker.seriesFor('s', 'a@example.com');
  let value = 1;
  for (const [name, field] of Object.entries(series)) {
    if (name === 'index') continue;
    if (typeof field === 'number') (series as unknown as Record<string, number>)[name] = value++;
    else if (field instanceof TrendSink) field.record(1000 * value++);
  }
  for (const phase of series.phases) phase.record(1000 * value++);
  series.deferrals.set(451, 7);
  series.deferrals.set(421, 2);
  series.bodySizes.set(4096, 5);
  series.errors.set('message:451', { phase: 'message', code: 451, enhanced: undefined, error: undefined, text: 'try later', count: 3 } as never);
  const snapshot = deserialize(serialize(takeSnapshot(worker, [])));
  const parent = new MetricsRegistry(0);
  loadSnapshots(parent, [snapshot]);
  assert.equal(figuresOf(parent.seriesFor('s', 'a@example.com')), figuresOf(series));
});

roundTrip.run();
