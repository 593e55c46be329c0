import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DeviceRegistration, type DeviceCredentials } from './device-registration.ts';
import { FleetClaims } from './fleet-claims.ts';
import {
  ADMISSION_COLUMNS,
  MAX_ADMISSION_LIST_BYTES,
  parseAdmissionList,
  type Admission,
} from '../../core/provisioning/admission-list.ts';
import { LOCAL_PROVISIONING_TEMPLATE } from '../../core/provisioning/claim.ts';
import { LocalCertificateAuthority } from '../../local/broker/certs.ts';
import { LocalProvisioning } from '../../local/broker/provisioning.ts';
import { Command, Option } from 'commander';
import { callRuntime } from '../../local/http/runtime-client.ts';
import type { DeviceSummary } from '../../core/operators/views.ts';
import { actorOf, actorOptions, dataDirOption } from './options.ts';
import { printTable } from './output.ts';

function listSubcommand(): Command {
  return new Command('list')
    .description(
      'each device of the local runtime: calibrating or monitoring, and its baseline version; with --cloud, the things registered in AWS IoT for a stack',
    )
    .option('--use-case <id>', 'only this use case')
    .option('--cloud', 'list the things registered in AWS IoT Core for --stack instead')
    .option('--stack <name>', 'the deployed stack (with --cloud)', 'AiotPipeline')
    .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
    .addOption(dataDirOption())
    .action(
      async (options: {
        useCase?: string;
        format: string;
        dataDir: string;
        cloud?: boolean;
        stack: string;
      }) => {
        if (options.cloud) {
          const registered = (await withAws(() => registration(options.stack).list())).filter(
            (d) => !options.useCase || d.useCase === options.useCase,
          );
          if (options.format === 'json') {
            console.log(JSON.stringify(registered, null, 2));
            return;
          }
          printTable(
            ['use case', 'thing', 'certificates'],
            registered.map((d) => ({
              'use case': d.useCase,
              thing: d.thing,
              certificates: d.certificates.map((c) => `${c.id.slice(0, 12)}… ${c.status}`).join(', '),
            })),
          );
          return;
        }
        const { devices } = await callRuntime<{ devices: DeviceSummary[] }>(
          path.resolve(options.dataDir),
          'GET',
          `/devices${options.useCase ? `?use-case=${encodeURIComponent(options.useCase)}` : ''}`,
        );
        if (options.format === 'json') {
          console.log(JSON.stringify(devices, null, 2));
          return;
        }
        printTable(
          ['use case', 'device', 'state', 'baseline', 'why', 'calibration'],
          devices.map((d) => ({
            'use case': d.useCase,
            device: d.deviceId,
            state: d.state,
            baseline: d.baselineVersion === null ? '' : `v${d.baselineVersion}`,
            why: d.baselineReason ?? '',
            calibration: d.calibration
              ? `${d.calibration.reason}: ${d.calibration.collected} readings since ${d.calibration.since}`
              : '',
          })),
        );
      },
    );
}

function rebaselineSubcommand(): Command {
  return actorOptions(
    new Command('rebaseline')
      .description('start a new calibration of a device: its normal changed (a repair, a new duty point)')
      .requiredOption('--use-case <id>', 'the use case')
      .requiredOption('--device <id>', 'the device')
      .requiredOption('--reason <text>', 'why, kept with the new baseline')
      .addOption(dataDirOption()),
  ).action(
    async (options: {
      useCase: string;
      device: string;
      reason: string;
      dataDir: string;
      user: string;
      role: string;
    }) => {
      const device = await callRuntime<DeviceSummary>(
        path.resolve(options.dataDir),
        'POST',
        `/devices/${encodeURIComponent(options.useCase)}/${encodeURIComponent(options.device)}/rebaseline`,
        { actor: actorOf(options), note: options.reason },
      );
      console.log(
        `${device.deviceId}: calibrating a new baseline from now on (${device.calibration?.reason ?? ''}); it raises no alerts until then`,
      );
    },
  );
}

function registerSubcommand(): Command {
  return new Command('register')
    .description(
      'register a device in AWS IoT Core for a deployed stack: thing, certificate, device policy, and a folder with what the edge agent needs',
    )
    .requiredOption('--thing <name>', "the device's thing name (its identity)")
    .option('--stack <name>', 'the deployed stack', 'AiotPipeline')
    .option('--use-case <id>', 'the use case (needed when the stack has several)')
    .option('--csr <file>', "sign the device's own certificate request: its private key never leaves it")
    .option('--out <dir>', 'where to write the credentials (default: .aiot/devices/<thing>)')
    .action(
      async (options: { thing: string; stack: string; useCase?: string; csr?: string; out?: string }) => {
        const out = path.resolve(options.out ?? path.join('.aiot', 'devices', options.thing));
        if (existsSync(out)) throw new Error(`${out} exists already: pass another --out, or remove it`);
        const csrPem = options.csr === undefined ? undefined : readCsr(options.csr);
        const credentials = await withAws(() =>
          registration(options.stack).register({
            thing: options.thing,
            ...(options.useCase ? { useCase: options.useCase } : {}),
            ...(csrPem ? { csrPem } : {}),
          }),
        );
        writeCredentials(out, credentials);
        console.log(
          `${credentials.thing} registered for ${credentials.useCase} (group ${credentials.thingGroup}); files in ${out}`,
        );
        console.log('Run the edge agent on the device with:');
        console.log(
          `  node aiot-edge.mjs --thing ${credentials.thing} --endpoint mqtts://${credentials.endpoint}:8883 ` +
            `--ca AmazonRootCA1.pem --cert certificate.pem.crt --key ${credentials.privateKey ? 'private.pem.key' : '<your key>'} ` +
            `--rule-name ${credentials.ruleName} --manifest ${credentials.useCase}.yaml`,
        );
      },
    );
}

