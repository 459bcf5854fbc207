// The control plane's PKI, written with openssl: a CA, serving certificates, a client certificate per user.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TestenvError } from './errors.ts';

const run = promisify(execFile);

/** A user the control plane knows, with the group that decides its rights. */
export interface UserSpec {
  readonly name: string;
  readonly group: string;
}

/** PEM files of one certificate and its key. */
export interface CertPair {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Everything {@link generatePki} wrote, by role. */
export interface Pki {
  readonly ca: CertPair;
  readonly serving: CertPair;
  readonly clients: Readonly<Record<string, CertPair>>;
  /** The service-account signing key (SEC1 EC private key) and its public half. */
  readonly serviceAccount: { readonly keyFile: string; readonly publicKeyFile: string };
}

/**
 * Writes the control plane's PKI into `dir` with openssl, as envtest does: ECDSA P-256
 * keys, a CA, a serving certificate for localhost and 127.0.0.1, and one client
 * certificate per user (CN the user, O its group).
 *
 * @example
 * ```ts
 * const pki = await generatePki(dir, [{ name: 'admin', group: 'system:masters' }]);
 * ```
 */
export async function generatePki(dir: string, users: readonly UserSpec[]): Promise<Pki> {
  const ca = { certFile: join(dir, 'ca.crt'), keyFile: join(dir, 'ca.key') };
  await ecKey(ca.keyFile);
  await openssl([
    'req',
    '-x509',
    '-new',
    '-key',
    ca.keyFile,
    '-sha256',
    '-days',
    '3650',
    '-subj',
    '/CN=kwatch-testenv-ca',
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    ca.certFile,
  ]);
  const serving = await signed(dir, ca, 'serving', '/CN=localhost', [
    'subjectAltName=DNS:localhost,IP:127.0.0.1',
    'extendedKeyUsage=serverAuth',
  ]);
  const clients: Record<string, CertPair> = {};
  for (const user of users) {
    clients[user.name] = await signed(dir, ca, `client-${user.name}`, `/O=${user.group}/CN=${user.name}`, [
      'extendedKeyUsage=clientAuth',
    ]);
  }
  // kube-apiserver reads SEC1 ("EC PRIVATE KEY") and PKIX public keys, not PKCS#8.
  const serviceAccount = { keyFile: join(dir, 'sa.key'), publicKeyFile: join(dir, 'sa.pub') };
  await openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', serviceAccount.keyFile]);
  await openssl(['ec', '-in', serviceAccount.keyFile, '-pubout', '-out', serviceAccount.publicKeyFile]);
  return { ca, serving, clients, serviceAccount };
}

async function signed(dir: string, ca: CertPair, name: string, subject: string, extensions: string[]): Promise<CertPair> {
  const pair = { certFile: join(dir, `${name}.crt`), keyFile: join(dir, `${name}.key`) };
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await ecKey(pair.keyFile);
  await openssl(['req', '-new', '-key', pair.keyFile, '-subj', subject, '-out', csr]);
  await writeFile(ext, `${['keyUsage=critical,digitalSignature,keyEncipherment', ...extensions].join('\n')}\n`);
  await openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    ca.certFile,
    '-CAkey',
    ca.keyFile,
    '-CAcreateserial',
    '-sha256',
    '-days',
    '3650',
    '-extfile',
    ext,
    '-out',
    pair.certFile,
  ]);
  return pair;
}

function ecKey(file: string): Promise<void> {
  return openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file]);
}

async function openssl(args: string[]): Promise<void> {
  try {
    await run('openssl', args);
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new TestenvError('CERTS_FAILED', `openssl ${args[0]} failed: ${stderr.trim() || String(err)}`, { cause: err });
  }
}

/** Reads a PEM file as base64, the form kubeconfig's `*-data` fields take. */
export async function pemBase64(file: string): Promise<string> {
  return (await readFile(file)).toString('base64');
}
