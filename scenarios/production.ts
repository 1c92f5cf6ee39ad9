/**
 * Production load: 1000 emails per minute, arriving at a steady rate for 10 minutes (the guide's
 * "Production Load" scenario).
 *
 * Use it to answer "does the proxy keep up with our normal traffic?". Unlike the guide's
 * `--num-emails 1000 --concurrent 50`, which sends as fast as 50 connections allow, this is an
 * open model: emails start on schedule (one every 60 ms) whether or not earlier ones have
 * finished, as real traffic does. A slow proxy then shows as rising response time (measured from
 * each email's planned start, so queueing is not hidden) and, if all VUs are busy, as dropped
 * iterations, instead of silently lowering the rate.
 *
 *   runner run scenarios/production.ts
 *   runner run scenarios/production.ts --duration 30s   # a short check at the same rate
 */
import { defineScenario } from 'runner';

// VU pool by Little's law: concurrent emails = arrival rate × time each takes.
//   1000 emails/min = 16.7 emails/s
//   16.7/s × 2 s (the guide's worst p95 before optimization) ≈ 33 emails in flight
//   + 50% headroom                                          → 50 pre-allocated VUs
//   maxVUs 100 rides out stalls of up to 100 / 16.7 ≈ 6 s before iterations are dropped.
export default defineScenario({
  description: 'Production load: 1000 emails/min for 10 minutes',
  thresholds: {
    smtp_txn_duration: ['p(95)<0.5s'],
    // Service time hides queueing; response time (from the planned start) does not.
    smtp_txn_response_time: ['p(95)<1s'],
    smtp_txn_failed: ['rate<0.01'],
    // Every planned email started: the proxy kept up with the rate.
    dropped_iterations: ['count==0'],
  },
  scenarios: {
    production: {
      executor: 'constant-arrival-rate',
      rate: 1000,
      timeUnit: '1m',
      duration: '10m',
      preAllocatedVUs: 50,
      maxVUs: 100,
    },
  },
});
