import * as path from 'node:path';
import { CfnOutput, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as iot from 'aws-cdk-lib/aws-iot';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  CLAIM_CLIENT_ID_PREFIX,
  PROVISIONING_TOPICS,
  provisioningTemplateBody,
  siteThingGroup,
} from '../../core/provisioning/claim.ts';
import { certificateRuleSql } from '../../core/provisioning/rotation.ts';
import { serviceOfThisAccount } from '../grants.ts';
import { serviceFunction, type ServiceFunction } from '../service-function.ts';
import { recordTableProps } from '../record-table.ts';

const LAMBDAS = path.join(import.meta.dirname, '..', '..', 'lambdas');

export interface FleetProvisioningProps {
  /** The device policy of each use case, by use-case id: what a provisioned device gets. */
  readonly devicePolicies: ReadonlyMap<string, string>;
  /** Encrypts the allow-list table. */
  readonly encryptionKey: kms.IKey;
  /**
   * What happens to the allow-list when the stack goes: it records which serial numbers were
   * admitted and with which certificate. @default RemovalPolicy.RETAIN
   */
  readonly allowListRemovalPolicy?: RemovalPolicy;
}

/**
 * Fleet provisioning by claim: a provisioning template whose pre-provisioning hook admits only
 * serial numbers on the allow-list (each once), makes each device the thing the list names, in
 * its use-case and site thing groups, with its use case's device policy; and the claim policy a
 * factory's claim certificate gets, which allows nothing but asking for an identity.
 */
export class FleetProvisioning extends Construct {
  readonly template: iot.CfnProvisioningTemplate;
  readonly templateName: string;
  readonly claimPolicy: iot.CfnPolicy;
  readonly allowList: dynamodb.Table;
  /** Hears devices that connected with a renewed certificate, and retires the one it replaced. */
  readonly certificateRule: iot.CfnTopicRule;

  constructor(scope: Construct, id: string, props: FleetProvisioningProps) {
    super(scope, id);
    if (props.devicePolicies.size === 0)
      throw new Error('FleetProvisioning needs at least one use case, got none');
    const stack = Stack.of(this);
    const arn = (service: string, resource: string, resourceName: string) =>
      stack.formatArn({ service, resource, resourceName });

    this.allowList = new dynamodb.Table(this, 'AllowList', {
      partitionKey: { name: 'serialNumber', type: dynamodb.AttributeType.STRING },
      ...recordTableProps(props.encryptionKey),
      removalPolicy: props.allowListRemovalPolicy ?? RemovalPolicy.RETAIN,
    });

    const hook = this.provisioningHook(props);
    const role = this.provisioningRole();
    this.template = new iot.CfnProvisioningTemplate(this, 'Template', {
      description: `${stack.stackName}: devices provision themselves from a claim certificate`,
      enabled: true,
      templateType: 'FLEET_PROVISIONING',
      provisioningRoleArn: role.roleArn,
      templateBody: JSON.stringify(provisioningTemplateBody()),
      preProvisioningHook: { targetArn: hook.fn.functionArn, payloadVersion: '2020-04-01' },
    });
    // IoT Core checks that it may invoke the hook when the template is made.
    this.template.node.addDependency(hook.fn.permissionsNode.findChild('IotInvokes'));
    this.templateName = this.template.ref;

    this.claimPolicy = new iot.CfnPolicy(this, 'ClaimPolicy', {
      policyDocument: claimPolicyDocument(arn, this.templateName),
    });

    this.certificateRule = this.retireReplacedCertificates(props.encryptionKey);

    this.outputs();
  }

