/**
 * Moderate load: 500 emails over 25 concurrent connections (the guide's "Moderate Load Test",
 * `--num-emails 500 --concurrent 25`).
 *
 * Use it for stability checks and for before/after comparisons of a proxy change: large
 * enough for stable percentiles, short enough to repeat a few times (`runner report`).
 * The guide expects 20-50 emails/s here.
 *
 *   runner run scenarios/moderate.ts
 */
import { defineScenario } from 'runner';

export default defineScenario({
  description: 'Moderate load: 500 emails, 25 concurrent connections',
  thresholds: {
    smtp_txn_duration: ['p(95)<0.5s'],
    smtp_txn_failed: ['rate<0.01'],
  },
  scenarios: {
    moderate: {
      executor: 'shared-iterations',
      vus: 25,
      iterations: 500,
    },
  },
});
