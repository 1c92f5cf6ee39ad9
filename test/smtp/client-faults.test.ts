import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkClientFaultChances, describeInvalidFault, pickClientFault, slowBodyPlan, type ClientFaultChance } from '../../runner/smtp/client-faults.ts';
import { parseClientFaultFlag } from '../../runner/scenario/client-fault-flag.ts';
import { clientFaultFigures } from '../../runner/results/summarise.ts';

const Flag = suite('--client-fault kind:probability[:parameter]');

Flag('valid values, with and without a parameter', () => {
  const cases: Array<[string, ClientFaultChance]> = [
    ['abort-data:0.05', { fault: { kind: 'abort-data' }, probability: 0.05 }],
    ['abort-data:0.05:128', { fault: { kind: 'abort-data', afterBytes: 128 }, probability: 0.05 }],
    ['slow-body:0.01:200', { fault: { kind: 'slow-body', bytesPerSecond: 200 }, probability: 0.01 }],
    ['idle-after-mail:1:30s', { fault: { kind: 'idle-after-mail', idleMs: 30_000 }, probability: 1 }],
    ['drop-after-accept:0', { fault: { kind: 'drop-after-accept' }, probability: 0 }],
    ['rset-storm:0.5:20', { fault: { kind: 'rset-storm', count: 20 }, probability: 0.5 }],
  ];
  for (const [text, expected] of cases) {
    const problems: string[] = [];
    assert.equal(parseClientFaultFlag(text, problems), expected, text);
    assert.equal(problems, [], text);
  }
});

Flag('invalid values say what to write instead', () => {
  const cases: Array<[string, RegExp]> = [
    ['explode:0.1', /kinds and their parameter: abort-data/],
    ['abort-data', /write --client-fault <kind>:<probability>/],
    ['abort-data:1.5', /probability must be a number from 0 to 1/],
    ['abort-data:0.1:-1', /integer ≥ 0/],
    ['slow-body:0.1:0', /bytes per second/],
    ['idle-after-mail:0.1:soon', /a duration, e\.g\. 30s/],
    ['drop-after-accept:0.1:3', /takes no parameter/],
    ['rset-storm:0.1:0', /count of RSETs/],
  ];
  for (const [text, pattern] of cases) {
    const problems: string[] = [];
    assert.is(parseClientFaultFlag(text, problems), undefined, text);
    assert.is(problems.length, 1, text);
    assert.match(problems[0]!, pattern);
  }
  const problems: string[] = [];
  checkClientFaultChances([{ fault: { kind: 'abort-data' }, probability: 0.7 }, { fault: { kind: 'slow-body' }, probability: 0.4 }], problems);
  assert.match(problems[0] ?? '', /add up to 1\.1/);
});

const Pick = suite('client faults: drawn per message, described when invalid');

Pick('a fault by cumulative probability; none past their sum', () => {
  const chances: ClientFaultChance[] = [{ fault: { kind: 'abort-data' }, probability: 0.25 }, { fault: { kind: 'rset-storm' }, probability: 0.25 }];
  assert.is(pickClientFault(chances, 0)?.kind, 'abort-data');
  assert.is(pickClientFault(chances, 0.2499)?.kind, 'abort-data');
  assert.is(pickClientFault(chances, 0.25)?.kind, 'rset-storm');
  assert.is(pickClientFault(chances, 0.4999)?.kind, 'rset-storm');
  assert.is(pickClientFault(chances, 0.5), undefined);
});

Pick('slow bodies: ticks of 100 ms at least, the rate kept', () => {
  assert.equal(slowBodyPlan(1024), { chunkBytes: 102, tickMs: 100 });
  assert.equal(slowBodyPlan(4000), { chunkBytes: 400, tickMs: 100 });
  assert.equal(slowBodyPlan(2), { chunkBytes: 1, tickMs: 500 });
});

Pick('send({ fault }) shapes', () => {
  assert.is(describeInvalidFault({ kind: 'abort-data', afterBytes: 10 }), undefined);
  assert.match(describeInvalidFault({ kind: 'nope' }) ?? '', /not one of/);
  assert.match(describeInvalidFault({ kind: 'slow-body', bytesPerSecond: 0 }) ?? '', /bytesPerSecond/);
  assert.match(describeInvalidFault('abort-data') ?? '', /must be an object/);
});

Pick('results: client_faults from the counter by kind, in the kinds\' order; absent without any', () => {
  const metric = {
    type: 'counter',
    count: 5,
    tag_sets: [
      { tags: { kind: 'rset-storm' }, count: 2 },
      { tags: { kind: 'abort-data' }, count: 3 },
    ],
  };
  assert.equal(Object.entries(clientFaultFigures({ client_faults: metric })!), [['abort-data', 3], ['rset-storm', 2]]);
  assert.is(clientFaultFigures({}), undefined);
});

Flag.run();
Pick.run();
