/**
 * Custom ramp: a day's traffic in 12 minutes — warm up, ramp to production, hold, spike to
 * peak, recover, ramp down — at rates in emails per minute.
 *
 * Use it as the template for your own profile: copy it, change the stages. It shows the
 * options you will want: stages, thresholds per scenario and per phase, a threshold that
 * aborts a run going badly, tags, and where per-scenario SMTP settings and accounts go.
 * Find every option in schemas/scenario.schema.json (your editor completes them).
 *
 *   runner run scenarios/custom-ramp.ts
 *   runner run scenarios/custom-ramp.ts --duration 1m   # same shape, stages rescaled to 1 minute
 */
import { defineScenario } from 'runner';

export default defineScenario({
  description: 'Custom ramp: warm up, production, spike to peak, recover, ramp down',

  // Top-level settings apply to every scenario; a scenario can override any of them.
  target: { host: '127.0.0.1', port: 2525 },
  smtp: { from: 'test@example.com', to: 'recipient@outlook.com', messageSize: 1024 },
  // Send as every account of the proxy in turn, and get results per account:
  // accounts: { file: '../fixtures/accounts.json', pick: 'round-robin' },

  thresholds: {
    smtp_txn_duration: ['p(95)<0.5s', 'p(99)<1s'],
    // Response time counts the wait when the proxy falls behind the schedule (the spike).
    smtp_txn_response_time: ['p(95)<1s'],
    smtp_txn_failed: [
      'rate<0.01',
      // Stop early (exit code 108) if more than 10% fail, judged after the first minute so
      // the warm-up's token refreshes cannot trip it.
      { threshold: 'rate<0.1', abortOnFail: true, delayAbortEval: '1m' },
    ],
    // One phase: AUTH is where the proxy refreshes OAuth2 tokens.
    smtp_auth_duration: ['p(95)<200ms'],
    // A sub-metric: only the samples of scenario 'ramp' (useful once a file has several).
    'smtp_txn_duration{scenario:ramp}': ['p(99.9)<2s'],
  },

  scenarios: {
    ramp: {
      // Open model: emails start at the planned rate whatever the proxy's latency.
      executor: 'ramping-arrival-rate',
      timeUnit: '1m', // rates and stage targets are emails per minute
      startRate: 0,
      stages: [
        { duration: '1m', target: 300 }, // warm up: first AUTHs refresh tokens, pools fill
        { duration: '2m', target: 1000 }, // ramp to production traffic (1000/min)
        { duration: '4m', target: 1000 }, // hold: the steady state the thresholds mostly judge
        { duration: '30s', target: 5000 }, // spike to peak (5000/min) in 30 s
        { duration: '1m', target: 5000 }, // hold the peak
        { duration: '1m30s', target: 1000 }, // recover to production: latency must come back down
        { duration: '2m', target: 0 }, // ramp down
      ],
      // Little's law at the peak: 5000/min = 83.3/s × 0.5 s ≈ 42 in flight; 60 pre-allocated,
      // up to 200 when the proxy slows (200 / 83.3 ≈ 2.4 s of latency before drops).
      preAllocatedVUs: 60,
      maxVUs: 200,
      // Let emails still in flight at the end finish (up to 30 s) before the run stops.
      gracefulStop: '30s',
      // Tags go on every sample of this scenario: filter thresholds and results by them.
      tags: { profile: 'daily-ramp' },
      // Per-scenario overrides of the top-level settings, e.g.:
      // smtp: { messagesPerConnection: 5 },
    },
  },
});
