// tagged-metrics.ts with one threshold on a tagged custom metric that must fail: the big
// messages are ~100 KB, so `max<1000` on kind=big fails while the same on kind=small passes.
import { defineScenario } from 'runner';
import base from './tagged-metrics.ts';

export default defineScenario({
  ...base,
  thresholds: {
    'message_bytes{kind:small}': ['max<1000'],
    'message_bytes{kind:big}': ['max<1000'],
  },
});
