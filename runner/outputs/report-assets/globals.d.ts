// What the report's browser script finds on the page: uPlot's IIFE build defines the global
// `uPlot`; the script publishes `window.__runnerReport` for tests and tooling.
import type UPlot from 'uplot';

declare global {
  const uPlot: typeof UPlot;
  interface Window {
    __runnerReport: unknown;
  }
}
