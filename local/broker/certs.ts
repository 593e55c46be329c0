// @peculiar/x509 needs a Reflect metadata polyfill loaded before it.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import * as x509 from '@peculiar/x509';
import { thingNameSchema } from '../../core/contracts/contract.ts';
import { DEVICE_KEY_ALGORITHM, pemOf } from '../../core/provisioning/pem.ts';

type CryptoKey = webcrypto.CryptoKey;

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
/** Common names the local CA gives claim certificates and certificates signed from a CSR: never thing names. */
export const CLAIM_COMMON_NAME_PREFIX = 'claim ';
export const CSR_COMMON_NAME_PREFIX = 'csr ';

export interface PemPair {
  readonly cert: string;
  readonly key: string;
}

/** Where the local CA keeps its files: `<dir>/ca.crt`, `<dir>/broker.crt`, `<dir>/devices/<thing>.crt`. */
export class LocalCertificateAuthority {
  private constructor(
    readonly dir: string,
    private readonly caCert: x509.X509Certificate,
    private readonly caKey: CryptoKey,
    readonly caPem: string,
  ) {}

  get caCertFile(): string {
    return path.join(this.dir, 'ca.crt');
  }

  deviceCertFile(thing: string): string {
    return path.join(this.dir, 'devices', `${thing}.crt`);
  }

  deviceKeyFile(thing: string): string {
    return path.join(this.dir, 'devices', `${thing}.key`);
  }

  /** Loads the CA under `dir`, creating it on first use. Files are written owner-readable only. */
  static async openOrCreate(dir: string): Promise<LocalCertificateAuthority> {
    const certFile = path.join(dir, 'ca.crt');
    const keyFile = path.join(dir, 'ca.key');
    if (existsSync(certFile) && existsSync(keyFile)) {
      const caPem = readFileSync(certFile, 'utf8');
      const key = await importPrivateKey(readFileSync(keyFile, 'utf8'));
      return new LocalCertificateAuthority(dir, new x509.X509Certificate(caPem), key, caPem);
    }
    mkdirSync(path.join(dir, 'devices'), { recursive: true, mode: 0o700 });
    const keys = await webcrypto.subtle.generateKey(DEVICE_KEY_ALGORITHM, true, ['sign', 'verify']);
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      name: 'CN=aiot-pipeline local CA, O=aiot-pipeline',
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 3650 * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      keys: keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const caPem = cert.toString('pem');
    writeFileSync(keyFile, await exportPrivateKey(keys.privateKey), { mode: 0o600 });
    writeFileSync(certFile, caPem);
    return new LocalCertificateAuthority(dir, cert, keys.privateKey, caPem);
  }

  /** The broker's server certificate for localhost, created once. */
  async brokerPair(): Promise<PemPair> {
    return this.pairFor(path.join(this.dir, 'broker'), 'localhost', 'server');
  }

  /** A device certificate whose common name is the thing name, as IoT Core binds certificates to things. */
  async devicePair(thing: string): Promise<PemPair> {
    const parsed = thingNameSchema.safeParse(thing);
    if (!parsed.success)
      throw new Error(`"${thing}" is not a valid thing name: ${parsed.error.issues[0]?.message ?? ''}`);
    return this.pairFor(path.join(this.dir, 'devices', thing), thing, 'client');
  }

  /**
   * A claim certificate, as devices leave the factory with: its common name starts with "claim "
   * (never a thing name), and the broker lets it do nothing but provision.
   */
  async claimPair(name: string): Promise<PemPair> {
    if (!/^[a-z0-9-]{1,64}$/.test(name))
      throw new Error(`claim name must be 1-64 of a-z 0-9 -, got "${name}"`);
    return this.pairFor(path.join(this.dir, 'claims', name), `${CLAIM_COMMON_NAME_PREFIX}${name}`, 'client');
  }

  /**
   * Signs a device's certificate signing request, as IoT Core's CreateCertificateFromCsr does. The
   * subject is ours, not the request's: "csr <id>" is never a thing name, so the certificate names
   * no thing until a registration attaches it to one.
   */
  async signRequest(csrPem: string): Promise<{ certificateId: string; certificatePem: string }> {
    let request: x509.Pkcs10CertificateRequest;
    try {
      request = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (error) {
      throw new Error(
        `not a PEM certificate signing request: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!(await request.verify()))
      throw new Error('the certificate signing request is not signed by its own key');
    const label = Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex');
    const cert = await this.issue(`${CSR_COMMON_NAME_PREFIX}${label}`, request.publicKey, 'client');
    // IoT Core's certificate id is the SHA-256 fingerprint of the certificate: so is ours.
    const certificateId = Buffer.from(await cert.getThumbprint('SHA-256')).toString('hex');
    return { certificateId, certificatePem: cert.toString('pem') };
  }

  /** A certificate of this CA for `publicKey`: a client's, or the broker's for localhost. */
  private async issue(
    commonName: string,
    publicKey: x509.PublicKey | CryptoKey,
    usage: 'server' | 'client',
  ): Promise<x509.X509Certificate> {
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension(
        [usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      await x509.AuthorityKeyIdentifierExtension.create(this.caCert, false),
    ];
    if (usage === 'server') {
      extensions.push(
        new x509.SubjectAlternativeNameExtension([
          { type: 'dns', value: 'localhost' },
          { type: 'ip', value: '127.0.0.1' },
          { type: 'ip', value: '::1' },
        ]),
      );
    }
    return x509.X509CertificateGenerator.create({
      subject: `CN=${commonName}, O=aiot-pipeline`,
      issuer: this.caCert.subject,
      notBefore: new Date(Date.now() - DAY_MS),
      notAfter: new Date(Date.now() + 825 * DAY_MS),
      signingAlgorithm: SIGNING_ALGORITHM,
      publicKey,
      signingKey: this.caKey,
      extensions,
    });
  }

  private async pairFor(stem: string, commonName: string, usage: 'server' | 'client'): Promise<PemPair> {
    const certFile = `${stem}.crt`;
    const keyFile = `${stem}.key`;
    if (existsSync(certFile) && existsSync(keyFile)) {
      return { cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
    }
    const keys = await webcrypto.subtle.generateKey(DEVICE_KEY_ALGORITHM, true, ['sign', 'verify']);
    const cert = await this.issue(commonName, keys.publicKey, usage);
    mkdirSync(path.dirname(stem), { recursive: true, mode: 0o700 });
    const pair = { cert: cert.toString('pem'), key: await exportPrivateKey(keys.privateKey) };
    writeFileSync(keyFile, pair.key, { mode: 0o600 });
    writeFileSync(certFile, pair.cert);
    return pair;
  }
}

async function exportPrivateKey(key: CryptoKey): Promise<string> {
  return pemOf('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', key));
}

async function importPrivateKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  return webcrypto.subtle.importKey('pkcs8', der, DEVICE_KEY_ALGORITHM, false, ['sign']);
}
