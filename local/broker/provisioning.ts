import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { issuesText } from '../../core/contracts/reasons.ts';
import {
  allowListEntrySchema,
  createFromCsrRequestSchema,
  LOCAL_PROVISIONING_TEMPLATE,
  PROVISIONING_TOPICS,
  registerThingRequestSchema,
  type AllowListEntry,
  type Claimant,
  type ProvisioningError,
  type Rotation,
} from '../../core/provisioning/claim.ts';
import {
  preProvision,
  type AllowList,
  type DeviceCertificates,
} from '../../core/provisioning/pre-provisioning.ts';
import { confirmRotation, type ConfirmationOutcome } from '../../core/provisioning/rotation.ts';
import type { LocalCertificateAuthority } from './certs.ts';
import { writeFileDurably } from '../files/durable-file.ts';

/** The allow-list file is an operator's; a few thousand devices fit well under this. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;
/** How long a certificate ownership token lets its certificate be registered (IoT Core: an hour). */
const TOKEN_TTL_MS = 3600_000;

const allowListFileSchema = z.array(allowListEntrySchema);
const attachmentsFileSchema = z.record(z.string(), z.string());

/** A certificate id from a SHA-256 fingerprint, in either IoT Core's form or Node's `AB:CD:…`. */
export function certificateIdOf(fingerprint: string): string {
  return fingerprint.replaceAll(':', '').toLowerCase();
}

export interface ProvisioningReply {
  readonly topic: string;
  readonly payload: Buffer;
}

