import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { parse } from 'yaml';
import type { DataContract, ReadingOrigin } from '../core/contracts/contract.ts';
import { contractFileName, parseContractFile } from '../core/contracts/document.ts';
import { ContractRegistry } from '../core/contracts/registry.ts';
import { acceptedContractRefs, parseManifest, type UseCaseManifest } from '../core/usecase/manifest.ts';
import type { EdgeRunOptions } from './cli-options.ts';
import { provisionByClaim } from './provisioning.ts';

/*
 * What a device is and reads before its agent starts: the source it may use, its credentials,
 * its manifest and the contract it sends, its identity (given, or provisioned by claim).
 */

/** True for a broker on this machine: the local runtime, never a plant's cloud endpoint. */
export function isLocalEndpoint(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname;
  } catch {
    return false;
  }
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/**
 * The simulator makes readings up: pointed at a real endpoint by mistake, it would feed a plant's
 * store with fiction. Against anything but a broker on this machine it needs --allow-simulator,
 * and its readings always say `origin: "simulated"`.
 */
export function checkSource(
  options: Pick<EdgeRunOptions, 'source' | 'endpoint' | 'allowSimulator'>,
): ReadingOrigin {
  if (options.source !== 'simulator') return 'device';
  if (!isLocalEndpoint(options.endpoint) && !options.allowSimulator)
    throw new InvalidArgumentError(
      `--source simulator publishes made-up readings; ${options.endpoint} is not the local runtime. Pass --allow-simulator to send them there anyway (each is tagged origin "simulated"), or choose --source csv|stdin`,
    );
  return 'simulated';
}

export function readCredential(file: string, what: string, flag: string, certsDir: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InvalidArgumentError(
      `cannot read the ${what} at ${file} (${reason}): pass ${flag}, or a --certs-dir holding ca.crt and devices/<thing>.crt|.key (now ${certsDir})`,
    );
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readContract(dir: string, ref: string): DataContract {
  const [id = '', version = ''] = ref.split('@');
  const file = path.join(dir, contractFileName(id, Number(version)));
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message;
    throw new InvalidArgumentError(
      `cannot read contract ${ref} at ${file} (${reason}): pass --contracts-dir, the folder of the contract files`,
    );
  }
  return parseContractFile(text, file);
}

/**
 * The manifest and the contract version this device sends. A device reads only the contract
 * files its use case accepts, so a gateway carries a few small files, not the whole catalog.
 */
export function manifestAndContract(
  options: Pick<EdgeRunOptions, 'manifest' | 'contractsDir' | 'contract'>,
): { manifest: UseCaseManifest; contract: DataContract } {
  const text = readFileSync(options.manifest, 'utf8');
  // The manifest names its contracts; they are read first, so the manifest is checked against them.
  let named: unknown;
  try {
    named = parse(text);
  } catch {
    named = undefined; // parseManifest below reports the syntax error with its line
  }
  const refs = isRecord(named)
    ? [named.contract, ...(Array.isArray(named.alsoAccepts) ? (named.alsoAccepts as unknown[]) : [])].filter(
        (ref): ref is string => typeof ref === 'string' && /^[a-z][a-z0-9.-]*@\d+$/.test(ref),
      )
    : [];
  const contracts = new ContractRegistry(
    [...new Set(refs)].map((ref) => readContract(options.contractsDir, ref)),
  );
  const manifest = parseManifest(text, options.manifest, contracts);
  const ref = options.contract ?? manifest.contract;
  if (!acceptedContractRefs(manifest).includes(ref)) {
    throw new InvalidArgumentError(
      `--contract ${ref} is not accepted by ${manifest.id} (accepts ${acceptedContractRefs(manifest).join(', ')})`,
    );
  }
  return { manifest, contract: contracts.get(ref) };
}

/**
 * Who the device is: the thing and certificate it was given (`--thing`, `--cert`, `--key`), or,
 * with `--claim-cert`, the identity it provisions for itself on first start and keeps after.
 */
export async function deviceIdentity(
  options: EdgeRunOptions,
  ca: Buffer,
): Promise<{
  thing: string;
  credentials: { ca: Buffer; cert: Buffer | string; key: Buffer | string };
  /** The identity folder of a device provisioned by claim: its certificate renews itself. */
  identityDir?: string;
}> {
  if (options.claimCert === undefined) {
    const thing = options.thing;
    if (thing === undefined)
      throw new InvalidArgumentError(
        'pass --thing, or --claim-cert with --serial to provision an identity first',
      );
    const credential = (flag: '--cert' | '--key', given: string | undefined, ext: string, what: string) =>
      readCredential(
        given ?? path.join(options.certsDir, 'devices', `${thing}.${ext}`),
        what,
        flag,
        options.certsDir,
      );
    return {
      thing,
      credentials: {
        ca,
        cert: credential('--cert', options.cert, 'crt', 'device certificate'),
        key: credential('--key', options.key, 'key', 'device key'),
      },
    };
  }
  const { serial, claimKey, template } = options;
  if (serial === undefined || claimKey === undefined || template === undefined)
    throw new InvalidArgumentError(
      '--claim-cert needs --claim-key, --serial and --template (the stack output ProvisioningTemplateName)',
    );
  const identityDir = options.identityDir ?? path.join('.aiot', 'identity', serial);
  const identity = await provisionByClaim({
    url: options.endpoint,
    ca,
    claimCert: readCredential(options.claimCert, 'claim certificate', '--claim-cert', options.certsDir),
    claimKey: readCredential(claimKey, 'claim key', '--claim-key', options.certsDir),
    templateName: template,
    serialNumber: serial,
    dir: identityDir,
  });
  if (options.thing !== undefined && options.thing !== identity.thing)
    throw new InvalidArgumentError(
      `--thing ${options.thing}, but this device was provisioned as ${identity.thing}`,
    );
  return { thing: identity.thing, credentials: { ca, cert: identity.cert, key: identity.key }, identityDir };
}
