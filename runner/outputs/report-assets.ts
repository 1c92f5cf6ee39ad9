/**
 * The HTML report's own stylesheet and browser script, kept as real files in report-assets/
 * (report.css; report.js, type-checked by `tsc -p runner/outputs/report-assets`) instead of
 * strings in TypeScript. The bundle (dist/) carries them inlined: build.mjs reads both files and
 * defines RUNNER_REPORT_ASSETS. From source (tsx, the tests) nothing defines it, so they are read
 * from beside this module on first use. One switch, as RUNNER_CJS_BUNDLE in metrics/trend.ts.
 */
import { readFileSync } from 'node:fs';

/** The report's stylesheet and script, as the page inlines them. */
export interface ReportAssets {
  css: string;
  script: string;
}

/** Set by build.mjs (esbuild `define`) to the two files' text; undefined when run from source. */
declare const RUNNER_REPORT_ASSETS: ReportAssets | undefined;

let fromSource: ReportAssets | undefined;

/** The report's own CSS and script: inlined at build, or read from report-assets/ when run from source. */
export function loadReportAssets(): ReportAssets {
  if (typeof RUNNER_REPORT_ASSETS !== 'undefined') return RUNNER_REPORT_ASSETS;
  fromSource ??= {
    css: readFileSync(new URL('./report-assets/report.css', import.meta.url), 'utf8'),
    script: readFileSync(new URL('./report-assets/report.js', import.meta.url), 'utf8'),
  };
  return fromSource;
}
