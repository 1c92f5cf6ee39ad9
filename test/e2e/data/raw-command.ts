// ctx.smtp.command(): a NOOP before each message on the VU's connection; its reply is timed under
// smtp_noop_duration, and a threshold can judge it like any custom trend.
import { defineScenario } from 'runner';

export default defineScenario({
  scenarios: {
    raw: { executor: 'shared-iterations', vus: 2, iterations: 10 },
  },
  smtp: { messagesPerConnection: 5 },
  iteration: async (ctx) => {
    if (!ctx.smtp.isConnected) {
      await ctx.smtp.connect();
      await ctx.smtp.ehlo();
      await ctx.smtp.auth();
    }
    const noop = await ctx.smtp.command('NOOP');
    if (noop.code !== 250) throw new Error(`NOOP answered ${noop.code}`);
    await ctx.smtp.send();
  },
});
