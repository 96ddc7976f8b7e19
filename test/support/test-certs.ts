import { execFileSync } from 'node:child_process'
import { createHash, X509Certificate } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

/** A private CA and a server certificate it signed, as files (for the broker) and PEM text (for clients). */
export interface TestCerts {
  dir: string
  /** The CA's certificate: what a client must trust. */
  caFile: string
  caPem: string
  /** The server's certificate (for 127.0.0.1, ::1 and localhost) and its key. */
  certFile: string
  keyFile: string
  /** base64 SHA-256 of the server certificate's SubjectPublicKeyInfo, as Chromium's --ignore-certificate-errors-spki-list takes it. */
  spkiSha256: string
  remove(): void
}

/**
 * Makes a throwaway CA and a server certificate with the openssl command line, in a temp folder.
 * Made fresh for each test run, so no key is ever committed; EC P-256 keys, as they take
 * milliseconds to make where RSA can take a second on a busy machine.
 */
export function makeTestCerts(name = 'ts-mqtt-ws test'): TestCerts {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ts-mqtt-ws-certs-'))
  const file = (f: string) => path.join(dir, f)
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] })
  const ecKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes']

  openssl('req', '-x509', ...ecKey, '-keyout', file('ca.key'), '-out', file('ca.crt'), '-days', '2', '-subj', `/CN=${name} CA`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign')
  openssl('req', '-new', ...ecKey, '-keyout', file('server.key'), '-out', file('server.csr'), '-subj', '/CN=127.0.0.1')
  // The extensions a browser insists on: the names in subjectAltName, and serverAuth.
  writeFileSync(file('server.ext'), [
    'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost',
    'basicConstraints=critical,CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
    '',
  ].join('\n'))
  openssl('x509', '-req', '-in', file('server.csr'), '-CA', file('ca.crt'), '-CAkey', file('ca.key'), '-CAcreateserial',
    '-out', file('server.crt'), '-days', '2', '-extfile', file('server.ext'))

  const serverPem = readFileSync(file('server.crt'), 'utf8')
  const spki = new X509Certificate(serverPem).publicKey.export({ type: 'spki', format: 'der' })
  return {
    dir,
    caFile: file('ca.crt'),
    caPem: readFileSync(file('ca.crt'), 'utf8'),
    certFile: file('server.crt'),
    keyFile: file('server.key'),
    spkiSha256: createHash('sha256').update(spki).digest('base64'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
