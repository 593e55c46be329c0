import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import {
  AddThingToThingGroupCommand,
  AttachPolicyCommand,
  CreateCertificateFromCsrCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DeleteThingCommand,
  DescribeCertificateCommand,
  DescribeEndpointCommand,
  DetachPolicyCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ListAttachedPoliciesCommand,
  ListThingPrincipalsCommand,
  ListThingsInThingGroupCommand,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { DeviceRegistration } from '../../bin/cli/device-registration.ts';
import { devicesCommand, withAws } from '../../bin/cli/devices.ts';
import { pipelineStack, testApp } from '../support/cdk.ts';

const iot = mockClient(IoTClient);
const cloudFormation = mockClient(CloudFormationClient);
const CERT_ARN = 'arn:aws:iot:eu-west-1:111122223333:cert/abc123';

/** The stack's real output keys and descriptions (from a synth), with made-up values. */
const outputs: Output[] = Object.entries(
  Template.fromStack(pipelineStack(testApp())).toJSON().Outputs as Record<string, { Description?: string }>,
).map(([key, output]) => ({
  OutputKey: key,
  Description: output.Description,
  OutputValue: key.includes('DevicePolicyName')
    ? 'pump-device-policy'
    : key.includes('IngestRuleName')
      ? 'pump_ingest'
      : 'x',
}));

const registration = () =>
  new DeviceRegistration(new IoTClient({}), new CloudFormationClient({}), 'AiotPipeline');
const calls = () =>
  iot.calls().map((call) => (call.args[0] as { constructor: { name: string } }).constructor.name);

beforeEach(() => {
  iot.reset();
  cloudFormation.reset();
  cloudFormation.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: 'AiotPipeline',
        CreationTime: new Date(),
        StackStatus: 'CREATE_COMPLETE',
        Outputs: outputs,
      },
    ],
  });
  iot.on(CreateKeysAndCertificateCommand).resolves({
    certificateArn: CERT_ARN,
    certificatePem: '-----BEGIN CERTIFICATE-----\nissued\n-----END CERTIFICATE-----\n',
    keyPair: { PrivateKey: '-----BEGIN RSA PRIVATE KEY-----\nsecret\n-----END RSA PRIVATE KEY-----\n' },
  });
  iot.on(CreateCertificateFromCsrCommand).resolves({
    certificateArn: CERT_ARN,
    certificatePem: '-----BEGIN CERTIFICATE-----\nsigned\n-----END CERTIFICATE-----\n',
  });
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc-ats.iot.eu-west-1.amazonaws.com' });
});
afterAll(() => {
  iot.restore();
  cloudFormation.restore();
});

describe('aiot devices register', () => {
  it("GIVEN a deployed stack WHEN a thing is registered THEN it is in its use case's group with a new certificate and the stack's device policy", async () => {
    const credentials = await registration().register({ thing: 'pump-042', useCase: 'pump-maintenance' });

    expect(calls()).toEqual([
      'CreateThingGroupCommand',
      'CreateThingCommand',
      'CreateKeysAndCertificateCommand',
      'AttachPolicyCommand',
      'AttachThingPrincipalCommand',
      'AddThingToThingGroupCommand',
      'DescribeEndpointCommand',
    ]);
    expect(iot.commandCalls(AttachPolicyCommand)[0]?.args[0].input).toEqual({
      policyName: 'pump-device-policy',
      target: CERT_ARN,
    });
    expect(iot.commandCalls(AddThingToThingGroupCommand)[0]?.args[0].input).toEqual({
      thingName: 'pump-042',
      thingGroupName: 'AiotPipeline-pump-maintenance',
    });
    expect(credentials).toMatchObject({
      useCase: 'pump-maintenance',
      endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
      ruleName: 'pump_ingest',
      topic: '$aws/rules/pump_ingest/dt/pump-maintenance/pump-042/telemetry',
      privateKey: expect.stringContaining('PRIVATE KEY') as unknown,
    });
    expect(credentials.rootCaPem).toContain('-----BEGIN CERTIFICATE-----');
  });

  it("GIVEN the device's own CSR WHEN registered THEN IoT Core signs it and no private key exists here", async () => {
    const credentials = await registration().register({
      thing: 'pump-043',
      useCase: 'pump-maintenance',
      csrPem: '-----BEGIN CERTIFICATE REQUEST-----',
    });

    expect(iot.commandCalls(CreateKeysAndCertificateCommand)).toHaveLength(0);
    expect(iot.commandCalls(CreateCertificateFromCsrCommand)[0]?.args[0].input).toMatchObject({
      setAsActive: true,
    });
    expect(credentials.privateKey).toBeUndefined();
  });

  it('GIVEN the policy cannot be attached WHEN registering THEN what was made is undone and the error says why', async () => {
    iot
      .on(AttachPolicyCommand)
      .rejects(Object.assign(new Error('policy not found'), { name: 'ResourceNotFoundException' }));

    await expect(registration().register({ thing: 'pump-044', useCase: 'pump-maintenance' })).rejects.toThrow(
      'policy not found',
    );

    expect(iot.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: 'abc123',
      newStatus: 'INACTIVE',
    });
    expect(iot.commandCalls(DeleteCertificateCommand)).toHaveLength(1);
    expect(iot.commandCalls(DeleteThingCommand)[0]?.args[0].input).toEqual({ thingName: 'pump-044' });
  });

  it.each([
    [
      'an existing thing',
      () =>
        iot
          .on(CreateThingCommand)
          .rejects(Object.assign(new Error('exists'), { name: 'ResourceAlreadyExistsException' })),
      'thing "pump-045" exists already: revoke it first',
    ],
    [
      'no such stack',
      () =>
        cloudFormation
          .on(DescribeStacksCommand)
          .rejects(Object.assign(new Error('Stack does not exist'), { name: 'ValidationError' })),
      'no stack "AiotPipeline" in this account and region',
    ],
  ])('GIVEN %s WHEN registering THEN it says what to do', async (_case, arrange, message) => {
    arrange();
    await expect(registration().register({ thing: 'pump-045', useCase: 'pump-maintenance' })).rejects.toThrow(
      message,
    );
  });

  it.each(['pump 046', '', 'x'.repeat(129), 'pump/046'])(
    'refuses the thing name %j, naming it',
    async (thing) => {
      await expect(registration().register({ thing, useCase: 'pump-maintenance' })).rejects.toThrow(
        `thing name "${thing}" must be 1 to 128`,
      );
      expect(calls()).toEqual([]);
    },
  );

  it('GIVEN an unknown use case WHEN registering THEN it names the ones the stack has', async () => {
    await expect(registration().register({ thing: 'pump-047', useCase: 'fans' })).rejects.toThrow(
      'stack "AiotPipeline" has no use case "fans" (hvac-energy, pump-maintenance)',
    );
  });
});

