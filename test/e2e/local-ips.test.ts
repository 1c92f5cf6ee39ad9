// test-tier: real-time
/**
 * Source addresses end to end: `--local-ips 127.0.0.2-127.0.0.4` against the fake proxy. On Linux
 * all of 127.0.0.0/8 is local through lo, so no set-up is needed; the proxy's own per-peer counts
 * are the ground truth for runner's source_ips.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { runAgainst, withFakeProxy } from '../helpers.ts';
import { ExitCode, InvalidOptionsError } from '../../runner/errors.ts';

const LocalIps = suite('--local-ips: connections from several source addresses');

const isLinux = process.platform === 'linux';

LocalIps('30 messages, one connection each, from 127.0.0.2–127.0.0.4: 10 per address, as the proxy saw them', async () => {
  if (!isLinux) return console.log('  skipped: 127.0.0.2-4 are local without set-up only on Linux');
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { check: false, overrides: { localIps: '127.0.0.2-127.0.0.4', vus: 3, iterations: 30 } });
    assert.is(exitCode, ExitCode.ok, output);
    const seen = proxy.stats.perRemoteAddress;
    assert.equal(Object.keys(seen).sort(), ['127.0.0.2', '127.0.0.3', '127.0.0.4']);
    for (const address of ['127.0.0.2', '127.0.0.3', '127.0.0.4']) {
      assert.equal(seen[address], { connections: 10, messagesAccepted: 10 }, address);
      const figures = summary.source_ips?.[address];
      assert.is(figures?.connections, 10, address);
      assert.is(figures?.successful, 10, address);
      assert.is(figures?.total_requests, 10, address);
    }
    assert.match(output, /Source addresses \(--local-ips\):/);
  });
});

LocalIps('reused connections: each connection keeps its address for all its messages', async () => {
  if (!isLinux) return console.log('  skipped: Linux only');
  await withFakeProxy({}, async (proxy) => {
    const { summary, exitCode, output } = await runAgainst(proxy, { check: false, overrides: { localIps: '127.0.0.2,127.0.0.3', vus: 2, iterations: 20, messagesPerConnection: 5 } });
    assert.is(exitCode, ExitCode.ok, output);
    const seen = proxy.stats.perRemoteAddress;
    assert.equal(seen['127.0.0.2'], { connections: 2, messagesAccepted: 10 });
    assert.equal(seen['127.0.0.3'], { connections: 2, messagesAccepted: 10 });
    assert.equal([summary.source_ips?.['127.0.0.2']?.successful, summary.source_ips?.['127.0.0.3']?.successful], [10, 10]);
  });
});

LocalIps('an address that is not on this machine: a clear error before any connection', async () => {
  await withFakeProxy({}, async (proxy) => {
    let error: unknown;
    try {
      // 192.0.2.0/24 is TEST-NET-1 (RFC 5737): never assigned to a real interface
      await runAgainst(proxy, { check: false, overrides: { localIps: '192.0.2.7', vus: 1, iterations: 1 } });
    } catch (caught) {
      error = caught;
    }
    assert.instance(error, InvalidOptionsError);
    assert.match(String((error as Error).message), /--local-ips: not an address of this machine: 192\.0\.2\.7 \(EADDRNOTAVAIL\)/);
    assert.match(String((error as Error).message), /ip addr add/);
    assert.is(proxy.stats.connections, 0);
  });
});

LocalIps('an IPv6 source for an IPv4 target is refused with what to give instead', async () => {
  await withFakeProxy({}, async (proxy) => {
    let error: unknown;
    try {
      await runAgainst(proxy, { check: false, overrides: { localIps: '::1', vus: 1, iterations: 1 } });
    } catch (caught) {
      error = caught;
    }
    assert.match(String((error as Error)?.message), /::1 cannot reach 127\.0\.0\.1 \(IPv4\): give IPv4 source addresses/);
  });
});

LocalIps.run();