  /**
   * The pre-provisioning hook: admits allow-listed serial numbers once each, may create this
   * stack's thing groups and retire replaced certificates, and only IoT Core may invoke it.
   */
  private provisioningHook(props: FleetProvisioningProps): ServiceFunction {
    const stack = Stack.of(this);
    const hook = serviceFunction(this, {
      prefix: 'Hook',
      entry: path.join(LAMBDAS, 'provisioning-hook', 'handler.ts'),
      description: 'IoT pre-provisioning hook: admits allow-listed serial numbers, once each',
      roleDescription: 'Reads and marks the provisioning allow-list; creates the thing groups devices join',
      environment: {
        ALLOW_LIST_TABLE: this.allowList.tableName,
        STACK_NAME: stack.stackName,
        DEVICE_POLICIES: stack.toJsonString(Object.fromEntries(props.devicePolicies)),
      },
      memorySize: 256,
      // IoT Core waits 5 s for the hook, then refuses the device.
      timeout: Duration.seconds(5),
    });
    this.allowList.grant(hook.role, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    // What DynamoDB asks of a caller on a table under a customer managed key; no ReEncrypt* or GenerateDataKey*.
    props.encryptionKey.grant(hook.role, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt');
    const groups = stack.formatArn({
      service: 'iot',
      resource: 'thinggroup',
      resourceName: `${stack.stackName}-*`,
    });
    hook.role.addToPrincipalPolicy(
      new iam.PolicyStatement({ actions: ['iot:CreateThingGroup'], resources: [groups] }),
    );
    Validations.of(hook.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:thinggroup/${stack.stackName}-*]`,
      reason: "Sites are known when their first device arrives; the hook makes only this stack's groups.",
    });
    this.grantRetireCertificates(hook.role);
    const templates = stack.formatArn({
      service: 'iot',
      resource: 'provisioningtemplate',
      resourceName: '*',
    });
    hook.fn.addPermission('IotInvokes', {
      principal: new iam.ServicePrincipal('iot.amazonaws.com'),
      sourceAccount: stack.account,
      sourceArn: templates,
    });

    return hook;
  }

  /** The role IoT Core takes to register a device: AWS's managed policy for exactly that. */
  private provisioningRole(): iam.Role {
    const role = new iam.Role(this, 'ProvisioningRole', {
      // IoT names the provisioning template in aws:SourceArn when it assumes the role.
      assumedBy: serviceOfThisAccount(this, 'iot.amazonaws.com', {
        service: 'iot',
        resource: 'provisioningtemplate/*',
      }),
      description: 'IoT fleet provisioning: registers things, certificates and policy attachments',
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSIoTThingsRegistration')],
    });
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSIoTThingsRegistration]',
      reason:
        'The policy AWS keeps for exactly this role: what fleet provisioning needs to register a device.',
    });

    return role;
  }

  private outputs(): void {
    const stack = Stack.of(this);
    new CfnOutput(this, 'TemplateName', {
      value: this.templateName,
      description: 'Fleet provisioning template a device names when it registers with its claim certificate',
    });
    new CfnOutput(this, 'ClaimPolicyName', {
      value: this.claimPolicy.ref,
      description: 'IoT policy to attach to the claim certificate that devices leave the factory with',
    });
    new CfnOutput(this, 'AllowListTableName', {
      value: this.allowList.tableName,
      description: `Serial numbers admitted to provision themselves (site thing groups: ${siteThingGroup(stack.stackName, '<site>')})`,
    });
  }

  /** Renewals retire certificates: deactivate them and detach them from their thing. */
  private grantRetireCertificates(role: iam.IRole): void {
    const stack = Stack.of(this);
    // IAM authorizes DetachThingPrincipal on the certificate (the principal), not on the thing:
    // a grant on things alone would be refused at the first renewal.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['iot:DescribeCertificate', 'iot:UpdateCertificate', 'iot:DetachThingPrincipal'],
        resources: [stack.formatArn({ service: 'iot', resource: 'cert', resourceName: '*' })],
      }),
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iot:<AWS::Region>:<AWS::AccountId>:cert/*]',
      reason:
        'Certificate ids are made by IoT Core when a device renews; the code retires (deactivates, detaches from its thing) only ids the allow-list records for that device.',
    });
  }

  /**
   * The rule on `dt/+/+/certificate`: a device publishes there once it is connected with a renewed
   * certificate. IoT Core adds its client id and certificate, so a device retires only its own.
   */
  private retireReplacedCertificates(encryptionKey: kms.IKey): iot.CfnTopicRule {
    const stack = Stack.of(this);
    const retire = serviceFunction(this, {
      prefix: 'Retire',
      entry: path.join(LAMBDAS, 'certificate-rotation', 'handler.ts'),
      description: 'Retires the certificate a device replaced, once it connects with its renewed one',
      roleDescription:
        'Reads the provisioning allow-list; deactivates and detaches replaced device certificates',
      environment: { ALLOW_LIST_TABLE: this.allowList.tableName },
      memorySize: 256,
      timeout: Duration.seconds(30),
    });
    this.allowList.grant(retire.role, 'dynamodb:GetItem', 'dynamodb:UpdateItem');
    encryptionKey.grant(retire.role, 'kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt');
    this.grantRetireCertificates(retire.role);
    const errors = new logs.LogGroup(this, 'CertificateRuleErrors', {
      retention: logs.RetentionDays.ONE_YEAR,
    });
    const role = new iam.Role(this, 'CertificateRuleRole', {
      assumedBy: serviceOfThisAccount(this, 'iot.amazonaws.com', { service: 'iot', resource: 'rule/*' }),
      description: 'Lets the certificate rule log the confirmations it could not deliver',
    });
    errors.grantWrite(role);
    const rule = new iot.CfnTopicRule(this, 'CertificateRule', {
      topicRulePayload: {
        sql: certificateRuleSql(),
        awsIotSqlVersion: '2016-03-23',
        ruleDisabled: false,
        description: 'A device connected with its renewed certificate: retire the one it replaced',
        actions: [{ lambda: { functionArn: retire.fn.functionArn } }],
        errorAction: { cloudwatchLogs: { logGroupName: errors.logGroupName, roleArn: role.roleArn } },
      },
    });
    retire.fn.addPermission('IotInvokes', {
      principal: new iam.ServicePrincipal('iot.amazonaws.com'),
      sourceAccount: stack.account,
      sourceArn: rule.attrArn,
    });
    return rule;
  }
}

/** The claim certificate may do nothing but ask for an identity and hear the answer. */
function claimPolicyDocument(
  arn: (service: string, resource: string, resourceName: string) => string,
  templateName: string,
): Record<string, unknown> {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ConnectToProvisionOnly',
        Effect: 'Allow',
        Action: 'iot:Connect',
        Resource: arn('iot', 'client', `${CLAIM_CLIENT_ID_PREFIX}*`),
      },
      {
        Sid: 'AskForAnIdentity',
        Effect: 'Allow',
        Action: 'iot:Publish',
        Resource: [
          arn('iot', 'topic', PROVISIONING_TOPICS.createFromCsr),
          arn('iot', 'topic', PROVISIONING_TOPICS.register(templateName)),
        ],
      },
      {
        Sid: 'HearTheAnswer',
        Effect: 'Allow',
        Action: 'iot:Receive',
        Resource: [
          arn('iot', 'topic', `${PROVISIONING_TOPICS.createFromCsr}/*`),
          arn('iot', 'topic', `${PROVISIONING_TOPICS.register(templateName)}/*`),
        ],
      },
      {
        Sid: 'SubscribeToTheAnswer',
        Effect: 'Allow',
        Action: 'iot:Subscribe',
        Resource: [
          arn('iot', 'topicfilter', `${PROVISIONING_TOPICS.createFromCsr}/*`),
          arn('iot', 'topicfilter', `${PROVISIONING_TOPICS.register(templateName)}/*`),
        ],
      },
    ],
  };
}
