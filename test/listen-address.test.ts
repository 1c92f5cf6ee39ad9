/**
 * The address runner's own endpoints listen on (--api, --dashboard, --metrics-host) and the one
 * exposure rule they share (runner/listen-address.ts): parsing as a table of cases, then
 * which hosts count as this machine only, then the refusal and how to allow it.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkDistinctPorts, checkExposure, isLoopback, parseListenAddress } from '../runner/listen-address.ts';
import { checkApiExposure, parseApiAddress } from '../runner/api/address.ts';
import { ExitCode, RunnerError, UsageError } from '../runner/errors.ts';

const parse = suite('listen address: [HOST:]PORT');

const GOOD: Array<[string, { host: string; port: number }]> = [
  ['5665', { host: '127.0.0.1', port: 5665 }],
  ['65535', { host: '127.0.0.1', port: 65535 }],
  ['0', { host: '127.0.0.1', port: 0 }],
  [':0', { host: '127.0.0.1', port: 0 }],
  [' 5665 ', { host: '127.0.0.1', port: 5665 }],
  ['localhost:5665', { host: 'localhost', port: 5665 }],
  ['0.0.0.0:5665', { host: '0.0.0.0', port: 5665 }],
  ['[::1]:0', { host: '::1', port: 0 }],
  ['[::]:6565', { host: '::', port: 6565 }],
  ['dash.example:80', { host: 'dash.example', port: 80 }],
];
for (const [text, expected] of GOOD) parse(`'${text}' → ${expected.host} port ${expected.port}`, () => assert.equal(parseListenAddress(text, '--dashboard', '5665'), expected));

// Each was once read as something else (`5665` as host 566 port 5), or is not an address at all.
const BAD: Array<[string, RegExp]> = [
  ['99999', /--dashboard '99999' is not \[HOST:\]PORT: ports go from 0 to 65535/],
  ['65536', /ports go from 0 to 65535/],
  ['localhost5665', /is not \[HOST:\]PORT/],
  ['abc', /is not \[HOST:\]PORT/],
  ['[::1]:x', /is not \[HOST:\]PORT/],
  ['[::1]', /is not \[HOST:\]PORT/],
  ['::1:5665', /put an IPv6 address in brackets, e.g. \[::1\]:5665/],
  ['localhost:', /is not \[HOST:\]PORT/],
  [':', /is not \[HOST:\]PORT/],
  ['', /is not \[HOST:\]PORT/],
  ['host:-1', /is not \[HOST:\]PORT/],
  ['a b:80', /is not \[HOST:\]PORT/],
  ['http://127.0.0.1:5665', /is not \[HOST:\]PORT/],
];
for (const [text, message] of BAD) {
  parse(`'${text}' is refused with an example`, () => {
    try {
      parseListenAddress(text, '--dashboard', '127.0.0.1:5665');
      assert.unreachable('accepted');
    } catch (error) {
      assert.instance(error, UsageError);
      assert.match((error as Error).message, message);
      assert.match((error as RunnerError).hint ?? '', /e\.g\. --dashboard 127\.0\.0\.1:5665, or --dashboard 127\.0\.0\.1:0 for any free port/);
      assert.is((error as RunnerError).exitCode, ExitCode.usage);
    }
  });
}
parse('--api keeps its name and k6\'s default in its error, and reads PORT alone as this machine', () => {
  assert.equal(parseApiAddress('6565'), { host: '127.0.0.1', port: 6565 });
  assert.throws(() => parseApiAddress('nope'), /--api 'nope' is not \[HOST:\]PORT/);
});

const loopback = suite('listen address: this machine only');
const HOSTS: Array<[string, boolean]> = [
  ['127.0.0.1', true], ['127.9.8.7', true], ['localhost', true], ['LOCALHOST', true], ['::1', true], ['0:0:0:0:0:0:0:1', true], ['::ffff:127.0.0.1', true],
  ['0.0.0.0', false], ['::', false], ['192.168.1.5', false], ['10.0.0.1', false], ['128.0.0.1', false], ['::ffff:10.0.0.1', false], ['fe80::1', false], ['my-host', false], ['127.0.0.1.example', false],
];
for (const [host, expected] of HOSTS) loopback(`${host}: ${expected ? 'loopback' : 'reachable from elsewhere'}`, () => assert.is(isLoopback(host), expected));

const exposure = suite('listen address: one exposure rule for --api, --dashboard, --metrics-host');
const DASHBOARD = { flag: '--dashboard', allowFlag: '--dashboard-allow-remote', risk: "read the run's figures" };

exposure('a non-loopback address is refused, saying what is exposed and which flag allows it', () => {
  try {
    checkExposure({ host: '0.0.0.0', port: 5665 }, false, DASHBOARD);
    assert.unreachable('accepted');
  } catch (error) {
    assert.instance(error, UsageError);
    assert.is((error as Error).message, "--dashboard 0.0.0.0:5665 is reachable from other machines, and whoever reaches it can read the run's figures");
    assert.is((error as RunnerError).hint, 'listen on 127.0.0.1 (the default), or add --dashboard-allow-remote to mean it');
    assert.is((error as RunnerError).exitCode, ExitCode.usage);
  }
});
exposure('an IPv6 address is shown in brackets; a host-only flag shows the host', () => {
  assert.throws(() => checkExposure({ host: '::', port: 1 }, false, DASHBOARD), /--dashboard \[::\]:1 is reachable/);
  assert.throws(() => checkExposure({ host: '0.0.0.0', port: 9464 }, false, { flag: '--metrics-host', allowFlag: '--metrics-allow-remote', risk: 'read', isHostOnly: true }), /^.*--metrics-host 0\.0\.0\.0 is reachable/);
});
exposure('allowed when said so, and always on loopback', () => {
  checkExposure({ host: '0.0.0.0', port: 5665 }, true, DASHBOARD);
  checkExposure({ host: '127.0.0.1', port: 5665 }, false, DASHBOARD);
  checkExposure({ host: '::1', port: 5665 }, false, DASHBOARD);
});
exposure('--api: the same rule, and a remote API still needs a token', () => {
  assert.throws(() => checkApiExposure({ host: '0.0.0.0', port: 6565 }, false, 'tok'), /--api 0\.0\.0\.0:6565 is reachable from other machines/);
  assert.throws(() => checkApiExposure({ host: '0.0.0.0', port: 6565 }, true, undefined), /--api-allow-remote needs a token/);
  checkApiExposure({ host: '0.0.0.0', port: 6565 }, true, 'tok');
  checkApiExposure({ host: '127.0.0.1', port: 6565 }, false, undefined);
});

const ports = suite('listen address: runner\'s endpoints on distinct ports');
const api = (host: string, port: number) => ({ flag: '--api', host, port });
const dashboard = (host: string, port: number) => ({ flag: '--dashboard', host, port });
const metrics = (host: string, port: number) => ({ flag: '--metrics-port', host, port });
const PORT_CASES: Array<[string, Parameters<typeof checkDistinctPorts>[0], RegExp | undefined]> = [
  ['dashboard and metrics on one port', [undefined, dashboard('127.0.0.1', 9464), metrics('127.0.0.1', 9464)], /^--dashboard and --metrics-port both ask for port 9464$/],
  ['api and dashboard, one on every interface', [api('127.0.0.1', 6565), dashboard('0.0.0.0', 6565), undefined], /--api and --dashboard both ask for port 6565/],
  ['port 0 twice: each gets its own', [api('127.0.0.1', 0), dashboard('127.0.0.1', 0), metrics('127.0.0.1', 0)], undefined],
  ['one port on two loopback addresses', [dashboard('127.0.0.1', 5665), metrics('127.0.0.2', 5665)], undefined],
  ['three distinct ports', [api('127.0.0.1', 6565), dashboard('127.0.0.1', 5665), metrics('127.0.0.1', 9464)], undefined],
];
for (const [name, endpoints, error] of PORT_CASES) {
  ports(name, () => {
    if (error) assert.throws(() => checkDistinctPorts(endpoints), (caught: unknown) => caught instanceof UsageError && error.test((caught as Error).message) && /give each its own port/.test((caught as UsageError).hint ?? ''));
    else checkDistinctPorts(endpoints);
  });
}

parse.run();
ports.run();
loopback.run();
exposure.run();