describe('aiot devices revoke and list --cloud', () => {
  it('GIVEN a registered thing WHEN revoked THEN each certificate is deactivated and detached from its policies and the thing', async () => {
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN] });
    iot.on(ListAttachedPoliciesCommand).resolves({ policies: [{ policyName: 'pump-device-policy' }] });

    expect(await registration().revoke('pump-042')).toEqual(['abc123']);

    expect(iot.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: 'abc123',
      newStatus: 'INACTIVE',
    });
    expect(iot.commandCalls(DetachPolicyCommand)[0]?.args[0].input).toEqual({
      policyName: 'pump-device-policy',
      target: CERT_ARN,
    });
    expect(iot.commandCalls(DetachThingPrincipalCommand)[0]?.args[0].input).toEqual({
      thingName: 'pump-042',
      principal: CERT_ARN,
    });
  });

  it('GIVEN things in the use case group WHEN listed THEN each comes with its certificates and their status', async () => {
    iot.on(ListThingsInThingGroupCommand).callsFake((input: { thingGroupName: string }) => ({
      things: input.thingGroupName.endsWith('-pump-maintenance') ? ['pump-042'] : [],
    }));
    iot.on(ListThingPrincipalsCommand).resolves({ principals: [CERT_ARN] });
    iot.on(DescribeCertificateCommand).resolves({ certificateDescription: { status: 'ACTIVE' } });

    expect(await registration().list()).toEqual([
      { thing: 'pump-042', useCase: 'pump-maintenance', certificates: [{ id: 'abc123', status: 'ACTIVE' }] },
    ]);
  });
});

describe('the devices CLI', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'aiot-devices-'));
    return () => {
      rmSync(dir, { recursive: true, force: true });
    };
  });
  const run = (...args: string[]) => devicesCommand().exitOverride().parseAsync(args, { from: 'user' });

  it('GIVEN register WHEN it succeeds THEN the folder holds the certificate, a key only its owner reads, the root CA and device.json', async () => {
    const out = path.join(dir, 'pump-042');
    await run('register', '--thing', 'pump-042', '--use-case', 'pump-maintenance', '--out', out);

    expect(readFileSync(path.join(out, 'certificate.pem.crt'), 'utf8')).toContain('issued');
    expect(statSync(path.join(out, 'private.pem.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(out, 'AmazonRootCA1.pem'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(JSON.parse(readFileSync(path.join(out, 'device.json'), 'utf8'))).toMatchObject({
      thing: 'pump-042',
      endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
      ruleName: 'pump_ingest',
    });
    await expect(
      run('register', '--thing', 'pump-042', '--use-case', 'pump-maintenance', '--out', out),
    ).rejects.toThrow(`${out} exists already`);
  });

  it.each([
    ['a file over the CSR size limit', 'x'.repeat(17 * 1024), 'over the 16384-byte limit of a CSR'],
    ['a file that is not a CSR', 'hello', 'is not a PEM certificate signing request'],
  ])('GIVEN --csr with %s THEN it is refused before any AWS call', async (_case, content, message) => {
    const csr = path.join(dir, 'device.csr');
    writeFileSync(csr, content);
    await expect(
      run(
        'register',
        '--thing',
        'pump-048',
        '--use-case',
        'pump-maintenance',
        '--csr',
        csr,
        '--out',
        path.join(dir, 'x'),
      ),
    ).rejects.toThrow(message);
    expect(calls()).toEqual([]);
  });

  it('GIVEN no region WHEN an AWS call fails so THEN the error says how to set one', async () => {
    await expect(withAws(() => Promise.reject(new Error('Region is missing')))).rejects.toThrow(
      'no AWS region: set AWS_REGION, or a region in your AWS profile',
    );
  });
});
