import type { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  AttachPolicyCommand,
  CreateKeysAndCertificateCommand,
  DeleteCertificateCommand,
  type IoTClient,
  UpdateCertificateCommand,
} from '@aws-sdk/client-iot';
import { PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { issuesText } from '../../core/contracts/reasons.ts';
import {
  allowListEntrySchema,
  CLAIM_CLIENT_ID_PREFIX,
  type AllowListEntry,
} from '../../core/provisioning/claim.ts';
import { amazonRootCa1, atsEndpoint, bestEffort, stackOutputs } from './device-registration.ts';

/** What a device needs to provision itself: the claim credentials and where to ask. */
export interface ClaimCredentials {
  readonly certificateArn: string;
  readonly certificatePem: string;
  readonly privateKey: string;
  readonly rootCaPem: string;
  readonly endpoint: string;
  readonly templateName: string;
  /** Client ids the claim certificate may connect with start with this. */
  readonly clientIdPrefix: string;
}

interface ProvisioningOutputs {
  readonly templateName: string;
  readonly claimPolicyName: string;
  readonly allowListTable: string;
}

/**
 * The operator's side of fleet provisioning by claim on a deployed stack: admitting serial numbers
 * to the allow-list, and making the claim certificate devices leave the factory with.
 */
export class FleetClaims {
  constructor(
    private readonly iot: IoTClient,
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly cloudFormation: CloudFormationClient,
    readonly stackName: string,
  ) {}

  private async outputs(): Promise<ProvisioningOutputs> {
    const outputs = await stackOutputs(this.cloudFormation, this.stackName);
    const value = (prefix: string) => outputs.find((o) => o.OutputKey?.startsWith(prefix))?.OutputValue;
    const templateName = value('ProvisioningTemplateName');
    const claimPolicyName = value('ProvisioningClaimPolicyName');
    const allowListTable = value('ProvisioningAllowListTableName');
    if (!templateName || !claimPolicyName || !allowListTable)
      throw new Error(
        `stack "${this.stackName}" has no fleet provisioning outputs: it was deployed with fleet provisioning off, or before it existed`,
      );
    return { templateName, claimPolicyName, allowListTable };
  }

  /**
   * Puts a serial number on the allow-list, as the thing and in the use case and site given. A
   * serial already listed is refused unless `again`, which also lets a provisioned serial
   * provision once more (a replaced board, say).
   */
  async admit(
    entry: Omit<AllowListEntry, 'provisionedAt' | 'certificateId'>,
    options: { again?: boolean } = {},
  ) {
    const parsed = allowListEntrySchema.safeParse(entry);
    if (!parsed.success)
      throw new Error(`cannot admit ${entry.serialNumber}: ${issuesText(parsed.error.issues)}`);
    const { allowListTable } = await this.outputs();
    try {
      await this.dynamo.send(
        new PutCommand({
          TableName: allowListTable,
          Item: parsed.data,
          ...(options.again ? {} : { ConditionExpression: 'attribute_not_exists(serialNumber)' }),
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException)
        throw new Error(
          `serial number "${entry.serialNumber}" is on the allow-list already: pass --again to admit it anew (it may then provision once more)`,
          { cause: error },
        );
      throw error;
    }
    return parsed.data;
  }

  /** Makes a claim certificate with the stack's claim policy: it can ask for an identity and nothing else. */
  async createClaim(): Promise<ClaimCredentials> {
    const { templateName, claimPolicyName } = await this.outputs();
    const issued = await this.iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const { certificateArn, certificatePem, certificateId } = issued;
    const privateKey = issued.keyPair?.PrivateKey;
    if (!certificateArn || !certificatePem || !certificateId || !privateKey)
      throw new Error('IoT Core issued no certificate');
    try {
      await this.iot.send(new AttachPolicyCommand({ policyName: claimPolicyName, target: certificateArn }));
      const endpointAddress = await atsEndpoint(this.iot);
      return {
        certificateArn,
        certificatePem,
        privateKey,
        rootCaPem: amazonRootCa1(),
        endpoint: endpointAddress,
        templateName,
        clientIdPrefix: CLAIM_CLIENT_ID_PREFIX,
      };
    } catch (error) {
      // A claim certificate without its policy is of no use: it goes, as far as it can (with no
      // policy, what is left can do nothing).
      await bestEffort([
        () => this.iot.send(new UpdateCertificateCommand({ certificateId, newStatus: 'INACTIVE' })),
        () => this.iot.send(new DeleteCertificateCommand({ certificateId })),
      ]);
      throw error;
    }
  }
}
