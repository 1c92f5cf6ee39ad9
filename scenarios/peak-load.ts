/**
 * Peak load: 5000 emails per minute at a steady rate for 5 minutes (the guide's "Peak Load"
 * scenario: 83 emails/s, 5x production).
 *
 * Use it to check the proxy survives the busiest hour of the busiest day, and before raising
 * traffic. It is an open model like production.ts: emails start on schedule, so an overloaded
 * proxy shows as growing response times and dropped iterations, not as a quietly lower rate.
 *
 *   runner run scenarios/peak-load.ts
 *   runner run scenarios/peak-load.ts --rate 3000   # another peak, same shape
 */
import { defineScenario } from 'runner';

// VU pool by Little's law: concurrent emails = arrival rate × time each takes.
//   5000 emails/min = 83.3 emails/s
//   83.3/s × 0.5 s (the p95 we require) ≈ 42 emails in flight; × 1.2 s (a slow spell) = 100
//   → 100 pre-allocated VUs (the guide's 100 concurrent connections)
//   maxVUs 200 rides out stalls of up to 200 / 83.3 ≈ 2.4 s before iterations are dropped.
export default defineScenario({
  description: 'Peak load: 5000 emails/min for 5 minutes',
  thresholds: {
    smtp_txn_duration: ['p(95)<0.5s'],
    smtp_txn_response_time: ['p(95)<1s'],
    smtp_txn_failed: ['rate<0.01'],
    dropped_iterations: ['count==0'],
  },
  scenarios: {
    peak: {
      executor: 'constant-arrival-rate',
      rate: 5000,
      timeUnit: '1m',
      duration: '5m',
      preAllocatedVUs: 100,
      maxVUs: 200,
    },
  },
});
