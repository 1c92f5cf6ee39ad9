import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { MAX_CAPABILITIES, parseCapabilities, parseCapabilitiesOnce } from '../../runner/smtp/capabilities.ts';

const Once = suite('capabilities: one parse per distinct EHLO reply');

const REPLY = ['sink.example Hello', 'PIPELINING', 'SIZE 10240000', '8BITMIME', 'CHUNKING'];

Once('the same lines (a new array each connection) give the same map, with parseCapabilities\' content', () => {
  const first = parseCapabilitiesOnce(REPLY.slice());
  const second = parseCapabilitiesOnce(REPLY.slice());
  assert.is(second, first);
  assert.equal([...first], [...parseCapabilities(REPLY)]);
});

Once('a reply that differs in any line is parsed afresh', () => {
  const first = parseCapabilitiesOnce(REPLY.slice());
  const changed = parseCapabilitiesOnce([...REPLY.slice(0, 2), 'SIZE 1000', ...REPLY.slice(3)]);
  assert.is.not(changed, first);
  assert.is(changed.get('SIZE'), '1000');
  const shorter = parseCapabilitiesOnce(REPLY.slice(0, 2));
  assert.is.not(shorter, changed);
  assert.equal([...shorter.keys()], ['PIPELINING']);
});

Once('a large reply is not remembered (issue 19: no hostile reply kept alive), yet parsed alike', () => {
  const hostile = ['x', ...Array.from({ length: MAX_CAPABILITIES + 5 }, (_, i) => `K${i} ${'p'.repeat(300)}`)];
  const first = parseCapabilitiesOnce(hostile);
  const second = parseCapabilitiesOnce(hostile.slice());
  assert.is.not(second, first);
  assert.equal([...second], [...parseCapabilities(hostile)]);
});

Once.run();
