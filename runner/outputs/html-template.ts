/**
 * The HTML report's page: escaping helpers, the stylesheet, and the script that draws the
 * charts with uPlot in the browser. Every string from a results file reaches the page through
 * `html` (which escapes each interpolated value) or `jsonForScript` (which cannot close its
 * <script> element), so an account named `<script>…` shows as text and never runs.
 */

/** Markup that is already safe to insert as is (built by `html`, or trusted assets). */
export class SafeHtml {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

/**
 * Tagged template for markup: each interpolated value is escaped unless it is SafeHtml; arrays
 * are joined (each item escaped the same way); null, undefined and false render nothing.
 */
export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += renderValue(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

function renderValue(value: unknown): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.text;
  if (Array.isArray(value)) return value.map(renderValue).join('');
  return escapeHtml(String(value));
}

/** Marks trusted text (our own assets) as markup. Never pass a string from a results file. */
export function trusted(text: string): SafeHtml {
  return new SafeHtml(text);
}

/**
 * JSON for a <script type="application/json"> element: `<`, `>` and `&` become \u escapes so no
 * value can end the element (`</script>`) or open a comment; JSON.parse reads them back unchanged.
 */
export function jsonForScript(value: unknown): SafeHtml {
  const json = JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
  return new SafeHtml(json);
}

/**
 * Text inlined into a <script> or <style> element must not contain its closing tag; our
 * assets never do, and this makes sure a future version of them cannot break the page.
 */
export function inlineAsset(text: string, element: 'script' | 'style', name: string): SafeHtml {
  if (new RegExp(`</${element}`, 'i').test(text)) throw new Error(`${name} contains </${element}> and cannot be inlined`);
  return new SafeHtml(text);
}

/** The page's stylesheet: readable on screen and on paper, no web fonts (works offline). */
export const REPORT_CSS = `
:root { --fg: #1f2328; --muted: #59636e; --line: #e1e5ea; --bg: #f5f6f8; --card: #fff;
  --ok: #1a7f37; --ok-bg: #dafbe1; --bad: #cf222e; --bad-bg: #ffebe9; --warn: #9a6700; --warn-bg: #fff8c5; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
main { max-width: 1320px; margin: 0 auto; padding: 20px 24px 40px; }
header.run { display: flex; flex-wrap: wrap; align-items: flex-start; justify-content: space-between; gap: 8px 24px; }
header.run h1 { font-size: 22px; margin: 0 0 6px; }
header.run h1 .target { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 600; }
.meta { color: var(--muted); display: flex; flex-wrap: wrap; gap: 2px 20px; margin: 0; padding: 0; list-style: none; }
.meta b { color: var(--fg); font-weight: 600; }
.badges { display: flex; gap: 8px; flex-wrap: wrap; }
.badge { display: inline-block; padding: 4px 12px; border-radius: 999px; font-weight: 650; font-size: 13px; }
.badge.ok { background: var(--ok-bg); color: var(--ok); }
.badge.bad { background: var(--bad-bg); color: var(--bad); }
.badge.warn { background: var(--warn-bg); color: var(--warn); }
.notice { background: var(--warn-bg); color: var(--warn); border-radius: 6px; padding: 8px 12px; margin: 12px 0 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin: 16px 0; }
.card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; }
.card .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.card .value { font-size: 26px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; }
.card .value.ok { color: var(--ok); } .card .value.warn { color: var(--warn); } .card .value.bad { color: var(--bad); }
.card .sub { color: var(--muted); font-size: 12px; }
.facts { display: flex; flex-wrap: wrap; gap: 4px 22px; color: var(--muted); margin: -4px 0 8px; font-variant-numeric: tabular-nums; }
.facts b { color: var(--fg); font-weight: 600; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 14px 18px; margin: 16px 0; min-width: 0; }
section h2 { font-size: 16px; margin: 0 0 2px; }
section h3 { font-size: 14px; margin: 14px 0 4px; }
p.note { color: var(--muted); margin: 0 0 10px; font-size: 13px; }
.grid2 { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 16px; margin: 16px 0; }
.grid2 > section { margin: 0; }
@media (max-width: 1180px) { .grid2 { grid-template-columns: minmax(0, 1fr); } }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: 13px; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: top; }
th { color: var(--muted); font-weight: 600; font-size: 12px; }
th.l, td.l { text-align: left; }
td.text { text-align: left; white-space: normal; word-break: break-word; min-width: 16em; }
td.mono, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
tr:last-child td { border-bottom: 0; }
tr[data-threshold-ok="false"] td { background: var(--bad-bg); }
.pass { color: var(--ok); font-weight: 700; }
.fail { color: var(--bad); font-weight: 700; }
.chart { min-height: 300px; }
.chart:has(> .empty) { min-height: 0; }
.empty { color: var(--muted); font-style: italic; padding: 12px 0; }
dl.config { display: grid; grid-template-columns: max-content 1fr; gap: 4px 18px; margin: 6px 0 0; }
dl.config dt { color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 13px; }
dl.config dd { margin: 0; word-break: break-word; }
footer { color: var(--muted); font-size: 12px; margin-top: 20px; }
.u-legend { font-size: 12px; }
.u-legend .u-marker { border-radius: 2px; }
/* The legend is a key until the cursor is on the chart; then it shows the values under it. */
.u-legend.u-inline.u-live th::after { content: none; }
.u-legend .u-value { padding-left: 4px; font-variant-numeric: tabular-nums; }
.u-legend tr.u-series:first-child:has(.u-value:empty) { display: none; }
@media print { body { background: #fff; } section, .card { break-inside: avoid; } }
`;

/**
 * The browser side: reads the report data from #report-data and draws each chart with uPlot.
 * Plain ES2019 in a string (not a compiled function), so what the browser runs is exactly this.
 * It publishes `window.__runnerReport` (each chart's series lengths) for tests and tooling.
 */
export const REPORT_SCRIPT = `
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var COLOR = { offered: '#8c959f', accepted: '#1a7f37', failed: '#cf222e', vus: '#0969da',
    p50: '#0969da', p95: '#bc4c00', p99: '#cf222e', txn: '#0969da', response: '#8250df', queued: '#bf8700' };
  var charts = [];

  // Legend values: empty while the cursor is off the chart (the legend then reads as a key).
  function fixed(value, digits) { return value == null ? '' : Number(value).toFixed(digits); }
  function ms(value) { return value == null ? '' : Number(value).toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2) + ' ms'; }
  // The x legend shows the window the cursor snapped to (its data point), not the cursor's raw position.
  function seconds(u, v, si, idx) {
    var t = idx == null ? v : u.data[0][idx];
    return t == null ? '' : 't = ' + (Number.isInteger(t) ? t : Number(t).toFixed(1)) + ' s';
  }
  var NO_POINTS = { show: false };
  // Tick steps for counts (VUs): whole numbers only.
  var WHOLE_STEPS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000];
  // Percentile position x = log10(1 / (1 - p/100)): 0 → 0%, 1 → 90%, 2 → 99%, 3 → 99.9% …
  function percentileAt(x) { return 100 * (1 - Math.pow(10, -x)); }
  function percentileLabel(x, digits) {
    var text = percentileAt(x).toFixed(Math.max(0, Math.min(4, digits)));
    return text.indexOf('.') >= 0 ? text.replace(/0+$/, '').replace(/\\.$/, '') : text;
  }
  function zeroBased(u, min, max) { return [0, max > 0 ? max * 1.08 : 1]; }
  function axis(label, extra) {
    var base = { label: label, stroke: '#59636e', font: '12px system-ui, sans-serif', labelFont: '600 12px system-ui, sans-serif',
      grid: { stroke: '#eef0f3', width: 1 }, ticks: { stroke: '#d0d7de', width: 1 } };
    for (var key in extra || {}) base[key] = extra[key];
    return base;
  }
  function widthOf(el) { return Math.max(280, Math.floor(el.getBoundingClientRect().width)); }

  // What tests and tools can read: each chart's canvas size and series lengths, ready once all drew.
  function publish() {
    window.__runnerReport = {
      ready: charts.every(function (c) { return c.drawn; }),
      charts: charts.map(function (c) {
        var canvas = c.el.querySelector('canvas');
        return { id: c.id, title: c.title, width: canvas ? canvas.width : 0, height: canvas ? canvas.height : 0, series: c.series };
      }),
    };
  }

  function mount(id, title, options, columns) {
    var el = document.getElementById(id);
    if (!el) return;
    var hasData = columns[0].length > 0 && columns.slice(1).some(function (c) { return c.some(function (v) { return v != null; }); });
    if (!hasData) {
      el.innerHTML = '<p class="empty">No data for this chart (nothing was measured).</p>';
      return;
    }
    var chart = { id: id, title: title, el: el, drawn: false, plot: null,
      series: options.series.slice(1).map(function (s, i) {
        return { label: s.label, length: columns[i + 1].length, points: columns[i + 1].filter(function (v) { return v != null; }).length };
      }) };
    charts.push(chart);
    options.width = widthOf(el);
    options.height = 280;
    options.hooks = { draw: [function () { chart.drawn = true; publish(); }] };
    chart.plot = new uPlot(options, columns, el);
  }

  var tl = data.timeline;
  var sync = { key: 'timeline' };
  var throughputSeries = [
    { label: 'time', value: seconds },
    { label: 'started/s (offered)', stroke: COLOR.offered, width: 1.5, dash: [5, 4], points: NO_POINTS, value: function (u, v) { return fixed(v, 1); } },
    { label: 'accepted/s', stroke: COLOR.accepted, fill: 'rgba(26,127,55,0.08)', width: 2, points: NO_POINTS, value: function (u, v) { return fixed(v, 1); } },
    { label: 'failed/s', stroke: COLOR.failed, width: 2, points: NO_POINTS, value: function (u, v) { return fixed(v, 1); } },
    { label: 'active VUs', stroke: 'rgba(9,105,218,0.55)', width: 1, scale: 'vus', points: NO_POINTS, paths: uPlot.paths.stepped({ align: 1 }), value: function (u, v) { return fixed(v, 0); } },
  ];
  var throughputColumns = [tl.t, tl.startedPerSecond, tl.acceptedPerSecond, tl.failedPerSecond, tl.vus];
  // Arrivals waiting for a free VU: drawn only when some waited (never in closed models).
  var hasQueue = (tl.queued || []).some(function (v) { return v > 0; });
  if (hasQueue) {
    throughputSeries.push({ label: 'queued arrivals (max)', stroke: COLOR.queued, width: 1.5, scale: 'vus', points: NO_POINTS, paths: uPlot.paths.stepped({ align: 1 }), value: function (u, v) { return fixed(v, 0); } });
    throughputColumns.push(tl.queued);
  }
  mount('chart-throughput', 'Throughput over time', {
    scales: { x: { time: false }, y: { range: zeroBased }, vus: { range: zeroBased } },
    cursor: { sync: sync },
    series: throughputSeries,
    axes: [axis('time since start (s)'), axis('messages / second'), axis(hasQueue ? 'active VUs, queued arrivals' : 'active VUs', { scale: 'vus', side: 1, grid: { show: false }, incrs: WHOLE_STEPS })],
  }, throughputColumns);

  mount('chart-latency', 'Latency over time', {
    scales: { x: { time: false }, y: { range: zeroBased } },
    cursor: { sync: sync },
    series: [
      { label: 'time', value: seconds },
      { label: 'p50', stroke: COLOR.p50, width: 2, points: NO_POINTS, value: function (u, v) { return ms(v); } },
      { label: 'p95', stroke: COLOR.p95, width: 2, points: NO_POINTS, value: function (u, v) { return ms(v); } },
      { label: 'p99', stroke: COLOR.p99, width: 1.5, points: NO_POINTS, value: function (u, v) { return ms(v); } },
    ],
    axes: [axis('time since start (s)'), axis('transaction latency (ms)')],
  }, [tl.t, tl.p50Ms, tl.p95Ms, tl.p99Ms]);

  var sp = data.spectrum;
  var decades = [];
  for (var d = 0; d <= Math.floor(sp.xMax + 1e-9); d++) decades.push(d);
  mount('chart-spectrum', 'Latency distribution', {
    scales: { x: { time: false, range: [0, sp.xMax] }, y: { range: zeroBased } },
    series: [{ label: 'percentile', value: function (u, v, si, idx) {
      var x = idx == null ? v : u.data[0][idx];
      return x == null ? '' : 'p(' + percentileLabel(x, Math.ceil(x + 1e-9) - 1) + ')';
    } }]
      .concat(sp.series.map(function (s) {
        return { label: s.label, stroke: COLOR[s.key] || COLOR.txn, width: 2, points: NO_POINTS, value: function (u, v) { return ms(v); } };
      })),
    axes: [
      axis('percentile (log scale: each step is ten times rarer)', {
        splits: function () { return decades; },
        values: function (u, splits) { return splits.map(function (x) { return percentileLabel(x, x - 2) + '%'; }); },
      }),
      axis('latency (ms)'),
    ],
  }, [sp.x].concat(sp.series.map(function (s) { return s.valuesMs; })));

  var ph = data.phases;
  var indices = ph.names.map(function (n, i) { return i; });
  mount('chart-phases', 'Per-phase latency', {
    scales: { x: { time: false, range: [-0.6, Math.max(0.6, ph.names.length - 0.4)] }, y: { range: zeroBased } },
    cursor: { points: { show: false } },
    series: [
      { label: 'phase', value: function (u, v) { return v == null ? '' : (ph.names[v] || ''); } },
      { label: 'p50', stroke: COLOR.p50, fill: 'rgba(9,105,218,0.75)', points: { show: false },
        paths: uPlot.paths.bars({ size: [0.4, 44], align: -1 }), value: function (u, v) { return ms(v); } },
      { label: 'p95', stroke: COLOR.p95, fill: 'rgba(188,76,0,0.75)', points: { show: false },
        paths: uPlot.paths.bars({ size: [0.4, 44], align: 1 }), value: function (u, v) { return ms(v); } },
    ],
    axes: [
      axis('SMTP phase', { font: '11px system-ui, sans-serif', splits: function () { return indices; }, values: function (u, splits) { return splits.map(function (i) { return ph.names[i] || ''; }); }, grid: { show: false } }),
      axis('latency (ms)'),
    ],
  }, [indices, ph.p50Ms, ph.p95Ms]);

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: widthOf(c.el), height: 280 }); });
    }, 100);
  });

  publish();
})();
`;
