/**
 * The fast part of the preflight check: can we reach the target at all? One TCP connect and
 * the greeting, before any load, so a run against a stopped proxy says why in one line
 * instead of counting thousands of refused connections.
 */
import { connect } from 'node:net';
import { TargetUnreachableError } from './errors.ts';

/** How long the preflight connect and greeting may take. */
export const PREFLIGHT_TIMEOUT_MS = 5000;

/** Connects to host:port and waits for a 220 greeting; throws TargetUnreachableError otherwise. */
export function checkReachable(host: string, port: number, adminUrl: string, timeoutMs = PREFLIGHT_TIMEOUT_MS): Promise<void> {
  const where = `${host}:${port}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = '';
    const fail = (message: string, hint: string) => {
      socket.destroy();
      reject(new TargetUnreachableError(message, hint));
    };
    socket.setTimeout(timeoutMs, () =>
      fail(`No greeting from ${where} within ${timeoutMs} ms`, `the server accepted the connection but did not answer; check it is an SMTP server and not overloaded (curl ${adminUrl}/health)`),
    );
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1');
      const end = received.indexOf('\n');
      if (end < 0 && received.length < 1024) return;
      const line = received.slice(0, end < 0 ? received.length : end).trim();
      socket.end('QUIT\r\n');
      socket.destroy();
      if (line.startsWith('220')) resolve();
      else reject(new TargetUnreachableError(`${where} greeted with '${line.slice(0, 120)}' instead of 220`, 'the server refuses new sessions (busy or not an SMTP server?); check its logs'));
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      switch (error.code) {
        case 'ECONNREFUSED':
          return fail(
            `Connection refused to ${where} — is the proxy running?`,
            `check it: curl ${adminUrl}/health; start it (python xoauth2_proxy_v2.py --config accounts.json --port ${port}), ` +
              `or try runner against the built-in fake proxy: runner run --with-fixture; see what listens: ss -ltnp | grep ${port}`,
          );
        case 'ENOTFOUND':
        case 'EAI_AGAIN':
          return fail(`Host ${host} does not resolve`, 'check the --host spelling, or use an IP address');
        case 'EHOSTUNREACH':
        case 'ENETUNREACH':
          return fail(`${where} is unreachable (${error.code})`, 'check the host address and the network route');
        default:
          return fail(`Cannot connect to ${where}: ${error.code ?? error.message}`, `check the host and port; curl ${adminUrl}/health`);
      }
    });
    socket.on('close', () => {
      if (!received) fail(`${where} closed the connection before greeting`, 'the server may be at its connection limit; check its logs');
    });
  });
}
