// A custom iteration: the SMTP steps by hand, two messages per iteration on one connection,
// and custom metrics with thresholds on them.
import { defineScenario, Counter, Trend } from 'runner';

const sent = new Counter('messages_by_hand');
const stepTime = new Trend('mail_to_accept_ms', true);

export default defineScenario({
  thresholds: {
    messages_by_hand: ['count==20'],
    mail_to_accept_ms: ['p(95)<1s'],
  },
  scenarios: {
    byhand: { executor: 'per-vu-iterations', vus: 2, iterations: 5 },
  },
  iteration: async (ctx) => {
    await ctx.smtp.connect();
    await ctx.smtp.ehlo();
    await ctx.smtp.auth();
    for (let i = 0; i < 2; i++) {
      if (i > 0) await ctx.smtp.rset();
      const start = performance.now();
      await ctx.smtp.mail();
      await ctx.smtp.rcpt(['a@example.com', 'b@example.com']);
      await ctx.smtp.data(`Subject: by hand ${ctx.vu}/${ctx.iteration}/${i}\r\n\r\n.leading dot\r\nbody\r\n`);
      stepTime.add(performance.now() - start);
      sent.add(1);
    }
    await ctx.smtp.quit();
  },
});
