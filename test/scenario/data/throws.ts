import { defineScenario } from 'runner';

const value = Number('x');
if (Number.isNaN(value)) {
  throw new Error('RATE env var is not a number');
}

export default defineScenario({ scenarios: { main: { executor: 'shared-iterations' } } });
