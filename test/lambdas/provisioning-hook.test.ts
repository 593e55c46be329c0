import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateThingGroupCommand,
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  ResourceAlreadyExistsException,
  ResourceNotFoundException,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createHandler,
  preProvisioningDependenciesFromEnv,
} from '../../lambdas/provisioning-hook/handler.ts';
import { provisioningTemplateBody } from '../../core/provisioning/claim.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { ACCOUNT, REGION } from '../support/template-env.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const iot = mockClient(IoTClient);
mockClient(DynamoDBClient);
// What the deployed hook finds: the template's environment (and role) of the provisioning hook.
const deployed = deployedFunction('InfluxDB, no trained model', 'Provisioning/HookFunction');
const env = deployed.env;
const STACK = env.STACK_NAME ?? '';
const TABLE = env.ALLOW_LIST_TABLE ?? '';
const PUMP_POLICY = (JSON.parse(env.DEVICE_POLICIES ?? '{}') as Record<string, string>)['pump-maintenance'];
const logs: { message: string; details: Record<string, unknown> }[] = [];
const handler = createHandler({
  ...preProvisioningDependenciesFromEnv(env),
  clock: { now: () => Date.parse('2026-11-30T12:00:00Z') },
  log: (message, details) => logs.push({ message, details }),
});

const event = (parameters: Record<string, string>) => ({
  claimCertificateId: 'claim-cert',
  certificateId: 'new-cert',
  certificatePem: '-----BEGIN CERTIFICATE-----',
  templateArn: 'arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/T',
  clientId: 'provision-SN-0042',
  parameters,
});
const admitted = {
  serialNumber: 'SN-0042',
  useCase: 'pump-maintenance',
  site: 'plant-a',
  thingName: 'pump-042',
};

beforeEach(() => {
  dynamo.reset();
  iot.reset();
  logs.length = 0;
  iot.on(CreateThingGroupCommand).resolves({});
  dynamo.on(UpdateCommand).resolves({});
});

afterAll(() => {
  dynamo.restore();
  iot.restore();
});

