import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { addressPool, MAX_LOCAL_ADDRESSES, parseLocalIps } from '../../runner/smtp/local-addresses.ts';

const Parse = suite('--local-ips: k6\'s syntax (lists, ranges, CIDR)');

const CASES: Array<[spec: string | string[], addresses: string[]]> = [
  ['127.0.0.2', ['127.0.0.2']],
  ['127.0.0.2-127.0.0.4', ['127.0.0.2', '127.0.0.3', '127.0.0.4']],
  ['127.0.0.2-127.0.0.4,::1', ['127.0.0.2', '127.0.0.3', '127.0.0.4', '::1']],
  [' 10.0.0.1 , 10.0.0.1 ', ['10.0.0.1']],
  ['10.0.0.0/30', ['10.0.0.0', '10.0.0.1', '10.0.0.2', '10.0.0.3']],
  ['10.0.0.5/30', ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7']],
  ['10.0.0.255-10.0.1.1', ['10.0.0.255', '10.0.1.0', '10.0.1.1']],
  ['fd00::1-fd00::3', ['fd00::1', 'fd00::2', 'fd00::3']],
  ['fd00:0:0:0:0:0:0:fe/127', ['fd00::fe', 'fd00::ff']],
  ['::ffff:127.0.0.1', ['::ffff:7f00:1']],
  [['127.0.0.2', '127.0.0.3/32'], ['127.0.0.2', '127.0.0.3']],
];

for (const [spec, addresses] of CASES) {
  Parse(`${JSON.stringify(spec)} → ${addresses.join(',')}`, () => {
    assert.equal(parseLocalIps(spec), { addresses, problems: [] });
  });
}

const BAD: Array<[spec: string, problem: RegExp]> = [
  ['', /no address given/],
  ['localhost', /'localhost': not an IP address, a range/],
  ['127.0.0.9-127.0.0.2', /ends before it starts: write 127\.0\.0\.2-127\.0\.0\.9/],
  ['127.0.0.1-::1', /two addresses of the same family/],
  ['10.0.0.0/33', /prefix must be a whole number from 0 to 32/],
  ['10.0.0.0/8', new RegExp(`more than ${MAX_LOCAL_ADDRESSES.toLocaleString('en-US')} addresses`)],
];

for (const [spec, problem] of BAD) {
  Parse(`${JSON.stringify(spec)} is refused: ${problem.source}`, () => {
    const parsed = parseLocalIps(spec);
    assert.is(parsed.problems.length, 1, JSON.stringify(parsed));
    assert.match(parsed.problems[0]!, problem);
  });
}

const Pool = suite('--local-ips: round robin per connection');

Pool('one cursor per list object, shared by every session given it', () => {
  const list = ['127.0.0.2', '127.0.0.3', '127.0.0.4'];
  const a = addressPool(list);
  const b = addressPool(list);
  assert.equal([a.next(), b.next(), a.next(), b.next(), a.next()], ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.2', '127.0.0.3']);
  // Another list (another scenario) has its own cursor
  assert.is(addressPool([...list]).next(), '127.0.0.2');
});

Parse.run();
Pool.run();
