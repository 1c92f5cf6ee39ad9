// Custom metrics added without ctx.tags inside ctx.group() carry the group's tags: even iterations
// add inside ::a (after an await, while the other VU runs outside any group), odd ones outside.
import { defineScenario, check, Counter, Trend } from 'runner';

const myTrend = new Trend('my_trend');
const inner = new Counter('inner_count');

export default defineScenario({
  thresholds: {
    'my_trend{group:::a}': ['count==10', 'min>=100'],
    my_trend: ['count==20'],
    'inner_count{group:::a::b}': ['count==10'],
    'checks{group:::a}': ['rate==1'],
  },
  scenarios: {
    g: { executor: 'shared-iterations', vus: 2, iterations: 20 },
  },
  iteration: async (ctx) => {
    if (ctx.scenario.iterationInTest % 2 === 0) {
      await ctx.group('a', async () => {
        await ctx.smtp.send();
        myTrend.add(100 + ctx.iteration);
        await ctx.group('b', async () => {
          await Promise.resolve();
          inner.add(1);
        });
        check(true, { in_group: (v) => v });
      });
    } else {
      await ctx.smtp.send();
      myTrend.add(1);
    }
  },
});
