/**
 * `--out prometheus-rw=URL`: Prometheus remote write (protocol 1.0: a protobuf WriteRequest,
 * snappy block-compressed, POSTed). The same series as the `/metrics` endpoint (prometheus.ts's
 * exporter), pushed every PUSH_INTERVAL_MS while the run goes and once more, final, at its end,
 * so a Prometheus (`--web.enable-remote-write-receiver`, then URL http://HOST:9090/api/v1/write),
 * Mimir, Thanos receive or VictoriaMetrics gets the run without scraping anything.
 *
 * Both encodings are small enough to write here rather than add two packages:
 * - protobuf: WriteRequest { repeated TimeSeries timeseries = 1 }, TimeSeries { repeated Label
 *   labels = 1; repeated Sample samples = 2 }, Label { string name = 1; string value = 2 },
 *   Sample { double value = 1; int64 timestamp = 2 } (prompb/types.proto, remote.proto);
 * - snappy: the block format allows a stream of literals only (no back-references); every
 *   decoder reads it. It does not shrink the payload, which is small (a few hundred series a push).
 * Labels are sorted by name, `__name__` first among equals, as the protocol requires.
 */
import { OutputError, UsageError } from '../errors.ts';
import { addSecret } from '../redact.ts';
import { clipText } from '../util/format.ts';
import type { EngineListener, ScenarioProgress } from '../engine/events.ts';
import type { MetricsRegistry } from '../metrics/registry.ts';
import type { OutputContext, RunOutput } from './output.ts';
import { PrometheusExporter, SMTP_DURATION_BUCKETS_SECONDS } from './prometheus.ts';

/** How often the series are pushed while the run goes, ms (k6's remote-write output pushes every 5 s too). */
export const PUSH_INTERVAL_MS = 5000;
/** Longest wait for one push, ms. */
const PUSH_TIMEOUT_MS = 10_000;

/** One time series of a push: its labels (`__name__` among them) and one sample. */
export interface RemoteWriteSeries {
  labels: Record<string, string>;
  value: number;
  /** Milliseconds since the epoch. */
  timestampMs: number;
}

// ---------------------------------------------------------------------------------------------
// Protobuf (wire types: 0 varint, 1 64-bit, 2 length-delimited)

/** Bytes of a growing protobuf message. */
class ProtoWriter {
  private chunks: number[] = [];

  varint(value: number): this {
    // Non-negative integers up to 2^53 (lengths, timestamps in ms).
    let v = value;
    while (v >= 0x80) {
      this.chunks.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.chunks.push(v);
    return this;
  }

  tag(field: number, wireType: number): this {
    return this.varint(field * 8 + wireType);
  }

  bytes(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const byte of data) this.chunks.push(byte);
    return this;
  }

  string(field: number, text: string): this {
    return this.bytes(field, Buffer.from(text, 'utf8'));
  }

  double(field: number, value: number): this {
    const buffer = Buffer.alloc(8);
    buffer.writeDoubleLE(value);
    this.tag(field, 1);
    for (const byte of buffer) this.chunks.push(byte);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}

/** Labels in the protocol's order: sorted by name. */
function sortedLabels(labels: Record<string, string>): [string, string][] {
  return Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The protobuf WriteRequest for `series` (uncompressed). */
export function encodeWriteRequest(series: readonly RemoteWriteSeries[]): Uint8Array {
  const request = new ProtoWriter();
  for (const one of series) {
    const timeSeries = new ProtoWriter();
    for (const [name, value] of sortedLabels(one.labels)) {
      timeSeries.bytes(1, new ProtoWriter().string(1, name).string(2, value).finish());
    }
    const sample = new ProtoWriter();
    // proto3 leaves zero values out; a decoder reads them back as 0.
    if (one.value !== 0 || Object.is(one.value, -0)) sample.double(1, one.value);
    if (one.timestampMs !== 0) sample.tag(2, 0).varint(one.timestampMs);
    timeSeries.bytes(2, sample.finish());
    request.bytes(1, timeSeries.finish());
  }
  return request.finish();
}

// ---------------------------------------------------------------------------------------------
// Snappy block format, literals only

/** Largest literal one element carries (a 4-byte length could say more; 64 KiB keeps it simple). */
const MAX_LITERAL = 65536;

/** `data` as a snappy block: the uncompressed length (varint), then literal elements. */
export function snappyEncodeLiterals(data: Uint8Array): Uint8Array {
  const out: number[] = [];
  let length = data.length;
  while (length >= 0x80) {
    out.push((length & 0x7f) | 0x80);
    length >>>= 7;
  }
  out.push(length);
  for (let start = 0; start < data.length; start += MAX_LITERAL) {
    const chunk = data.subarray(start, Math.min(data.length, start + MAX_LITERAL));
    const n = chunk.length - 1;
    // Tag byte: low 2 bits 00 (literal); length-1 in the upper 6 bits below 60, else in 1 or 2 following bytes.
    if (n < 60) out.push(n << 2);
    else if (n < 0x100) out.push(60 << 2, n);
    else out.push(61 << 2, n & 0xff, n >>> 8);
    for (const byte of chunk) out.push(byte);
  }
  return Uint8Array.from(out);
}

// ---------------------------------------------------------------------------------------------
// From the exporter's registry to series

/** Every sample the exporter holds, as remote-write series stamped `timestampMs`. */
export async function seriesOfExporter(exporter: PrometheusExporter, timestampMs: number): Promise<RemoteWriteSeries[]> {
  const metrics = await exporter.registry.getMetricsAsJSON();
  const series: RemoteWriteSeries[] = [];
  for (const metric of metrics) {
    for (const sample of metric.values as Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>) {
      const labels: Record<string, string> = { __name__: sample.metricName ?? metric.name };
      for (const [name, value] of Object.entries(sample.labels)) labels[name] = String(value);
      series.push({ labels, value: sample.value, timestampMs });
    }
  }
  return series;
}

/** Parses and checks `--out prometheus-rw=URL`. */
export function parseRemoteWriteUrl(target: string): URL {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    throw new UsageError(`--out prometheus-rw=${target}: not a URL`, 'write the receiver\'s full URL, e.g. --out prometheus-rw=http://127.0.0.1:9090/api/v1/write');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`--out prometheus-rw=${target}: the URL must be http:// or https://`, 'e.g. --out prometheus-rw=http://127.0.0.1:9090/api/v1/write');
  }
  return url;
}

