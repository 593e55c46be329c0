import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeCertificateCommand,
  DetachThingPrincipalCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  confirmationDependenciesFromEnv,
  createHandler,
} from '../../lambdas/certificate-rotation/handler.ts';
import { deployedFunction } from '../support/deployed-functions.ts';
import { deniedRequests, iamRequestsOf, unusedGrants } from '../support/iam-check.ts';

const dynamo = mockClient(DynamoDBDocumentClient);
const iot = mockClient(IoTClient);
mockClient(DynamoDBClient);
const logs: { message: string; details: Record<string, unknown> }[] = [];
const deployed = deployedFunction('InfluxDB, no trained model', 'Provisioning/RetireFunction');
const handler = createHandler({
  ...confirmationDependenciesFromEnv(deployed.env),
  log: (message, details) => logs.push({ message, details }),
});
const renewed = {
  serialNumber: 'SN-0042',
  useCase: 'pump-maintenance',
  site: 'plant-a',
  thingName: 'pump-042',
  provisionedAt: '2026-11-01T00:00:00Z',
  certificateId: 'new-cert',
  previousCertificateId: 'old-cert',
  rotatedAt: '2026-11-30T00:00:00Z',
};
// What the rule's SQL hands over: the device's message, its client id and its certificate.
const event = (certificateId = 'new-cert', thing = 'pump-042', serialNumber: unknown = 'SN-0042') => ({
  serialNumber,
  thing,
  certificateId,
});

beforeEach(() => {
  dynamo.reset();
  iot.reset();
  logs.length = 0;
  dynamo.on(UpdateCommand).resolves({});
  // The region the deployed function runs in (test/support/template-env.ts).
  iot.on(DescribeCertificateCommand).resolves({
    certificateDescription: { certificateArn: 'arn:aws:iot:us-east-1:123456789012:cert/old-cert' },
  });
  iot.on(UpdateCertificateCommand).resolves({});
  iot.on(DetachThingPrincipalCommand).resolves({});
});

afterAll(() => {
  dynamo.restore();
  iot.restore();
});

describe('certificate rotation confirmation', () => {
  it('GIVEN a device connected with its renewed certificate THEN the replaced one is deactivated, detached and forgotten', async () => {
    dynamo.on(GetCommand).resolves({ Item: renewed });

    expect(await handler(event())).toEqual({ retired: 'old-cert' });

    expect(iot.commandCalls(UpdateCertificateCommand).map((c) => c.args[0].input)).toEqual([
      { certificateId: 'old-cert', newStatus: 'INACTIVE' },
    ]);
    expect(iot.commandCalls(DetachThingPrincipalCommand)[0]?.args[0].input).toEqual({
      thingName: 'pump-042',
      principal: 'arn:aws:iot:us-east-1:123456789012:cert/old-cert',
    });
    expect(dynamo.commandCalls(UpdateCommand)[0]?.args[0].input).toMatchObject({
      Key: { serialNumber: 'SN-0042' },
      UpdateExpression: 'REMOVE previousCertificateId',
      ConditionExpression: 'previousCertificateId = :previous',
      ExpressionAttributeValues: { ':previous': 'old-cert' },
    });
    // AND every AWS call it made is one its role in the template allows, as IAM would decide
    const requests = iamRequestsOf([dynamo, iot]);
    expect(await deniedRequests(deployed.policies, requests)).toEqual([]);
    expect(unusedGrants(deployed.policies, requests)).toEqual([]);
  });

  it('GIVEN the confirmation again after it was cleared (by a racing one) THEN nothing fails', async () => {
    dynamo.on(GetCommand).resolves({ Item: renewed });
    dynamo
      .on(UpdateCommand)
      .rejects(new ConditionalCheckFailedException({ $metadata: {}, message: 'condition' }));
    expect(await handler(event())).toEqual({ retired: 'old-cert' });
  });

  it.each([
    ['the old certificate (the device has not switched)', event('old-cert'), 'not its current certificate'],
    ['another thing naming this serial', event('new-cert', 'pump-001'), 'is not thing "pump-001"'],
    ['a serial that is not on the list', event('new-cert', 'pump-042', 'SN-1'), 'is not thing'],
    ['a message without a valid serial', event('new-cert', 'pump-042', '../x'), 'no valid serialNumber'],
    ['an event that is not one', { hello: 'world' }, 'not a confirmation event'],
  ])('GIVEN a confirmation from %s THEN it retires nothing and logs why', async (_, input, reason) => {
    dynamo.on(GetCommand).callsFake((input: { Key: { serialNumber: string } }) => ({
      Item: input.Key.serialNumber === 'SN-0042' ? renewed : undefined,
    }));
    const outcome = await handler(input);
    expect(outcome).toMatchObject({ ignored: expect.stringContaining(reason) as unknown });
    expect(logs.at(-1)?.message).toBe('certificate confirmation ignored');
    expect(iot.commandCalls(UpdateCertificateCommand)).toHaveLength(0);
    expect(dynamo.commandCalls(UpdateCommand)).toHaveLength(0);
  });

  it('GIVEN a device with nothing to retire THEN it is ignored', async () => {
    const { previousCertificateId: _, ...current } = renewed;
    dynamo.on(GetCommand).resolves({ Item: current });
    expect(await handler(event())).toEqual({ ignored: 'no previous certificate to retire' });
  });
});
