// setup() once for every worker: it logs each call to SETUP_LOG; every iteration counts the
// data it received (tagged with it); teardown() logs once with the same data.
import { appendFileSync } from 'node:fs';
import { defineScenario, Counter } from 'runner';

const seen = new Counter('seen_setup_data');

export default defineScenario({
  thresholds: { 'seen_setup_data{token:abc,is_date:true}': ['count==6'] },
  scenarios: { main: { executor: 'per-vu-iterations', vus: 3, iterations: 2 } },
  setup: () => {
    appendFileSync(process.env['SETUP_LOG']!, 'setup\n');
    return { token: 'abc', at: new Date(0) };
  },
  iteration: (ctx) => {
    const data = ctx.data as { token: string; at: unknown };
    seen.add(1, { token: data.token, is_date: String(data.at instanceof Date) });
  },
  teardown: (data) => {
    appendFileSync(process.env['SETUP_LOG']!, `teardown ${(data as { token: string }).token}\n`);
  },
});
