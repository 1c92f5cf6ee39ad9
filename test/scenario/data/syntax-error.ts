import { defineScenario } from 'runner';

export default defineScenario({
  scenarios: {
    main: { executor: 'shared-iterations' vus: 2 },
  },
});
