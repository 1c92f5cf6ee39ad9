/**
 * A throwaway certificate authority for tests that verify a chain (coordinator ↔ agent TLS): a CA,
 * and a server certificate it signed for 127.0.0.1 and localhost, made with the `openssl` CLI into
 * a temporary folder (~100 ms). Unlike fixtures/tls.ts (a self-signed certificate that is its own
 * CA), the leaf here is not a CA: trusting it needs the CA that signed it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The files of one test CA and the certificate it signed; remove() deletes them. */
export interface TestCa {
  dir: string;
  /** The CA's certificate (PEM), for --agent-tls-ca. */
  caFile: string;
  /** The server's certificate (PEM) and its key, for runner agent --tls-cert/--tls-key. */
  certFile: string;
  keyFile: string;
  remove(): void;
}

const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[]): void {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30_000 });
}

/** A CA named `name` and a server certificate it signed for IP 127.0.0.1 and DNS localhost, valid two days. */
export function makeTestCa(name = 'runner test CA'): TestCa {
  const dir = mkdtempSync(join(tmpdir(), 'runner-ca-'));
  const file = (base: string): string => join(dir, base);
  try {
    openssl(['req', '-x509', ...EC_KEY, '-keyout', file('ca-key.pem'), '-out', file('ca.pem'), '-days', '2', '-subj', `/CN=${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
    openssl(['req', ...EC_KEY, '-keyout', file('server-key.pem'), '-out', file('server.csr'), '-subj', '/CN=runner agent']);
    writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n');
    openssl(['x509', '-req', '-in', file('server.csr'), '-CA', file('ca.pem'), '-CAkey', file('ca-key.pem'), '-CAcreateserial',
      '-out', file('server.pem'), '-days', '2', '-extfile', file('server.ext')]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    const stderr = (error as { stderr?: Buffer }).stderr?.toString().trim();
    throw new Error(`could not make a test CA with openssl: ${stderr || (error as Error).message} (install openssl)`);
  }
  return { dir, caFile: file('ca.pem'), certFile: file('server.pem'), keyFile: file('server-key.pem'), remove: () => rmSync(dir, { recursive: true, force: true }) };
}
