/**
 * Stress: 2000 emails over 100 concurrent connections (the guide's "Stress Test",
 * `--num-emails 2000 --concurrent 100`).
 *
 * Use it for capacity testing: with 100 connections at once, queues form inside the proxy
 * (connection pool, thread pool, per-account limits) and latency shows where it saturates. The
 * guide expects 50-200+ emails/s depending on the proxy's optimizations. To find the
 * concurrency where throughput stops growing, sweep rather than guess (`runner sweep`).
 *
 *   runner run scenarios/stress.ts
 */
import { defineScenario } from 'runner';

export default defineScenario({
  description: 'Stress: 2000 emails, 100 concurrent connections',
  thresholds: {
    // Latency is expected to grow under this much concurrency: the bound is the guide's
    // un-optimized proxy (p95 up to 2 s); what must not happen is failures.
    smtp_txn_duration: ['p(95)<2s'],
    smtp_txn_failed: ['rate<0.01'],
  },
  scenarios: {
    stress: {
      executor: 'shared-iterations',
      vus: 100,
      iterations: 2000,
      // 2000 emails at the guide's slowest expected 50/s take 40 s; 10 minutes is a hang.
      maxDuration: '10m',
    },
  },
});
