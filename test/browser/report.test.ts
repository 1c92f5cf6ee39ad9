/**
 * The HTML report in a real browser, as a person opens it: headless Chromium (Debian's
 * `chromium`) loads the file from disk with every network request refused, and the test checks
 * that the charts drew (canvases sized, series filled, pixels painted), that the console stayed
 * clean, and that the figures on the page are the results file's. It saves a screenshot.
 *
 * Chromium is not installed here: .ci/run installs it. When it is missing the test is skipped,
 * saying why, except under CI (CI=true), where it fails (test/tools.ts).
 */
import { expectedHeadline } from '../report-figures.ts';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';
import { createTempDir, runAgainst, withFakeProxy } from '../helpers.ts';
import { startSink } from '../../fixtures/sink.ts';
import { parseFailureFlag, startFakeProxy } from '../../fixtures/fake-proxy.ts';
import { IS_CI, missingProgram, missingUnderCi } from '../tools.ts';
import type { Summary } from '../../runner/results/types.ts';

const CHROMIUM = '/usr/bin/chromium';
/** Flags for a quiet, offline, throwaway browser. */
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const MESSAGE_DELAY_MS = 15;

/** What the report publishes for tests (window.__runnerReport). */
interface PublishedReport {
  ready: boolean;
  charts: { id: string; title: string; width: number; height: number; series: { label: string; length: number; points: number }[] }[];
}

/** What LAYOUT_PROBE measures: right edges (px) of sections and canvases, cards' widths, the thresholds' condition and actual cells. */
interface LayoutProbe {
  viewport: number;
  pageWidth: number;
  sections: number[];
  canvases: number[];
  cards: { scroll: number; client: number; value: number }[];
  condition: { right: number; width: number }[];
  actual: { right: number; width: number }[];
}

/** Measures the page's layout in the browser (evaluated as a string, see its use). */
const LAYOUT_PROBE = `(() => {
  const viewport = document.documentElement.clientWidth;
  const rightOf = (selector) => [...document.querySelectorAll(selector)].map((el) => Math.ceil(el.getBoundingClientRect().right));
  const cards = [...document.querySelectorAll('.card')].map((el) => ({ scroll: el.scrollWidth, client: el.clientWidth, value: el.querySelector('.value').scrollWidth }));
  const cells = (label) => [...document.querySelectorAll('#thresholds td[data-label="' + label + '"]')].map((el) => {
    const box = el.getBoundingClientRect();
    return { right: Math.ceil(box.right), width: box.width };
  });
  return { viewport, pageWidth: document.documentElement.scrollWidth, sections: rightOf('section'), canvases: rightOf('.chart canvas'), cards, condition: cells('condition'), actual: cells('actual') };
})()`;

const missing = missingProgram(CHROMIUM, 'chromium');
const browser = suite('html report in headless Chromium');

