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
}

browser.run();
