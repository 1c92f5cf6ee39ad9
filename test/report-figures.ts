/**
 * The headline figures an HTML report must show for a results file: its key, the number it
 * carries as data-value, and the text a person reads.
 */
import type { Summary } from '../runner/results/types.ts';
import { formatLatency } from '../runner/util/format.ts';

/** [data-figure key, data-value, text] for each headline card of `results`. */
export function expectedHeadline(results: Summary['results']): Array<[string, number | null, string]> {
  const r = results;
  return [
    ['total_requests', r.total_requests, r.total_requests.toLocaleString('en-US')],
    ['successful', r.successful, r.successful.toLocaleString('en-US')],
    ['failed', r.failed, String(r.failed)],
    ['success_rate', r.success_rate, `${(r.success_rate * 100).toFixed(1)}%`],
    ['throughput_rps', r.throughput_rps, `${r.throughput_rps.toFixed(1)} msg/s`],
    ['throughput_rpm', r.throughput_rpm, Math.round(r.throughput_rpm).toLocaleString('en-US')],
    ['p50_seconds', r.latency.p50_seconds, formatLatency(r.latency.p50_seconds)],
    ['p95_seconds', r.latency.p95_seconds, formatLatency(r.latency.p95_seconds)],
    ['p99_seconds', r.latency.p99_seconds, formatLatency(r.latency.p99_seconds)],
  ];
}
