import { CloudFormationClient, DescribeStacksCommand, type Output } from '@aws-sdk/client-cloudformation';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  DescribeEndpointCommand,
  IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { Template } from 'aws-cdk-lib/assertions';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { FleetClaims } from '../../bin/cli/fleet-claims.ts';
import { pipelineStack, testApp } from '../support/cdk.ts';

const iot = mockClient(IoTClient);
const dynamo = mockClient(DynamoDBDocumentClient);
const cloudFormation = mockClient(CloudFormationClient);
const CERT_ARN = 'arn:aws:iot:eu-west-1:111122223333:cert/claim123';

/** The stack's real output keys (from a synth), each with its key as its value. */
const outputs: Output[] = Object.keys(
  Template.fromStack(pipelineStack(testApp())).toJSON().Outputs as object,
).map((key) => ({ OutputKey: key, OutputValue: `value-of-${key}` }));
const claims = () =>
  new FleetClaims(
    new IoTClient({}),
    DynamoDBDocumentClient.from(new DynamoDBClient({})),
    new CloudFormationClient({}),
    'AiotPipeline',
  );
const entry = {
  serialNumber: 'SN-0042',
  thingName: 'pump-042',
  useCase: 'pump-maintenance',
  site: 'plant-a',
};

beforeEach(() => {
  iot.reset();
  dynamo.reset();
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
  dynamo.on(PutCommand).resolves({});
  iot.on(CreateKeysAndCertificateCommand).resolves({
    certificateArn: CERT_ARN,
    certificateId: 'claim123',
    certificatePem: '-----BEGIN CERTIFICATE-----claim',
    keyPair: { PrivateKey: '-----BEGIN RSA PRIVATE KEY-----' },
  });
  iot.on(AttachPolicyCommand).resolves({});
  iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc-ats.iot.eu-west-1.amazonaws.com' });
});

afterAll(() => {
  iot.restore();
  dynamo.restore();
  cloudFormation.restore();
});

describe('FleetClaims', () => {
  it("GIVEN a serial THEN it goes on the stack's allow-list once, and again only when asked", async () => {
    await claims().admit(entry);
    const [put] = dynamo.commandCalls(PutCommand).map((c) => c.args[0].input);
    expect(put).toEqual({
      TableName: expect.stringMatching(/^value-of-ProvisioningAllowListTableName/) as unknown,
      Item: entry,
      ConditionExpression: 'attribute_not_exists(serialNumber)',
    });

    dynamo.on(PutCommand).rejects(new ConditionalCheckFailedException({ $metadata: {}, message: 'exists' }));
    await expect(claims().admit(entry)).rejects.toThrow(
      'serial number "SN-0042" is on the allow-list already: pass --again',
    );
    dynamo.on(PutCommand).resolves({});
    await claims().admit(entry, { again: true });
    expect(dynamo.commandCalls(PutCommand).at(-1)?.args[0].input.ConditionExpression).toBeUndefined();
  });

  it('GIVEN a bad entry THEN it is refused before anything is written, naming what is wrong', async () => {
    await expect(claims().admit({ ...entry, site: 'Plant A', thingName: 'a b' })).rejects.toThrow(
      /cannot admit SN-0042: .*site.*thingName|cannot admit SN-0042: .*thingName.*site/s,
    );
    expect(dynamo.commandCalls(PutCommand)).toHaveLength(0);
  });

  it("GIVEN a claim THEN its certificate gets the stack's claim policy and the folder's facts name the template", async () => {
    const claim = await claims().createClaim();
    expect(iot.commandCalls(AttachPolicyCommand)[0]?.args[0].input).toEqual({
      policyName: expect.stringMatching(/^value-of-ProvisioningClaimPolicyName/) as unknown,
      target: CERT_ARN,
    });
    expect(claim).toMatchObject({
      templateName: expect.stringMatching(/^value-of-ProvisioningTemplateName/) as unknown,
      clientIdPrefix: 'provision-',
      endpoint: 'abc-ats.iot.eu-west-1.amazonaws.com',
    });
    expect(claim.rootCaPem).toContain('BEGIN CERTIFICATE');
  });

  it('GIVEN the policy cannot be attached THEN the claim certificate is deactivated and deleted', async () => {
    iot.on(AttachPolicyCommand).rejects(new Error('no such policy'));
    await expect(claims().createClaim()).rejects.toThrow('no such policy');
    expect(iot.commandCalls(UpdateCertificateCommand)[0]?.args[0].input).toEqual({
      certificateId: 'claim123',
      newStatus: 'INACTIVE',
    });
    expect(iot.commandCalls(DeleteCertificateCommand)).toHaveLength(1);
  });

  it('GIVEN a stack deployed without fleet provisioning THEN it says so', async () => {
    cloudFormation.on(DescribeStacksCommand).resolves({
      Stacks: [
        { StackName: 'AiotPipeline', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: [] },
      ],
    });
    await expect(claims().createClaim()).rejects.toThrow('has no fleet provisioning outputs');
  });
});
