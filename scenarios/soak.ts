/**
 * Soak: 50 connections sending back to back for one hour (the guide's "Stability over Time").
 *
 * Use it before a release and after changes to pooling or token refresh: problems that only
 * show with time (memory leaks, connection-pool leaks, latency creeping up, throughput
 * degrading) stay invisible in a 30-second run. The guide expects a consistent 20-50 emails/s
 * throughout. For a smoke test of the scenario itself, compress it:
 *
 *   runner run scenarios/soak.ts                 # one hour
 *   runner run scenarios/soak.ts --scale 0.001   # the same profile in 3.6 s
 */
import { defineScenario } from 'runner';

export default defineScenario({
  description: 'Soak: 50 concurrent connections for 1 hour',
  thresholds: {
    smtp_txn_duration: ['p(95)<0.5s'],
    smtp_txn_failed: ['rate<0.01'],
    // The guide's floor for this profile: at least 20 emails/s over the whole hour.
    smtp_txns: ['rate>=20'],
  },
  scenarios: {
    soak: {
      executor: 'constant-vus',
      vus: 50,
      duration: '1h',
    },
  },
});
