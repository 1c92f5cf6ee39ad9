/**
 * Baseline: 100 emails over 10 concurrent connections (the guide's "Quick Baseline Test",
 * `--num-emails 100 --concurrent 10`).
 *
 * Use it first, every time: it checks the proxy is up, accepts the sender and relays, and it
 * gives the reference numbers later runs are compared with (`runner compare`). Run it before
 * and after a change to the proxy. The same scenario in YAML is baseline.yaml.
 *
 *   runner run scenarios/baseline.ts
 */
import { defineScenario } from 'runner';

export default defineScenario({
  description: 'Baseline: 100 emails, 10 concurrent connections',
  thresholds: {
    // The guide's optimized proxy: p95 between 0.1 and 0.5 s.
    smtp_txn_duration: ['p(95)<0.5s'],
    // Success rate >= 99% (the guide expects 100% for valid accounts).
    smtp_txn_failed: ['rate<0.01'],
  },
  scenarios: {
    baseline: {
      // 10 VUs (connections) take emails from a shared pool of 100 until it is empty,
      // each sending back to back: no batch barriers.
      executor: 'shared-iterations',
      vus: 10,
      iterations: 100,
    },
  },
});
