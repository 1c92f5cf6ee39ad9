// check(), ctx.group() and ctx.vuState end to end: even iterations send inside the nested groups
// ::send::inner, odd ones outside any group; every iteration judges four checks with known outcomes.
import { defineScenario, check, Counter, Trend } from 'runner';

const vuStateOk = new Counter('vu_state_ok');
const sendMs = new Trend('send_ms', true);

export default defineScenario({
  thresholds: {
    checks: ['rate==0.625'],
    'checks{check:always}': ['rate==1'],
    'checks{check:is even}': ['rate==0.5'],
    'checks{check:always,scenario:grouped}': ['rate==1'],
    'smtp_txns{group:::send::inner}': ['count==10'],
    'smtp_txn_duration{group:"::send::inner"}': ['count==10'],
    'group_duration{group:::send}': ['count==10'],
    'send_ms{group:::send::inner}': ['count==10'],
    vu_state_ok: ['count==20'],
  },
  scenarios: {
    grouped: { executor: 'shared-iterations', vus: 2, iterations: 20 },
  },
  iteration: async (ctx) => {
    const isEven = ctx.scenario.iterationInTest % 2 === 0;
    if (isEven) {
      await ctx.group('send', () =>
        ctx.group('inner', async () => {
          const start = performance.now();
          await ctx.smtp.send();
          sendMs.add(performance.now() - start, ctx.tags);
        }),
      );
    } else {
      await ctx.smtp.send();
    }
    ctx.check(isEven, { 'is even': (v) => v, always: true });
    check(1, { imported: (v) => v === 1 });
    ctx.check(null as unknown as { x: number }, { throws: (v) => v.x > 0 });
    ctx.vuState['n'] = ((ctx.vuState['n'] as number | undefined) ?? 0) + 1;
    vuStateOk.add(ctx.vuState['n'] === ctx.iteration + 1 ? 1 : 0);
  },
});
