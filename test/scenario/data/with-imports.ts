// A scenario with a local TypeScript import and a JSON import: both must be bundled in.
import { defineScenario } from 'runner';
import { recipients } from './helpers/recipients.ts';
import settings from './settings.json' with { type: 'json' };

export default defineScenario({
  description: settings.description,
  smtp: { to: recipients(2) },
  scenarios: {
    main: { executor: 'shared-iterations', vus: settings.vus, iterations: settings.iterations },
  },
  iteration: async (ctx) => {
    await ctx.smtp.send();
  },
});
