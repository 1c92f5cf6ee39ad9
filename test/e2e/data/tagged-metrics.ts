// Custom metrics with tags (k6's add(value, tags)): every other iteration sends a ~100 KB message;
// its send time, size and count are recorded under kind=big or kind=small, and thresholds judge
// each kind on its own.
import { defineScenario, Counter, Trend } from 'runner';

const sendTime = new Trend('send_ms', true);
const messageBytes = new Trend('message_bytes');
const sent = new Counter('sent_by_kind');

const BIG = `Subject: big\r\n\r\n${`${'x'.repeat(998)}\r\n`.repeat(100)}`;
const SMALL = 'Subject: small\r\n\r\nhello\r\n';

export default defineScenario({
  thresholds: {
    'send_ms{kind:big}': ['count==10', 'p(95)<10s'],
    'send_ms{kind:small}': ['count==10'],
    // Passes only because the filter leaves the big messages out.
    'message_bytes{kind:small}': ['max<1000'],
    'message_bytes{kind:big}': ['min>=100000'],
    message_bytes: ['count==20', 'max>=100000'],
    'sent_by_kind{kind:big}': ['count==10'],
  },
  scenarios: {
    tagged: { executor: 'shared-iterations', vus: 2, iterations: 20 },
  },
  iteration: async (ctx) => {
    const kind = ctx.scenario.iterationInTest % 2 === 0 ? 'big' : 'small';
    const message = kind === 'big' ? BIG : SMALL;
    const start = performance.now();
    await ctx.smtp.send({ message });
    sendTime.add(performance.now() - start, { kind });
    messageBytes.add(message.length, { kind });
    sent.add(1, { kind });
  },
});