function revokeSubcommand(): Command {
  return new Command('revoke')
    .description(
      "deactivate a device's certificates in AWS IoT Core and detach them from the thing and its policies",
    )
    .requiredOption('--thing <name>', 'the thing name')
    .option('--stack <name>', 'the deployed stack', 'AiotPipeline')
    .action(async (options: { thing: string; stack: string }) => {
      const revoked = await withAws(() => registration(options.stack).revoke(options.thing));
      console.log(
        revoked.length === 0
          ? `${options.thing} had no certificate attached`
          : `${options.thing}: ${revoked.length} certificate(s) deactivated and detached (${revoked.join(', ')}); the device can no longer connect`,
      );
    });
}

interface AllowOptions {
  serial?: string;
  thing?: string;
  useCase?: string;
  site?: string;
  from?: string;
  again?: boolean;
  stack: string;
  local?: boolean;
  dataDir: string;
}

/** One serial from the options, or a factory's list from `--from`: never both. */
function admissionsOf(options: AllowOptions): Admission[] {
  const single = [options.serial, options.thing, options.useCase, options.site];
  if (options.from !== undefined) {
    if (single.some((value) => value !== undefined))
      throw new Error(
        '--from admits the serials of its file: give it without --serial, --thing, --use-case, --site',
      );
    const file = path.resolve(options.from);
    if (statSync(file).size > MAX_ADMISSION_LIST_BYTES)
      throw new Error(`${file}: above the limit of ${MAX_ADMISSION_LIST_BYTES} bytes`);
    return parseAdmissionList(readFileSync(file, 'utf8'), file);
  }
  const [serialNumber, thingName, useCase, site] = single;
  if (!serialNumber || !thingName || !useCase || !site)
    throw new Error(
      'give --serial, --thing, --use-case and --site for one device, or --from <list.csv> for many',
    );
  return [{ serialNumber, thingName, useCase, site }];
}

function allowSubcommand(): Command {
  return new Command('allow')
    .description(
      "admit serial numbers to provision themselves with a claim certificate (fleet provisioning): one with --serial, --thing, --use-case and --site, or a factory's list with --from",
    )
    .option('--serial <number>', "the device's serial number, as it will send it")
    .option('--thing <name>', 'the thing name it becomes')
    .option('--use-case <id>', 'its use case')
    .option('--site <id>', 'its site (a thing group per site)')
    .option(
      '--from <list.csv>',
      `a factory's list, one device a line under the header ${ADMISSION_COLUMNS.join(',')}: every line is checked, then all are admitted`,
    )
    .option('--again', 'admit a listed serial anew; it may then provision once more (a replaced board)')
    .option('--stack <name>', 'the deployed stack', 'AiotPipeline')
    .option('--local', "the local runtime's allow-list (<data-dir>/provisioning) instead of the stack's")
    .addOption(dataDirOption())
    .action(async (options: AllowOptions) => {
      const admissions = admissionsOf(options);
      const again = { again: options.again === true };
      if (options.local) {
        LocalProvisioning.admitAllTo(path.join(options.dataDir, 'provisioning'), admissions, again);
      } else {
        const stack = claims(options.stack);
        // One at a time, each conditional: a serial listed already stops the list there, named.
        for (const admission of admissions) await withAws(() => stack.admit(admission, again));
      }
      const [only] = admissions;
      console.log(
        admissions.length === 1 && only
          ? `${only.serialNumber} admitted: it provisions once, as ${only.thingName} of ${only.useCase} at ${only.site}`
          : `${admissions.length} serial numbers admitted: each provisions once, as the thing its line names`,
      );
    });
}

