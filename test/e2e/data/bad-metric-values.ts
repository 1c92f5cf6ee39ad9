// Custom metrics fed values they cannot hold: every iteration adds a good send time and a NaN
// (arithmetic on a field the script forgot to set), and every other iteration a negative trend
// value and a string to a counter. The bad values are left out of every figure, with one warning
// per metric; the good ones are judged by the thresholds as if the bad ones never came.
import { defineScenario, Counter, Trend } from 'runner';

const sendTime = new Trend('send_ms', true);
const skew = new Trend('skew');
const sent = new Counter('sent');

export default defineScenario({
  thresholds: {
    send_ms: ['count==10', 'avg<10s'],
    skew: ['count==5', 'min==1'],
    sent: ['count==10'],
  },
  scenarios: {
    bad: { executor: 'shared-iterations', vus: 2, iterations: 10 },
  },
  iteration: async (ctx) => {
    const state = ctx as unknown as { startedAt?: number };
    const start = performance.now();
    await ctx.smtp.send();
    sendTime.add(performance.now() - start);
    sendTime.add(performance.now() - state.startedAt!);
    const even = ctx.scenario.iterationInTest % 2 === 0;
    skew.add(even ? 1 : -1);
    sent.add(1);
    if (!even) sent.add('1' as unknown as number);
  },
});
