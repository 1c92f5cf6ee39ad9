// The scenario picks the sender in code (as from a CSV): 12 messages, 4 per account, through
// ctx.smtp.send({ from }) on even iterations and the steps with auth(user) on odd ones.
import { defineScenario } from 'runner';

const SENDERS = ['test@example.com', 'sales@company.com', 'support@company.com'];

export default defineScenario({
  scenarios: {
    senders: { executor: 'shared-iterations', vus: 2, iterations: 12 },
  },
  smtp: { messagesPerConnection: 3 },
  iteration: async (ctx) => {
    const index = ctx.scenario.iterationInTest;
    const from = SENDERS[index % SENDERS.length]!;
    if (index % 2 === 0) {
      await ctx.smtp.send({ from });
      return;
    }
    // The steps on a fresh connection: connect, EHLO, AUTH as the chosen user, the transaction
    await ctx.smtp.connect();
    await ctx.smtp.ehlo();
    await ctx.smtp.auth(from);
    await ctx.smtp.mail(from);
    await ctx.smtp.rcpt();
    await ctx.smtp.data();
    await ctx.smtp.quit();
  },
});