function claimSubcommand(): Command {
  return new Command('claim')
    .description(
      'make the claim certificate devices leave the factory with: it may only ask for an identity, for allow-listed serial numbers',
    )
    .option('--stack <name>', 'the deployed stack', 'AiotPipeline')
    .option('--out <dir>', 'where to write it', path.join('.aiot', 'claim'))
    .option('--local <name>', "a claim certificate of the local runtime's CA instead, named <name>")
    .addOption(dataDirOption())
    .action(async (options: { stack: string; out: string; local?: string; dataDir: string }) => {
      const out = path.resolve(options.out);
      if (existsSync(out)) throw new Error(`${out} exists already: pass another --out, or remove it`);
      if (options.local !== undefined) {
        const certsDir = path.join(options.dataDir, 'certs');
        if (!existsSync(path.join(certsDir, 'ca.crt')))
          throw new Error(
            `no local CA in ${certsDir}: start the runtime first (npm start), or pass its --data-dir`,
          );
        const pair = await (await LocalCertificateAuthority.openOrCreate(certsDir)).claimPair(options.local);
        mkdirSync(out, { recursive: true, mode: 0o700 });
        writeFileSync(path.join(out, 'claim.pem.crt'), pair.cert);
        writeFileSync(path.join(out, 'claim.private.pem.key'), pair.key, { mode: 0o600 });
        console.log(`local claim certificate "${options.local}" in ${out}; the agent provisions with:`);
        console.log(
          `  npm run aiot -- edge --claim-cert ${path.join(out, 'claim.pem.crt')} --claim-key ${path.join(out, 'claim.private.pem.key')} --serial <serial> --template ${LOCAL_PROVISIONING_TEMPLATE} --source simulator`,
        );
        return;
      }
      const claim = await withAws(() => claims(options.stack).createClaim());
      mkdirSync(out, { recursive: true, mode: 0o700 });
      writeFileSync(path.join(out, 'claim.pem.crt'), claim.certificatePem);
      writeFileSync(path.join(out, 'claim.private.pem.key'), claim.privateKey, { mode: 0o600 });
      writeFileSync(path.join(out, 'AmazonRootCA1.pem'), claim.rootCaPem);
      const { certificatePem: _c, privateKey: _k, rootCaPem: _r, ...provisioning } = claim;
      writeFileSync(path.join(out, 'provisioning.json'), `${JSON.stringify(provisioning, null, 2)}\n`);
      console.log(`claim certificate ${claim.certificateArn.split('/').pop() ?? ''} in ${out}`);
      console.log(
        `Devices connect with it as ${claim.clientIdPrefix}<serial> to ${claim.endpoint} and register through template ${claim.templateName}.`,
      );
    });
}

export function devicesCommand(): Command {
  const command = new Command('devices').description(
    'devices of the running local runtime and their baselines',
  );
  command.addCommand(listSubcommand());
  command.addCommand(rebaselineSubcommand());
  command.addCommand(registerSubcommand());
  command.addCommand(revokeSubcommand());
  command.addCommand(allowSubcommand());
  command.addCommand(claimSubcommand());
  return command;
}

/** A certificate signing request is a few KB; a larger file is not one. */
const MAX_CSR_BYTES = 16 * 1024;

function readCsr(file: string): string {
  const size = statSync(file).size;
  if (size > MAX_CSR_BYTES)
    throw new Error(`${file} is ${size} bytes, over the ${MAX_CSR_BYTES}-byte limit of a CSR`);
  const pem = readFileSync(file, 'utf8');
  if (!pem.includes('-----BEGIN CERTIFICATE REQUEST-----'))
    throw new Error(`${file} is not a PEM certificate signing request (BEGIN CERTIFICATE REQUEST)`);
  return pem;
}

function claims(stack: string): FleetClaims {
  return new FleetClaims(
    new IoTClient({}),
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    new CloudFormationClient({}),
    stack,
  );
}

function registration(stack: string): DeviceRegistration {
  // Region and credentials come from the usual AWS SDK chain (environment, profile, SSO, role).
  return new DeviceRegistration(new IoTClient({}), new CloudFormationClient({}), stack);
}

/** Runs AWS calls, turning the SDK's missing-configuration errors into what to do about them. */
export async function withAws<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (/region is missing/i.test(message))
      throw new Error('no AWS region: set AWS_REGION, or a region in your AWS profile', { cause: error });
    if (error instanceof Error && error.name === 'CredentialsProviderError')
      throw new Error('no AWS credentials: set AWS_PROFILE, run aws sso login, or export AWS_ACCESS_KEY_ID', {
        cause: error,
      });
    throw error;
  }
}

function writeCredentials(out: string, credentials: DeviceCredentials): void {
  mkdirSync(out, { recursive: true, mode: 0o700 });
  writeFileSync(path.join(out, 'certificate.pem.crt'), credentials.certificatePem);
  if (credentials.privateKey)
    writeFileSync(path.join(out, 'private.pem.key'), credentials.privateKey, { mode: 0o600 });
  writeFileSync(path.join(out, 'AmazonRootCA1.pem'), credentials.rootCaPem);
  const { certificatePem: _certificate, privateKey: _key, rootCaPem: _ca, ...device } = credentials;
  writeFileSync(path.join(out, 'device.json'), `${JSON.stringify(device, null, 2)}\n`);
}
