// @ts-check
(function () {
  'use strict';
  var initial = JSON.parse(document.getElementById('report-data').textContent);
  var COLOR = { offered: '#8c959f', accepted: '#1a7f37', failed: '#cf222e', vus: '#0969da',
    p50: '#0969da', p95: '#bc4c00', p99: '#cf222e', txn: '#0969da', response: '#8250df', queued: '#bf8700',
    delivered: '#8250df', backlog: '#bf8700' };
  var charts = [];
  // Served live (runner run --dashboard): how many updates arrived, and whether the run is over.
  var updates = 0;
  var isFinished = false;

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
    return text.indexOf('.') >= 0 ? text.replace(/0+$/, '').replace(/\.$/, '') : text;
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
      updates: updates,
      finished: isFinished,
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
    var extraDraw = options.extraDraw;
    delete options.extraDraw;
    options.hooks = { draw: [function (u) { if (extraDraw) extraDraw(u); chart.drawn = true; publish(); }] };
    chart.plot = new uPlot(options, columns, el);
  }

  // Draws every chart from the chart data (buildChartData); again on each live update.
  function drawAll(data) {
    charts.forEach(function (c) { if (c.plot) c.plot.destroy(); });
    charts = [];
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

    // Latency thresholds (smtp_txn_duration, ms) as dashed horizontal lines, in the colour of the
    // percentile they limit, labelled with the condition. The y range includes each limit unless it
    // is far above the data (then the label says it is above the chart).
    var limits = data.latencyThresholds || [];
    function withLimits(u, min, max) {
      var top = max > 0 ? max : 1;
      limits.forEach(function (l) { if (l.ms > top && l.ms <= 4 * Math.max(max, 0.001)) top = l.ms; });
      return [0, top * 1.08];
    }
    function drawLimits(u) {
      var ctx = u.ctx;
      var left = u.bbox.left, right = u.bbox.left + u.bbox.width, top = u.bbox.top;
      var dpr = window.devicePixelRatio || 1;
      limits.forEach(function (l, i) {
        var above = l.ms > u.scales.y.max;
        var y = above ? top + 2 * dpr : Math.round(u.valToPos(l.ms, 'y', true));
        ctx.save();
        ctx.strokeStyle = l.series ? COLOR[l.series] : '#59636e';
        ctx.fillStyle = ctx.strokeStyle;
        ctx.lineWidth = 1.5 * dpr;
        ctx.setLineDash([6 * dpr, 4 * dpr]);
        if (!above) { ctx.beginPath(); ctx.moveTo(left, y); ctx.lineTo(right, y); ctx.stroke(); }
        ctx.font = (11 * dpr) + 'px system-ui, sans-serif';
        ctx.textAlign = 'right';
        ctx.textBaseline = above ? 'top' : 'bottom';
        ctx.fillText('threshold ' + l.label + (above ? ' (above the chart)' : '') + (l.ok ? '' : ' ✗'), right - 4 * dpr, y - (above ? -i * 13 * dpr : 2 * dpr));
        ctx.restore();
      });
    }
    mount('chart-latency', 'Latency over time', {
      scales: { x: { time: false }, y: { range: withLimits } },
      extraDraw: drawLimits,
      cursor: { sync: sync },
      series: [
        { label: 'time', value: seconds },
        { label: 'p50', stroke: COLOR.p50, width: 2, points: NO_POINTS, value: function (u, v) { return ms(v); } },
        { label: 'p95', stroke: COLOR.p95, width: 2, points: NO_POINTS, value: function (u, v) { return ms(v); } },
        { label: 'p99', stroke: COLOR.p99, width: 1.5, points: NO_POINTS, value: function (u, v) { return ms(v); } },
      ],
      axes: [axis('time since start (s)'), axis('transaction latency (ms)')],
    }, [tl.t, tl.p50Ms, tl.p95Ms, tl.p99Ms]);

    // Delivery upstream (with delivery tracking): accepted vs delivered per second, and the backlog.
    var dl = data.delivery;
    if (dl) {
      mount('chart-delivery', 'Accepted vs delivered per second', {
        scales: { x: { time: false }, y: { range: zeroBased } },
        cursor: { sync: sync },
        series: [
          { label: 'time', value: seconds },
          { label: 'accepted/s', stroke: COLOR.accepted, width: 2, points: NO_POINTS, value: function (u, v) { return fixed(v, 1); } },
          { label: 'delivered/s', stroke: COLOR.delivered, fill: 'rgba(130,80,223,0.08)', width: 2, points: NO_POINTS, value: function (u, v) { return fixed(v, 1); } },
        ],
        axes: [axis('time since start (s)'), axis('messages / second')],
      }, [tl.t, tl.acceptedPerSecond, dl.deliveredPerSecond]);
      mount('chart-backlog', 'Backlog over time', {
        scales: { x: { time: false }, y: { range: zeroBased } },
        cursor: { sync: sync },
        series: [
          { label: 'time', value: seconds },
          { label: 'backlog (messages)', stroke: COLOR.backlog, fill: 'rgba(191,135,0,0.12)', width: 2, points: NO_POINTS, paths: uPlot.paths.stepped({ align: 1 }), value: function (u, v) { return fixed(v, 0); } },
        ],
        axes: [axis('time since start (s)'), axis('messages awaited upstream', { incrs: WHOLE_STEPS })],
      }, [tl.t, dl.backlog]);
    }

    var sp = data.spectrum;
    var decades = [];
    for (var d = 0; d <= Math.floor(sp.xMax + 1e-9); d++) decades.push(d);
    mount('chart-spectrum', 'Latency distribution', {
      scales: { x: { time: false, range: [0, sp.xMax] }, y: { range: withLimits } },
      extraDraw: drawLimits,
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
    // Log scale: `message` (the upstream relay) is often 100× the other phases; on a linear axis
    // they would be invisible. A zero has no place on a log axis: it is left out (null).
    function positive(values) { return values.map(function (v) { return v > 0 ? v : null; }); }
    function logRange(u, min, max) {
      var lo = min > 0 ? Math.pow(10, Math.floor(Math.log10(min))) : 0.01;
      var hi = max > 0 ? Math.pow(10, Math.ceil(Math.log10(max * 1.05))) : 1;
      return [lo, hi > lo ? hi : lo * 10];
    }
    // Phase labels turn when there is too little room for them side by side (narrow screens).
    function isCrowded(u) { return u.bbox.width / (window.devicePixelRatio || 1) / Math.max(1, ph.names.length) < 56; }
    function fillToMin(u) { return u.scales.y.min; }
    mount('chart-phases', 'Per-phase latency', {
      scales: { x: { time: false, range: [-0.6, Math.max(0.6, ph.names.length - 0.4)] }, y: { distr: 3, log: 10, range: logRange } },
      cursor: { points: { show: false } },
      series: [
        { label: 'phase', value: function (u, v) { return v == null ? '' : (ph.names[v] || ''); } },
        { label: 'p50', stroke: COLOR.p50, fill: 'rgba(9,105,218,0.75)', points: { show: false }, fillTo: fillToMin,
          paths: uPlot.paths.bars({ size: [0.4, 44], align: -1 }), value: function (u, v) { return ms(v); } },
        { label: 'p95', stroke: COLOR.p95, fill: 'rgba(188,76,0,0.75)', points: { show: false }, fillTo: fillToMin,
          paths: uPlot.paths.bars({ size: [0.4, 44], align: 1 }), value: function (u, v) { return ms(v); } },
      ],
      axes: [
        axis('SMTP phase', { font: '11px system-ui, sans-serif', splits: function () { return indices; },
          values: function (u, splits) { return splits.map(function (i) { return ph.names[i] || ''; }); }, grid: { show: false },
          rotate: function (u) { return isCrowded(u) ? -50 : 0; },
          size: function (u) { return isCrowded(u) ? 90 : 50; } }),
        axis('latency (ms, log scale)', { values: function (u, splits) { return splits.map(function (v) { return v == null ? '' : v >= 1 ? String(+v.toFixed(0)) : String(+v.toPrecision(1)); }); } }),
      ],
    }, [indices, positive(ph.p50Ms), positive(ph.p95Ms)]);

    // The watched server process: CPU (% of one core) and memory (RSS, MB) per sample.
    var sv = data.server;
    if (sv) {
      mount('chart-server', 'Server CPU and memory', {
        scales: { x: { time: false }, y: { range: zeroBased }, mb: { range: zeroBased } },
        cursor: { sync: sync },
        series: [
          { label: 'time', value: seconds },
          { label: 'CPU % of one core', stroke: COLOR.p95, width: 2, points: NO_POINTS, value: function (u, v) { return v == null ? '' : fixed(v, 0) + '%'; } },
          { label: 'memory (RSS, MB)', stroke: COLOR.vus, width: 2, scale: 'mb', points: NO_POINTS, value: function (u, v) { return v == null ? '' : fixed(v, 1) + ' MB'; } },
        ],
        axes: [axis('time since start (s)'), axis('CPU (% of one core)'), axis('RSS (MB)', { scale: 'mb', side: 1, grid: { show: false } })],
      }, [sv.t, sv.cpuPercent, sv.rssMb]);
    }

  }
  drawAll(initial);

  // The live dashboard: each server-sent event carries the page's <main> (cards, tables) and the
  // chart data, both as the report would show them now; the last one ('end') the final figures.
  var eventsPath = document.body.getAttribute('data-live');
  if (eventsPath && typeof EventSource === 'function') {
    var status = document.getElementById('live-status');
    var say = function (state, text) { if (status) { status.setAttribute('data-state', state); status.textContent = text; } };
    var source = new EventSource(eventsPath);
    var apply = function (event) {
      var update = JSON.parse(event.data);
      document.querySelector('main').innerHTML = update.main;
      updates++;
      drawAll(update.data);
      publish();
    };
    source.onopen = function () { if (!isFinished) say('live', 'Live dashboard: updating each second'); };
    source.addEventListener('update', apply);
    source.addEventListener('end', function (event) {
      isFinished = true;
      source.close();
      say('finished', 'Run finished: final figures');
      apply(event);
    });
    source.onerror = function () { if (!isFinished) say('lost', 'Live dashboard: connection lost (the run has ended or runner stopped)'); };
  }

  var resizeTimer = 0;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.plot.setSize({ width: widthOf(c.el), height: 280 }); });
    }, 100);
  });

  publish();
})();
