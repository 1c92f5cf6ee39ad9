/**
 * A CA file with no certificate in it is refused before anything connects, whichever flag names it:
 * --agent-tls-ca (run --agents), --relay-ca (runner fixture), as --tls-ca already was.
 */
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { agentsOf } from '../../runner/agents/agent-flags.ts';
import { relayOptionsFromFlags, type FixtureFlags } from '../../fixtures/fixture-command.ts';
import { hasPemCertificate } from '../../runner/util/pem.ts';
import { createTempDir } from '../helpers.ts';

const ca = suite('CA files: no certificate, no start');

ca('hasPemCertificate: a PEM certificate yes, a key or garbage no', () => {
  assert.ok(hasPemCertificate('-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n'));
  assert.not.ok(hasPemCertificate('-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n'));
  assert.not.ok(hasPemCertificate('not a certificate'));
});

ca('--agent-tls-ca with garbage: a usage error naming the flag and the file', () => {
  const temp = createTempDir();
  try {
    const token = join(temp.dir, 'token');
    const bad = join(temp.dir, 'bad.pem');
    writeFileSync(token, 'secret\n');
    writeFileSync(bad, 'garbage\n');
    assert.throws(
      () => agentsOf({ agents: [{ host: '127.0.0.1', port: 1 }], tokenFile: token, agentTlsCa: bad, onAgentLoss: 'continue', agentConnectTimeout: '1s' } as Parameters<typeof agentsOf>[0]),
      (error: Error) => error.name === 'UsageError' && error.message.includes(`--agent-tls-ca ${bad}: holds no PEM certificate`),
    );
  } finally {
    temp.remove();
  }
});

ca('--relay-ca with garbage: an invalid-options error naming the flag and the file', () => {
  const temp = createTempDir();
  try {
    const bad = join(temp.dir, 'bad.pem');
    writeFileSync(bad, 'garbage\n');
    assert.throws(
      () => relayOptionsFromFlags({ relayTo: '127.0.0.1:2587', relayCa: bad, relayTls: 'starttls', relayMode: 'after-250' } as FixtureFlags),
      (error: Error) => error.message.includes(`--relay-ca ${bad}: holds no PEM certificate`),
    );
  } finally {
    temp.remove();
  }
});

ca.run();