function readJson<T>(file: string, schema: z.ZodType<T>, empty: T): T {
  if (!existsSync(file)) return empty;
  const size = statSync(file).size;
  if (size > MAX_FILE_BYTES)
    throw new Error(`${file} is ${size} bytes, over the ${MAX_FILE_BYTES}-byte limit`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(`${file} is not JSON: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new Error(`${file}: ${issuesText(parsed.error.issues)}`);
  return parsed.data;
}

/** The allow-list as a JSON file of the runtime's folder: an array of entries. */
class FileAllowList implements AllowList {
  constructor(private readonly file: string) {}

  entries(): AllowListEntry[] {
    return readJson(this.file, allowListFileSchema, []);
  }

  get(serialNumber: string): Promise<AllowListEntry | undefined> {
    return Promise.resolve(this.entries().find((entry) => entry.serialNumber === serialNumber));
  }

  markProvisioned(serialNumber: string, certificateId: string, at: Date): Promise<boolean> {
    const entries = this.entries();
    const entry = entries.find((candidate) => candidate.serialNumber === serialNumber);
    if (!entry || entry.provisionedAt !== undefined) return Promise.resolve(false);
    this.write(
      entries.map((candidate) =>
        candidate === entry ? { ...entry, provisionedAt: at.toISOString(), certificateId } : candidate,
      ),
    );
    return Promise.resolve(true);
  }

  markRotated(
    serialNumber: string,
    certificateId: string,
    rotation: Rotation,
    expected: Pick<AllowListEntry, 'certificateId' | 'previousCertificateId'>,
    at: Date,
  ): Promise<boolean> {
    const entries = this.entries();
    const entry = entries.find((candidate) => candidate.serialNumber === serialNumber);
    if (
      !entry?.provisionedAt ||
      entry.certificateId !== expected.certificateId ||
      entry.previousCertificateId !== expected.previousCertificateId
    )
      return Promise.resolve(false);
    this.write(
      entries.map((candidate) =>
        candidate === entry
          ? {
              ...entry,
              certificateId,
              previousCertificateId: rotation.replaces,
              rotatedAt: at.toISOString(),
            }
          : candidate,
      ),
    );
    return Promise.resolve(true);
  }

  clearPrevious(serialNumber: string, previousCertificateId: string): Promise<void> {
    const entries = this.entries();
    const entry = entries.find((candidate) => candidate.serialNumber === serialNumber);
    if (entry?.previousCertificateId === previousCertificateId) {
      const { previousCertificateId: _cleared, ...rest } = entry;
      this.write(entries.map((candidate) => (candidate === entry ? rest : candidate)));
    }
    return Promise.resolve();
  }

  write(entries: readonly AllowListEntry[]): void {
    writeFileDurably(this.file, `${JSON.stringify(entries, null, 2)}\n`);
  }
}

/**
 * Fleet provisioning by claim on one machine: the local runtime answers IoT Core's provisioning
 * topics for the template `aiot-local`. The local CA signs a device's CSR; a registration passes
 * the same pre-provisioning decision as the cloud hook, against `provisioning/allow-list.json`,
 * and attaches the certificate to its thing (`provisioning/attachments.json`, by fingerprint),
 * which is how the broker knows who connects with it.
 */
export class LocalProvisioning {
  private readonly allowList: FileAllowList;
  private readonly attachmentsFile: string;
  private attachments: Record<string, string>;
  private readonly tokens = new Map<string, { certificateId: string; expires: number }>();

  constructor(
    readonly dir: string,
    private readonly ca: LocalCertificateAuthority,
    private readonly useCases: readonly string[],
    private readonly onLog: (message: string) => void = () => undefined,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.allowList = new FileAllowList(path.join(dir, 'allow-list.json'));
    this.attachmentsFile = path.join(dir, 'attachments.json');
    this.attachments = readJson(this.attachmentsFile, attachmentsFileSchema, {});
    // A broken allow-list is said at start, not at the first device.
    this.allowList.entries();
  }

  /** Admits a serial number, as `aiot devices allow` does in the cloud. */
  admit(
    entry: Omit<AllowListEntry, 'provisionedAt' | 'certificateId'>,
    options: { again?: boolean } = {},
  ): void {
    LocalProvisioning.admitTo(this.dir, entry, options);
  }

  /**
   * Admits a serial number to the allow-list in `dir` (`<data-dir>/provisioning`), running or not:
   * the runtime reads the file at each registration.
   */
  static admitTo(
    dir: string,
    entry: Omit<AllowListEntry, 'provisionedAt' | 'certificateId'>,
    options: { again?: boolean } = {},
  ): AllowListEntry {
    const [admitted] = LocalProvisioning.admitAllTo(dir, [entry], options);
    if (!admitted) throw new Error(`cannot admit ${entry.serialNumber}`);
    return admitted;
  }

  /**
   * Admits several serial numbers in one write (a factory's list): all of them, or none when one
   * is invalid or, without `again`, listed already.
   */
  static admitAllTo(
    dir: string,
    admitted: readonly Omit<AllowListEntry, 'provisionedAt' | 'certificateId'>[],
    options: { again?: boolean } = {},
  ): AllowListEntry[] {
    const parsed = admitted.map((entry) => {
      const result = allowListEntrySchema.safeParse(entry);
      if (!result.success)
        throw new Error(`cannot admit ${entry.serialNumber}: ${issuesText(result.error.issues)}`);
      return result.data;
    });
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const allowList = new FileAllowList(path.join(dir, 'allow-list.json'));
    const entries = allowList.entries();
    const serials = new Set(parsed.map((entry) => entry.serialNumber));
    const listed = entries.filter((candidate) => serials.has(candidate.serialNumber));
    if (!options.again && listed.length > 0) {
      const names = listed.slice(0, 5).map((entry) => `"${entry.serialNumber}"`);
      if (listed.length > 5) names.push(`${listed.length - 5} more`);
      throw new Error(
        listed.length === 1
          ? `serial number ${names.join('')} is on the allow-list already: pass --again to admit it anew`
          : `serial numbers ${names.join(', ')} are on the allow-list already: pass --again to admit them anew`,
      );
    }
    allowList.write([...entries.filter((candidate) => !serials.has(candidate.serialNumber)), ...parsed]);
    return parsed;
  }

  /**
   * The thing a provisioned certificate is attached to. A certificate's id is its SHA-256
   * fingerprint in lower-case hex, as in IoT Core; Node's `fingerprint256` form is taken too.
   */
  thingOfCertificate(fingerprint: string): string | undefined {
    return this.attachments[certificateIdOf(fingerprint)];
  }

  /** Retiring a local certificate detaches it: the broker then refuses it. */
  private readonly certificates: DeviceCertificates = {
    retire: (certificateId) => {
      const { [certificateId]: _retired, ...kept } = this.attachments;
      this.saveAttachments(kept);
      return Promise.resolve();
    },
  };

  private saveAttachments(attachments: Record<string, string>): void {
    this.attachments = attachments;
    writeFileDurably(this.attachmentsFile, `${JSON.stringify(attachments, null, 2)}\n`);
  }

  /**
   * A device says it is connected with its renewed certificate (on `dt/<use case>/<thing>/certificate`):
   * the one it replaced is detached, as the cloud's certificate rule retires it.
   */
  confirm(thing: string, certificateFingerprint: string, payload: Buffer): Promise<ConfirmationOutcome> {
    let message: unknown;
    try {
      message = JSON.parse(payload.toString('utf8'));
    } catch {
      message = undefined;
    }
    const serialNumber =
      typeof message === 'object' && message !== null && 'serialNumber' in message
        ? message.serialNumber
        : undefined;
    return confirmRotation(
      { serialNumber, thing, certificateId: certificateIdOf(certificateFingerprint) },
      { allowList: this.allowList, certificates: this.certificates, log: this.logTo() },
    );
  }

  private logTo(): (message: string, details: Record<string, unknown>) => void {
    return (message, details) => {
      const { reason, ...rest } = details;
      this.onLog(`${message}${typeof reason === 'string' ? `: ${reason}` : ''} (${JSON.stringify(rest)})`);
    };
  }

  static isRequestTopic(topic: string): boolean {
    return (
      topic === PROVISIONING_TOPICS.createFromCsr ||
      topic === PROVISIONING_TOPICS.register(LOCAL_PROVISIONING_TEMPLATE)
    );
  }

  static isReplyTopic(topic: string): boolean {
    return [
      PROVISIONING_TOPICS.createFromCsrAccepted,
      PROVISIONING_TOPICS.createFromCsrRejected,
      PROVISIONING_TOPICS.registerAccepted(LOCAL_PROVISIONING_TEMPLATE),
      PROVISIONING_TOPICS.registerRejected(LOCAL_PROVISIONING_TEMPLATE),
    ].includes(topic);
  }

  /**
   * Answers one provisioning request, on the topic IoT Core would answer on: from a claim
   * certificate (a first registration) or from a provisioned thing renewing its certificate.
   */
  async handle(topic: string, payload: Buffer, claimant: Claimant): Promise<ProvisioningReply> {
    const csr = topic === PROVISIONING_TOPICS.createFromCsr;
    const reply = (accepted: boolean, body: unknown): ProvisioningReply => ({
      topic: csr
        ? accepted
          ? PROVISIONING_TOPICS.createFromCsrAccepted
          : PROVISIONING_TOPICS.createFromCsrRejected
        : accepted
          ? PROVISIONING_TOPICS.registerAccepted(LOCAL_PROVISIONING_TEMPLATE)
          : PROVISIONING_TOPICS.registerRejected(LOCAL_PROVISIONING_TEMPLATE),
      payload: Buffer.from(JSON.stringify(body)),
    });
    const rejected = (statusCode: number, errorCode: string, errorMessage: string) =>
      reply(false, { statusCode, errorCode, errorMessage } satisfies ProvisioningError);
    let json: unknown;
    try {
      json = JSON.parse(payload.toString('utf8'));
    } catch {
      return rejected(400, 'InvalidPayload', 'the request is not JSON');
    }
    if (csr) {
      const request = createFromCsrRequestSchema.safeParse(json);
      if (!request.success) return rejected(400, 'InvalidPayload', issuesText(request.error.issues));
      try {
        const signed = await this.ca.signRequest(request.data.certificateSigningRequest);
        const token = randomBytes(32).toString('base64url');
        this.tokens.set(token, { certificateId: signed.certificateId, expires: Date.now() + TOKEN_TTL_MS });
        return reply(true, {
          certificateId: signed.certificateId,
          certificatePem: signed.certificatePem,
          certificateOwnershipToken: token,
        });
      } catch (error) {
        return rejected(400, 'InvalidCsr', error instanceof Error ? error.message : String(error));
      }
    }
    const request = registerThingRequestSchema.safeParse(json);
    if (!request.success) return rejected(400, 'InvalidPayload', issuesText(request.error.issues));
    const owned = this.tokens.get(request.data.certificateOwnershipToken);
    if (!owned || owned.expires < Date.now())
      return rejected(
        400,
        'InvalidCertificateOwnershipToken',
        'unknown or expired certificate ownership token',
      );
    const decision = await preProvision(
      {
        claimCertificateId: certificateIdOf(claimant.certificateId),
        certificateId: owned.certificateId,
        templateArn: LOCAL_PROVISIONING_TEMPLATE,
        clientId: claimant.clientId,
        parameters: request.data.parameters ?? {},
      },
      {
        allowList: this.allowList,
        thingGroups: { ensure: () => Promise.resolve() },
        certificates: this.certificates,
        clock: { now: () => Date.now() },
        stackName: 'local',
        policies: new Map(this.useCases.map((useCase) => [useCase, `${useCase}-device-policy`])),
        log: this.logTo(),
      },
    );
    if (!decision.allowProvisioning)
      return rejected(403, 'AccessDenied', 'refused by the pre-provisioning hook');
    this.tokens.delete(request.data.certificateOwnershipToken);
    this.saveAttachments({
      ...this.attachments,
      [owned.certificateId]: decision.parameterOverrides.ThingName,
    });
    return reply(true, { thingName: decision.parameterOverrides.ThingName, deviceConfiguration: {} });
  }
}
