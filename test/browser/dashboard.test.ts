/**
 * The live web dashboard (`run --dashboard`) in headless Chromium while a run goes against the
 * fake proxy: the page's accepted count (read from the DOM) grows with the updates it receives
 * over server-sent events, a screenshot is taken mid-run, and once the run is over the page shows
 * the run's own count, which is the fixture's. No request leaves the dashboard's origin.
 *
 * Chromium is installed by .ci/run; when it is missing the test is skipped, saying why, except
 * under CI (CI=true), where it fails (test/tools.ts).
 */
// test-tier: real-time
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { createTempDir, createTextSink, runAgainst, withFakeProxy } from '../helpers.ts';
import { IS_CI, missingProgram, missingUnderCi } from '../tools.ts';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** What the page publishes (window.__runnerReport) plus the accepted count it shows. */
interface Shown {
  updates: number;
  finished: boolean;
  accepted: number;
  status: string | null;
}

async function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const report = (window as unknown as { __runnerReport?: { updates: number; finished: boolean } }).__runnerReport;
    const accepted = document.querySelector('[data-figure="successful"]') as HTMLElement | null;
    return {
      updates: report?.updates ?? 0,
      finished: report?.finished ?? false,
      accepted: Number(accepted?.dataset['value'] ?? NaN),
      status: document.querySelector('[data-status]')?.getAttribute('data-status') ?? null,
    };
  });
}

const missing = missingProgram(CHROMIUM, 'chromium');
const dashboard = suite('live dashboard in headless Chromium');

if (missing && !IS_CI) {
  process.stderr.write(`\nSKIPPED browser test of the dashboard: ${missing}\n`);
  dashboard.skip(`watches a run (skipped: ${missing})`, () => {});
} else {
  dashboard('the page follows the run each second and ends on the run\'s own figures', async () => {
    if (missing) assert.unreachable(missingUnderCi(missing));
    const temp = createTempDir();
    const profile = mkdtempSync(join(tmpdir(), 'runner-chromium-'));
    let context: BrowserContext | undefined;
    try {
      const scenarioFile = join(temp.dir, 'steady.yaml');
      writeFileSync(scenarioFile, ['scenarios:', '  steady:', '    executor: constant-vus', '    vus: 2', '    duration: 5s'].join('\n'));
      await withFakeProxy({ delays: { message: 20 } }, async (proxy) => {
        // Any free port (a port found free beforehand can be taken by another test meanwhile):
        // the dashboard says where it listens on stderr
        const sinks = { stdout: createTextSink(), stderr: createTextSink() };
        const run = runAgainst(proxy, { scenarioFile, dashboard: { host: '127.0.0.1', port: 0, lingerMs: 0 } }, sinks);
        let origin = '';
        for (let attempt = 0; attempt < 100 && origin === ''; attempt++) {
          origin = /dashboard: (http:\/\/127\.0\.0\.1:\d+)\//.exec(sinks.stderr.text())?.[1] ?? '';
          if (origin === '') await new Promise((resolve) => setTimeout(resolve, 50));
        }
        assert.ok(origin !== '', `the dashboard said where it listens: ${sinks.stderr.text()}`);
        context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, viewport: { width: 1400, height: 900 } });
        const page = await context.newPage();
        const problems: string[] = [];
        const foreign: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error') problems.push(`console: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
        await context.route('**/*', (route) => {
          const url = route.request().url();
          if (url.startsWith(origin) || url.startsWith('data:')) return route.continue();
          foreign.push(url);
          return route.abort();
        });
        // The page answers 503 (and reloads itself) until the engine exists.
        let isLoaded = false;
        for (let attempt = 0; attempt < 50 && !isLoaded; attempt++) {
          const response = await page.goto(`${origin}/`).catch(() => null);
          if (response?.status() === 200) isLoaded = true;
          else await page.waitForTimeout(100);
        }
        assert.ok(isLoaded, 'the dashboard answered');

        await page.waitForFunction(() => ((window as unknown as { __runnerReport?: { updates: number } }).__runnerReport?.updates ?? 0) >= 1, undefined, { timeout: 10_000 });
        const first = await shown(page);
        assert.is(first.status, 'running');
        assert.is(await page.locator('#live-status').getAttribute('data-state'), 'live');
        await page.waitForFunction((before) => ((window as unknown as { __runnerReport?: { updates: number } }).__runnerReport?.updates ?? 0) >= before + 2, first.updates, { timeout: 10_000 });
        const later = await shown(page);
        assert.ok(later.accepted > first.accepted, `accepted grew: ${first.accepted} → ${later.accepted}`);
        assert.ok(later.accepted <= proxy.stats.messagesAccepted, `the page (${later.accepted}) never ahead of the fixture (${proxy.stats.messagesAccepted})`);

        const shotDir = process.env['RUNNER_SCREENSHOT_DIR'] ?? mkdtempSync(join(tmpdir(), 'runner-dashboard-shot-'));
        const shot = join(shotDir, 'dashboard.png');
        await page.screenshot({ path: shot, fullPage: true });
        const png = readFileSync(shot);
        assert.equal([...png.subarray(1, 4)], [0x50, 0x4e, 0x47], 'a PNG');
        // The screenshot shows the count the DOM held when it was taken: the page's text is that number.
        const text = await page.locator('[data-figure="successful"]').innerText();
        assert.ok(Number(text.replace(/[^0-9]/g, '')) >= later.accepted, `shown text ${text}`);
        if (process.env['RUNNER_SCREENSHOT_DIR']) process.stderr.write(`dashboard screenshot: ${shot}\n`);
        else rmSync(shotDir, { recursive: true, force: true });

        const outcome = await run;
        await page.waitForFunction(() => (window as unknown as { __runnerReport?: { finished: boolean } }).__runnerReport?.finished === true, undefined, { timeout: 10_000 });
        const last = await shown(page);
        assert.is(last.accepted, outcome.summary.results.successful, 'the final page shows the run\'s accepted count');
        assert.is(last.accepted, proxy.stats.messagesAccepted, 'which is what the fixture accepted');
        assert.is(last.status, 'completed');
        assert.match(outcome.output, new RegExp(`dashboard: ${origin}/`));
        assert.equal(problems, [], 'no console errors');
        assert.equal(foreign, [], 'no request outside the dashboard');
      });
    } finally {
      await context?.close();
      rmSync(profile, { recursive: true, force: true });
      temp.remove();
    }
  });
}

dashboard.run();
