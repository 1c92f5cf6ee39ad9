/**
 * `--summary-trend-stats 'avg,min,med,p(90),p(99.9),max,count'` (k6's flag; scenario option
 * `summaryTrendStats`): which figures of each trend the console summary, the summary JSON and
 * JUnit show. The results file keeps its fixed latency fields; the chosen figures go beside them
 * in `trend_stats`, times in ms.
 */
import type { TrendSink } from '../metrics/trend.ts';

/** k6's default list. */
export const DEFAULT_TREND_STATS: readonly string[] = ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)'];

const NAMED = new Set(['avg', 'min', 'med', 'max', 'count']);
const PERCENTILE = /^p\((\d+(?:\.\d+)?)\)$/;

/**
 * Checks a list of trend stats (an array, or the flag's comma-separated text) and returns it
 * normalized (trimmed, no empty items); each problem is pushed to `problems` with what to write.
 */
export function parseTrendStats(value: unknown, where: string, problems: string[]): string[] | undefined {
  const items = typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value : undefined;
  if (items === undefined) {
    problems.push(`${where}: expected a list such as 'avg,min,med,p(90),p(99.9),max,count'`);
    return undefined;
  }
  const stats: string[] = [];
  for (const item of items) {
    const stat = typeof item === 'string' ? item.trim() : '';
    const percentile = PERCENTILE.exec(stat);
    if (NAMED.has(stat) || (percentile && Number(percentile[1]) > 0 && Number(percentile[1]) <= 100)) {
      if (!stats.includes(stat)) stats.push(stat);
    } else {
      problems.push(`${where}: unknown stat ${JSON.stringify(item)}; use avg, min, med, max, count or p(N) with 0 < N <= 100`);
    }
  }
  if (stats.length === 0 && problems.length === 0) problems.push(`${where}: the list is empty; e.g. 'avg,p(95),max'`);
  return stats;
}

/** One stat of a trend of µs samples: ms (µs precision) for times, the sample count for count; null without samples. */
export function trendStatMs(trend: TrendSink, stat: string): number | null {
  if (stat === 'count') return trend.count;
  if (trend.count === 0) return null;
  const ms = (us: number) => Math.round(us) / 1000;
  switch (stat) {
    case 'avg': return ms(trend.avg());
    case 'min': return ms(trend.percentile(0));
    case 'max': return ms(trend.percentile(100));
    case 'med': return ms(trend.percentile(50));
  }
  return ms(trend.percentile(Number(PERCENTILE.exec(stat)![1])));
}