describe('pre-provisioning hook', () => {
  it('GIVEN an allow-listed serial THEN it admits the device as the listed thing, in its use-case and site groups, with its use case policy, and marks the serial used', async () => {
    dynamo.on(GetCommand).resolves({ Item: admitted });

    const response = await handler(event({ SerialNumber: 'SN-0042' }));

    expect(response).toEqual({
      allowProvisioning: true,
      parameterOverrides: {
        ThingName: 'pump-042',
        UseCaseGroup: `${STACK}-pump-maintenance`,
        SiteGroup: `${STACK}-site-plant-a`,
        PolicyName: PUMP_POLICY,
        Site: 'plant-a',
      },
    });
    expect(iot.commandCalls(CreateThingGroupCommand).map((c) => c.args[0].input.thingGroupName)).toEqual([
      `${STACK}-pump-maintenance`,
      `${STACK}-site-plant-a`,
    ]);
    const [mark] = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
    expect(mark).toMatchObject({
      TableName: TABLE,
      Key: { serialNumber: 'SN-0042' },
      ConditionExpression: 'attribute_exists(serialNumber) AND attribute_not_exists(provisionedAt)',
      ExpressionAttributeValues: { ':at': '2026-11-30T12:00:00.000Z', ':certificate': 'new-cert' },
    });
    // Every override is a parameter the template declares: a device cannot name its own thing.
    const declared = Object.keys(provisioningTemplateBody().Parameters as Record<string, unknown>);
    if (response.allowProvisioning)
      expect(declared).toEqual(expect.arrayContaining(Object.keys(response.parameterOverrides)));
    // AND every AWS call it made is one its role in the template allows, as IAM would decide
    expect(await deniedRequests(deployed.policies, iamRequestsOf([dynamo, iot]))).toEqual([]);
  });

  it('GIVEN an existing group THEN it is used as it is', async () => {
    dynamo.on(GetCommand).resolves({ Item: admitted });
    iot.on(CreateThingGroupCommand).rejects(
      new ResourceAlreadyExistsException({
        $metadata: {},
        message: 'exists',
        resourceId: 'g',
        resourceArn: 'a',
      }),
    );
    expect(await handler(event({ SerialNumber: 'SN-0042' }))).toMatchObject({ allowProvisioning: true });
  });

  it.each([
    [
      'a serial not on the list',
      undefined,
      { SerialNumber: 'SN-9999' },
      'serial number "SN-9999" is not on the allow-list',
    ],
    [
      'a serial provisioned before, asked for again with a claim certificate',
      { ...admitted, provisionedAt: '2026-11-01T00:00:00Z', certificateId: 'old' },
      { SerialNumber: 'SN-0042' },
      'was provisioned at 2026-11-01T00:00:00Z (certificate old)',
    ],
    [
      'a first registration asked by a device certificate, not a claim',
      admitted,
      { SerialNumber: 'SN-0042' },
      'provisioned first with a claim certificate (client id "provision-*"), not by "pump-001"',
      'pump-001',
    ],
    [
      'a use case the stack does not serve',
      { ...admitted, useCase: 'boilers' },
      { SerialNumber: 'SN-0042' },
      'use case "boilers", which this stack does not serve (hvac-energy, pump-maintenance)',
    ],
    ['no serial number', admitted, {}, 'parameters: SerialNumber'],
    ['a serial with a slash', admitted, { SerialNumber: 'SN/../x' }, 'must be 1-64 of A-Z a-z 0-9 _ -'],
    ['a parameter it does not take', admitted, { SerialNumber: 'SN-0042', ThingName: 'admin' }, 'ThingName'],
  ])(
    'GIVEN %s THEN it refuses, says why in its log, and changes nothing',
    async (_, item, parameters, reason, clientId?: string) => {
      dynamo.on(GetCommand).resolves({ Item: item });
      expect(await handler({ ...event(parameters), ...(clientId ? { clientId } : {}) })).toEqual({
        allowProvisioning: false,
      });
      expect(logs.at(-1)?.message).toBe('provisioning refused');
      expect(String(logs.at(-1)?.details.reason)).toContain(reason);
      expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
      expect(iot.commandCalls(CreateThingGroupCommand)).toHaveLength(0);
    },
  );

  it('GIVEN two devices racing with one serial THEN the one that marks it second is refused', async () => {
    dynamo.on(GetCommand).resolves({ Item: admitted });
    dynamo
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ $metadata: {}, message: 'condition' }));
    expect(await handler(event({ SerialNumber: 'SN-0042' }))).toEqual({ allowProvisioning: false });
    expect(String(logs.at(-1)?.details.reason)).toContain('provisioned by another registration a moment ago');
  });

  describe('certificate renewal', () => {
    const provisioned = {
      ...admitted,
      provisionedAt: '2026-11-01T00:00:00Z',
      certificateId: 'current-cert',
    };
    const renewal = (claimCertificateId: string, clientId = 'pump-042') => ({
      ...event({ SerialNumber: 'SN-0042' }),
      claimCertificateId,
      clientId,
    });
    const retired = () => iot.commandCalls(UpdateCertificateCommand).map((c) => c.args[0].input);

    beforeEach(() => {
      iot.on(DescribeCertificateCommand).callsFake((input: { certificateId: string }) => ({
        certificateDescription: {
          certificateArn: `arn:aws:iot:${REGION}:${ACCOUNT}:cert/${input.certificateId}`,
        },
      }));
      iot.on(UpdateCertificateCommand).resolves({});
      iot.on(DetachThingPrincipalCommand).resolves({});
    });

    it('GIVEN a provisioned device asking as its thing with its current certificate THEN it gets a new one on the same thing, and the current one stays active until it is confirmed', async () => {
      dynamo.on(GetCommand).resolves({ Item: provisioned });

      const response = await handler(renewal('current-cert'));

      expect(response).toMatchObject({
        allowProvisioning: true,
        parameterOverrides: { ThingName: 'pump-042', PolicyName: PUMP_POLICY },
      });
      const [mark] = dynamo.commandCalls(UpdateCommand).map((c) => c.args[0].input);
      expect(mark).toMatchObject({
        UpdateExpression:
          'SET certificateId = :certificate, previousCertificateId = :previous, rotatedAt = :at',
        ConditionExpression:
          'attribute_exists(provisionedAt) AND #certificateId = :expected_certificateId AND attribute_not_exists(#previousCertificateId)',
        ExpressionAttributeValues: {
          ':certificate': 'new-cert',
          ':previous': 'current-cert',
          ':expected_certificateId': 'current-cert',
        },
      });
      expect(retired()).toEqual([]);
      expect(logs.at(-1)).toMatchObject({
        message: 'certificate renewal admitted',
        details: { replaces: 'current-cert' },
      });
    });

    it('GIVEN a previous renewal whose old certificate was never retired THEN that one is retired now', async () => {
      dynamo.on(GetCommand).resolves({ Item: { ...provisioned, previousCertificateId: 'older-cert' } });

      expect(await handler(renewal('current-cert'))).toMatchObject({ allowProvisioning: true });

      expect(retired()).toEqual([{ certificateId: 'older-cert', newStatus: 'INACTIVE' }]);
      expect(iot.commandCalls(DetachThingPrincipalCommand)[0]?.args[0].input).toEqual({
        thingName: 'pump-042',
        principal: `arn:aws:iot:${REGION}:${ACCOUNT}:cert/older-cert`,
      });
    });

    it("GIVEN a first admission and a renewal that retires an old certificate THEN every AWS call is one the hook's role allows, and the role allows nothing else", async () => {
      dynamo
        .on(GetCommand)
        .resolvesOnce({ Item: admitted })
        .resolves({
          Item: { ...provisioned, previousCertificateId: 'older-cert' },
        });

      expect(await handler(event({ SerialNumber: 'SN-0042' }))).toMatchObject({ allowProvisioning: true });
      expect(await handler(renewal('current-cert'))).toMatchObject({ allowProvisioning: true });

      const requests = iamRequestsOf([dynamo, iot]);
      expect(retired()).toHaveLength(1);
      expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
      expect(unusedGrants(deployed.policies, requests)).toEqual([]);
    });

    it('GIVEN a device that never took up its last renewal (asks with the previous certificate) THEN the unused one is retired and it renews again', async () => {
      dynamo.on(GetCommand).resolves({
        Item: { ...provisioned, certificateId: 'unused-cert', previousCertificateId: 'current-cert' },
      });
      iot
        .on(DescribeCertificateCommand)
        .rejects(new ResourceNotFoundException({ $metadata: {}, message: 'never made' }));

      expect(await handler(renewal('current-cert'))).toMatchObject({ allowProvisioning: true });

      expect(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input.ExpressionAttributeValues).toMatchObject({
        ':certificate': 'new-cert',
        ':previous': 'current-cert',
        ':expected_certificateId': 'unused-cert',
        ':expected_previousCertificateId': 'current-cert',
      });
      // IoT Core never made the unused one (the device gave up before registering): nothing to deactivate.
      expect(retired()).toEqual([]);
    });

    it.each([
      [
        'another client id',
        'current-cert',
        'pump-001',
        'renews its certificate as its thing "pump-042", not as "pump-001"',
      ],
      [
        'a certificate that is not its own',
        'stolen-cert',
        'pump-042',
        'neither its current (current-cert) nor its previous one',
      ],
      ['its claim certificate again', 'claim-cert', 'provision-SN-0042', 'not as "provision-SN-0042"'],
    ])(
      'GIVEN a renewal from %s THEN it refuses and retires nothing',
      async (_, certificate, clientId, reason) => {
        dynamo.on(GetCommand).resolves({ Item: provisioned });
        expect(await handler(renewal(certificate, clientId))).toEqual({ allowProvisioning: false });
        expect(String(logs.at(-1)?.details.reason)).toContain(reason);
        expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
        expect(retired()).toEqual([]);
      },
    );

    it('GIVEN two renewals racing THEN the second is refused', async () => {
      dynamo.on(GetCommand).resolves({ Item: provisioned });
      dynamo
        .on(UpdateCommand)
        .rejects(new ConditionalCheckFailedException({ $metadata: {}, message: 'condition' }));
      expect(await handler(renewal('current-cert'))).toEqual({ allowProvisioning: false });
      expect(String(logs.at(-1)?.details.reason)).toContain(
        'renewed its certificate in another registration',
      );
    });
  });

  it('GIVEN a malformed allow-list item or an event that is not one THEN it refuses (IoT Core refuses on an error too)', async () => {
    dynamo.on(GetCommand).resolves({ Item: { ...admitted, thingName: 'has space' } });
    await expect(handler(event({ SerialNumber: 'SN-0042' }))).rejects.toThrow(
      'allow-list item "SN-0042" is malformed: thingName',
    );
    // A thing named like a claim client could provision a serial of another stack.
    dynamo.on(GetCommand).resolves({ Item: { ...admitted, thingName: 'provision-x' } });
    await expect(handler(event({ SerialNumber: 'SN-0042' }))).rejects.toThrow(
      'must not start with "provision-"',
    );
    expect(await handler({ hello: 'world' })).toEqual({ allowProvisioning: false });
  });
});