if (missing && !IS_CI) {
  process.stderr.write(`\nSKIPPED browser test of the HTML report: ${missing}\n`);
  browser.skip(`opens the report (skipped: ${missing})`, () => {});
} else {
  browser('a real run\'s report opens offline: charts drawn, console clean, the results file\'s figures, a screenshot', async () => {
    if (missing) assert.unreachable(missingUnderCi(missing));
    const temp = createTempDir();
    const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
    let context: BrowserContext | undefined;
    try {
      // A run of a few seconds so the timeline has several points: 4 VUs for 3 s, each message held 15 ms by the fixture.
      const scenarioFile = join(temp.dir, 'steady.yaml');
      writeFileSync(scenarioFile, [
        'thresholds:',
        '  smtp_txn_duration: ["p(95)<2s"]',
        'scenarios:',
        '  steady:',
        '    executor: constant-vus',
        '    vus: 4',
        '    duration: 3s',
      ].join('\n'));
      const resultsFile = join(temp.dir, 'results.json');
      const reportFile = join(temp.dir, 'report.html');
      await withFakeProxy({ delays: { message: MESSAGE_DELAY_MS } }, (proxy) => runAgainst(proxy, { scenarioFile, out: [resultsFile], report: reportFile }));
      const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Summary;
      assert.ok(results.results.successful > 20, `only ${results.results.successful} messages`);
      assert.ok(results.timeline.length >= 3, `timeline of ${results.timeline.length} points`);

      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1400, height: 900 },
      });
      const page = await context.newPage();
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      // Offline for real: anything but the file itself (and inline data) is refused and reported.
      await context.route('**/*', (route) => {
        const url = route.request().url();
        requests.push(url);
        return url.startsWith('file:') || url.startsWith('data:') ? route.continue() : route.abort();
      });

      await page.goto(pathToFileURL(reportFile).href);
      await page.waitForFunction(() => (window as unknown as { __runnerReport?: PublishedReport }).__runnerReport?.ready === true, undefined, { timeout: 15_000 });
      const report = await page.evaluate(() => (window as unknown as { __runnerReport: PublishedReport }).__runnerReport);

      assert.equal(problems, [], 'no console errors');
      assert.equal(requests.filter((url) => !url.startsWith('file:') && !url.startsWith('data:')), [], 'no network requests');

      assert.equal(report.charts.map((c) => c.id), ['chart-throughput', 'chart-latency', 'chart-spectrum', 'chart-phases']);
      for (const chart of report.charts) {
        assert.ok(chart.width > 200 && chart.height > 100, `${chart.id} canvas ${chart.width}×${chart.height}`);
        assert.ok(chart.series.length > 0, `${chart.id} has series`);
        for (const series of chart.series) assert.ok(series.length > 0 && series.points > 0, `${chart.id} ${series.label}: ${series.points}/${series.length} points`);
      }
      assert.is(report.charts[0]!.series[1]!.length, results.timeline.length, 'throughput: one point per timeline second');
      assert.is(report.charts[3]!.series[0]!.length, Object.keys(results.results.phases).length, 'phases: one bar per phase');

      // Each canvas has ink on it (uPlot drew lines and bars), counted in the page.
      const painted = await page.evaluate(() => [...document.querySelectorAll('.chart canvas')].map((node) => {
        const canvas = node as HTMLCanvasElement;
        const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        let inked = 0;
        for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) inked++;
        return { width: canvas.getBoundingClientRect().width, height: canvas.getBoundingClientRect().height, inked };
      }));
      assert.is(painted.length, 4);
      for (const canvas of painted) assert.ok(canvas.width > 200 && canvas.height > 100 && canvas.inked > 2000, `canvas ${JSON.stringify(canvas)}`);

      // The headline figures on the page are the results file's, as numbers and as text.
      const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll('[data-figure]')].map((el) => [
        (el as HTMLElement).dataset['figure'], { value: (el as HTMLElement).dataset['value'], text: el.textContent!.trim() },
      ])));
      const r = results.results;
      const expected = expectedHeadline(r);
      for (const [key, value, text] of expected) {
        assert.ok(shown[key], `${key} on the page`);
        assert.is(Number(shown[key]!.value), value, `${key} value`);
        assert.is(shown[key]!.text, text, `${key} text`);
      }
      // The fixture held every message 15 ms: the median the page shows cannot be below that.
      assert.ok(r.latency.p50_seconds! * 1000 >= MESSAGE_DELAY_MS, `p50 ${r.latency.p50_seconds}s below the fixture's ${MESSAGE_DELAY_MS} ms`);

      const headings = await page.locator('h2').allTextContents();
      for (const heading of ['Thresholds', 'Throughput over time', 'Latency over time', 'Latency distribution', 'Per-phase latency', 'Errors by phase and reply', 'Scenarios', 'Accounts', 'Configuration']) {
        assert.ok(headings.includes(heading), `heading ${heading} in ${headings.join(' | ')}`);
      }
      assert.match(await page.locator('#thresholds').innerText(), /✓ pass/);

      // Narrower window: the charts follow the layout (one column) instead of overflowing.
      await page.setViewportSize({ width: 760, height: 900 });
      await page.waitForFunction(() => {
        const canvas = document.querySelector('#chart-throughput canvas') as HTMLCanvasElement | null;
        return canvas !== null && canvas.getBoundingClientRect().width < 740;
      }, undefined, { timeout: 5_000 });
      await page.setViewportSize({ width: 1400, height: 900 });

      const shotDir = process.env['RUNNER_SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'runner-report-shot-'));
      const shot = join(shotDir, 'report.png');
      await page.screenshot({ path: shot, fullPage: true });
      const png = readFileSync(shot);
      assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
      assert.ok(png.length > 50_000, `screenshot of ${png.length} bytes`);
      if (process.env['RUNNER_SCREENSHOT_DIR']) process.stderr.write(`report screenshot: ${shot}\n`);
      else rmSync(shotDir, { recursive: true, force: true });
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
      temp.remove();
    }
  });

  browser('a run where every message failed at AUTH: the page still loads cleanly and says what has no data', async () => {
    const temp = createTempDir();
    const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
    let context: BrowserContext | undefined;
    try {
      const reportFile = join(temp.dir, 'report.html');
      const { summary } = await withFakeProxy({}, (proxy) => runAgainst(proxy, { numEmails: 20, concurrent: 2, check: false, overrides: { from: 'nobody@nowhere.test' }, out: [join(temp.dir, 'r.json')], report: reportFile }));
      assert.is(summary.results.successful, 0);
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(pathToFileURL(reportFile).href);
      await page.waitForFunction(() => (window as unknown as { __runnerReport?: PublishedReport }).__runnerReport?.ready === true, undefined, { timeout: 15_000 });
      assert.equal(problems, []);
      assert.match(await page.locator('#latency').innerText(), 'No data for this chart');
      assert.match(await page.locator('#errors').innerText(), /auth\s+535/);
      assert.is(await page.locator('[data-figure="success_rate"]').innerText(), '0.0%');
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
      temp.remove();
    }
  });

  browser('a run with delivery tracking (fake proxy relaying to a sink that refuses 10%): the delivery charts drawn, its cards the results\' figures', async () => {
    const temp = createTempDir();
    const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
    let context: BrowserContext | undefined;
    const sink = await startSink({ tls: 'none', seed: 5, failures: [parseFailureFlag('message=454:0.1')], delays: { message: 20 } });
    const proxy = await startFakeProxy({ seed: 1, delays: { message: MESSAGE_DELAY_MS }, relay: { host: '127.0.0.1', port: sink.smtpPort, tls: 'none', mode: 'after-250' } });
    try {
      const reportFile = join(temp.dir, 'report.html');
      const { summary } = await runAgainst(proxy, {
        scenario: { scenarios: { steady: { executor: 'constant-vus', vus: 3, duration: '3s' } } },
        check: false,
        overrides: { delivery: `sink=http://127.0.0.1:${sink.adminPort}`, deliveryTimeout: '20s', to: ['load@example.com'] },
        report: reportFile,
      });
      const d = summary.delivery!;
      assert.equal([d.wait, d.lost, d.delivered], ['complete', sink.stats.refused, sink.stats.delivered]);
      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(pathToFileURL(reportFile).href);
      await page.waitForFunction(() => (window as unknown as { __runnerReport?: PublishedReport }).__runnerReport?.ready === true, undefined, { timeout: 15_000 });
      assert.equal(problems, []);
      const report = await page.evaluate(() => (window as unknown as { __runnerReport: PublishedReport }).__runnerReport);
      assert.equal(report.charts.map((c) => c.id), ['chart-throughput', 'chart-latency', 'chart-delivery', 'chart-backlog', 'chart-spectrum', 'chart-phases']);
      for (const id of ['chart-delivery', 'chart-backlog']) {
        const chart = report.charts.find((c) => c.id === id)!;
        assert.ok(chart.width > 200 && chart.height > 100, `${id} canvas ${chart.width}×${chart.height}`);
        for (const series of chart.series) assert.is(series.length, summary.timeline.length, `${id} ${series.label}: one point per timeline window`);
      }
      const shown = async (key: string) => Number(await page.locator(`[data-figure="${key}"]`).first().getAttribute('data-value'));
      assert.is(await shown('delivered'), d.delivered);
      assert.is(await shown('lost'), d.lost);
      assert.is(await shown('delivery_lag_p95_seconds'), d.lag.p95_seconds);
      assert.match(await page.locator('#delivery').innerText(), `${d.lost_refused} refused upstream`);
    } finally {
      await context?.close();
      await proxy.close();
      await sink.close();
      rmSync(profile, { recursive: true, force: true });
      temp.remove();
    }
  });
  browser('a failed run: the verdict banner says what crossed and why; rates in %; threshold lines; server chart; nothing overflows at 420, 1100 and 1400 px', async () => {
    if (missing) assert.unreachable(missingUnderCi(missing));
    const temp = createTempDir();
    const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
    let context: BrowserContext | undefined;
    try {
      // 5% of messages get 451 4.3.0 at the final dot: `rate<0.01` is crossed, the latency ones are met.
      const scenarioFile = join(temp.dir, 'failing.yaml');
      writeFileSync(scenarioFile, [
        'thresholds:',
        '  smtp_txn_failed: ["rate<0.01"]',
        '  smtp_txn_duration: ["p(95)<2s", "avg<2s"]',
        'scenarios:',
        '  steady:',
        '    executor: constant-vus',
        '    vus: 4',
        '    duration: 3s',
      ].join('\n'));
      const resultsFile = join(temp.dir, 'results.json');
      const reportFile = join(temp.dir, 'report.html');
      const failures = [{ phase: 'message' as const, probability: 0.05, kind: 'reply' as const, code: 451, enhanced: '4.3.0', text: 'try again later' }];
      const { exitCode } = await withFakeProxy({ delays: { message: MESSAGE_DELAY_MS }, failures }, (proxy) => runAgainst(proxy, { scenarioFile, out: [resultsFile], report: reportFile, watchPid: process.pid }));
      const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as Summary;
      assert.ok(results.results.failed > 0, 'some messages failed');
      const failedThreshold = results.thresholds.find((t) => t.metric === 'smtp_txn_failed')!;
      assert.is(failedThreshold.ok, false);
      assert.is(exitCode, 99);

      context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
      const page = await context.newPage();
      const problems: string[] = [];
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(`console ${message.type()}: ${message.text()}`);
      });
      page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
      await page.goto(pathToFileURL(reportFile).href);
      await page.waitForFunction(() => (window as unknown as { __runnerReport?: PublishedReport }).__runnerReport?.ready === true, undefined, { timeout: 15_000 });
      assert.equal(problems, []);

      // The banner: the run's verdict line, the crossed threshold as a percentage and the error behind it.
      const banner = await page.locator('#verdict').innerText();
      const percent = `${+(failedThreshold.actual! * 100).toFixed(2)}%`;
      assert.match(banner, `✗ FAILED: 1 of 3 thresholds crossed — smtp_txn_failed rate ${percent} > 1% (`);
      assert.match(banner, /\d+ × 451 4\.3\.0 at message/);
      assert.match(banner, /exit 99/);
      assert.is(await page.locator('#verdict').getAttribute('data-exit-code'), '99');
      // Rates as percentages in the thresholds table, not 0.0205.
      assert.is((await page.locator('tr[data-threshold-ok="false"] td[data-label="actual"]').innerText()).trim(), percent);

      const report = await page.evaluate(() => (window as unknown as { __runnerReport: PublishedReport }).__runnerReport);
      assert.ok(report.charts.some((c) => c.id === 'chart-server'), 'the server process chart is drawn');
      // The latency thresholds go to the latency charts as lines (ms), p95 in the p95 series' colour.
      const lines = await page.evaluate(() => JSON.parse(document.getElementById('report-data')!.textContent!).latencyThresholds);
      assert.equal(lines, [{ label: 'p(95)<2s', ms: 2000, series: 'p95', ok: true }, { label: 'avg<2s', ms: 2000, series: null, ok: true }]);
      const trendRows = await page.locator('#server tr[data-trend]').count();
      assert.ok(trendRows >= 2, `${trendRows} trend rows`);
      assert.match(await page.locator('#server').innerText(), /too short to judge/);

      const shotDir = process.env['RUNNER_SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'runner-report-shot-'));
      for (const width of [420, 1100, 1400]) {
        await page.setViewportSize({ width, height: 900 });
        // The charts follow the new width (the resize handler waits 100 ms), then nothing overflows.
        await page.waitForFunction((w) => {
          const canvas = document.querySelector('#chart-latency canvas') as HTMLCanvasElement | null;
          return canvas !== null && canvas.getBoundingClientRect().right <= w;
        }, width, { timeout: 5_000 });
        // A string, not a function: tsx would wrap the helpers' names in a __name() the page does not have.
        const layout = await page.evaluate(LAYOUT_PROBE) as LayoutProbe;
        assert.ok(layout.pageWidth <= layout.viewport, `${width}px: page ${layout.pageWidth}px wide in a ${layout.viewport}px viewport`);
        for (const right of [...layout.sections, ...layout.canvases]) assert.ok(right <= layout.viewport, `${width}px: an element ends at ${right}px`);
        for (const card of layout.cards) assert.ok(card.scroll <= card.client && card.value <= card.client, `${width}px: card overflows ${JSON.stringify(card)}`);
        for (const cell of [...layout.condition, ...layout.actual]) assert.ok(cell.width > 20 && cell.right <= layout.viewport, `${width}px: a threshold cell out of view ${JSON.stringify(cell)}`);
        await page.screenshot({ path: join(shotDir, `report-failed-${width}.png`), fullPage: true });
      }
      if (process.env['RUNNER_SCREENSHOT_DIR']) process.stderr.write(`report screenshots: ${shotDir}\n`);
      else rmSync(shotDir, { recursive: true, force: true });
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
      temp.remove();
    }
  });
}

browser.run();