/**
 * The URL without its `user:password@` (fetch refuses a URL that holds them), and those as an
 * HTTP Basic `Authorization` header; the password is redacted from every output.
 */
export function remoteWriteCredentials(url: URL): { url: URL; authorization: string | undefined } {
  if (url.username === '' && url.password === '') return { url, authorization: undefined };
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  if (password) addSecret(password);
  const bare = new URL(url.href);
  bare.username = '';
  bare.password = '';
  return { url: bare, authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` };
}

/** A receiver's error body on one line, cut with an ellipsis: a proxy's HTML page must not flood stderr. */
function describeAnswer(text: string): string {
  return clipText(text.replace(/\s+/g, ' ').trim(), 200);
}

/** POSTs one push; throws with the receiver's answer when it is not 2xx. */
async function push(url: URL, authorization: string | undefined, series: readonly RemoteWriteSeries[], timeoutMs: number): Promise<void> {
  const body = snappyEncodeLiterals(encodeWriteRequest(series));
  const response = await fetch(url, {
    method: 'POST',
    headers: {
      ...(authorization ? { authorization } : {}),
      'content-type': 'application/x-protobuf',
      'content-encoding': 'snappy',
      'x-prometheus-remote-write-version': '0.1.0',
      'user-agent': 'runner',
    },
    // Uint8Array.from gave the array a buffer of its own, exactly its size.
    body: body.buffer as ArrayBuffer,
    signal: AbortSignal.timeout(timeoutMs),
  }).catch((error: Error) => {
    if (error.name === 'TimeoutError') throw new Error(`no answer within ${timeoutMs / 1000} s`);
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, a TLS error…) is its cause
    const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
    if (error.message === 'fetch failed' && cause) throw new Error(typeof cause.code === 'string' ? `${cause.code} (${String(cause.message)})` : String(cause.message));
    throw error;
  });
  if (!response.ok) {
    const text = describeAnswer(await response.text().catch(() => ''));
    throw new Error(`HTTP ${response.status}${text ? `: ${text}` : ''}`);
  }
  await response.arrayBuffer().catch(() => undefined);
}

/** Creates the remote-write output for `target` (a URL); each push waits at most `pushTimeoutMs` (10 s) for an answer. */
export function createRemoteWriteOutput(target: string, options: { pushTimeoutMs?: number } = {}): RunOutput {
  const timeoutMs = options.pushTimeoutMs ?? PUSH_TIMEOUT_MS;
  const { url, authorization } = remoteWriteCredentials(parseRemoteWriteUrl(target));
  const where = `${url.origin}${url.pathname}`;
  let exporter: PrometheusExporter | undefined;
  let stderr: NodeJS.WritableStream = process.stderr;
  let timer: NodeJS.Timeout | undefined;
  let latest: { registry: MetricsRegistry; scenarios: ScenarioProgress[] } | undefined;
  let inFlight: Promise<void> | undefined;
  let lastWarning = '';

  const pushNow = async (): Promise<void> => {
    if (!exporter) return;
    if (latest) exporter.update(latest.registry, latest.scenarios, performance.now() - latest.registry.startMs);
    latest = undefined;
    await push(url, authorization, await seriesOfExporter(exporter, Date.now()), timeoutMs);
  };

  const listener: EngineListener = {
    onTick(_point, scenarios, registry) {
      latest = { registry, scenarios };
    },
  };

  return {
    description: 'Prometheus remote write',
    listener,
    async prepare(context: OutputContext) {
      stderr = context.stderr;
      exporter = new PrometheusExporter(context.options.scenarios.map((s) => s.name), SMTP_DURATION_BUCKETS_SECONDS, false, context.options.scenarios.some((s) => s.retry !== undefined));
      stderr.write(`metrics: Prometheus remote write to ${where} every ${PUSH_INTERVAL_MS / 1000} s\n`);
      timer = setInterval(() => {
        if (inFlight) return;
        // A failed push costs that push, never the run: the next one sends the totals again.
        inFlight = pushNow().catch((error: Error) => {
          const message = `metrics: remote write to ${where} failed: ${error.message} (retried at the next push)\n`;
          if (message !== lastWarning) stderr.write(message);
          lastWarning = message;
        }).finally(() => {
          inFlight = undefined;
        });
      }, PUSH_INTERVAL_MS);
      timer.unref();
    },
    async finish(_summary, context) {
      clearInterval(timer);
      await inFlight;
      if (!exporter) return;
      exporter.update(context.result.registry, context.result.scenarios, context.result.durationMs);
      exporter.markFinished();
      latest = undefined;
      try {
        await pushNow();
      } catch (error) {
        throw new OutputError(`the final push to ${where} failed: ${(error as Error).message}`, 'check the URL (a Prometheus needs --web.enable-remote-write-receiver; its path is /api/v1/write) and that the receiver is up', error);
      }
    },
    async close() {
      clearInterval(timer);
      await inFlight;
    },
  };
}
