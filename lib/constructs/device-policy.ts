import { Stack } from 'aws-cdk-lib';
import * as iot from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { PROVISIONING_TOPICS } from '../../core/provisioning/claim.ts';
import { certificateTopic } from '../../core/provisioning/rotation.ts';

export interface DeviceTelemetryPolicyProps {
  /** The use case whose telemetry topic devices publish to. */
  readonly useCase: string;
  /** Name of the ingest rule, for the Basic Ingest topic form. */
  readonly ruleName: string;
}

// IoT policy variables are resolved by IoT Core per connection, not by CloudFormation.
const THING = '${iot:Connection.Thing.ThingName}';

/**
 * The IoT policy attached to each device certificate of a use case: a certificate connects only
 * as the thing it is attached to, with that thing's name as client id, and publishes only to that
 * thing's telemetry topic, directly or through Basic Ingest, and to its own health topic; and it
 * renews its own certificate before it expires.
 */
export class DeviceTelemetryPolicy extends Construct {
  readonly policy: iot.CfnPolicy;
  readonly policyName: string;

  constructor(scope: Construct, id: string, props: DeviceTelemetryPolicyProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]*$/.test(props.useCase)) {
      throw new Error(`useCase must be lower-case kebab-case, got "${props.useCase}"`);
    }
    const stack = Stack.of(this);
    const arn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'iot', resource, resourceName });
    this.policy = new iot.CfnPolicy(this, 'Policy', {
      policyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ConnectAsOwnThing',
            Effect: 'Allow',
            Action: 'iot:Connect',
            Resource: arn('client', THING),
            Condition: { Bool: { 'iot:Connection.Thing.IsAttached': 'true' } },
          },
          {
            Sid: 'PublishOwnTelemetry',
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: [
              arn('topic', `dt/${props.useCase}/${THING}/telemetry`),
              arn('topic', `$aws/rules/${props.ruleName}/dt/${props.useCase}/${THING}/telemetry`),
            ],
          },
          {
            Sid: 'PublishOwnHealth',
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: arn('topic', `dt/${props.useCase}/${THING}/health`),
          },
          // Certificate renewal: the device asks over its own connection, as fleet provisioning by
          // claim does. Any template of the account: each one's hook admits a renewal only from
          // the thing with the certificate its allow-list records (the template's name is made
          // after this policy, which its hook names).
          {
            Sid: 'RenewOwnCertificate',
            Effect: 'Allow',
            Action: 'iot:Publish',
            Resource: [
              arn('topic', PROVISIONING_TOPICS.createFromCsr),
              arn('topic', PROVISIONING_TOPICS.register('*')),
              arn('topic', certificateTopic(props.useCase, THING)),
            ],
          },
          {
            Sid: 'HearRenewalAnswers',
            Effect: 'Allow',
            Action: 'iot:Receive',
            Resource: [
              arn('topic', `${PROVISIONING_TOPICS.createFromCsr}/*`),
              arn('topic', `${PROVISIONING_TOPICS.register('*')}/*`),
            ],
          },
          {
            Sid: 'SubscribeToRenewalAnswers',
            Effect: 'Allow',
            Action: 'iot:Subscribe',
            Resource: [
              arn('topicfilter', `${PROVISIONING_TOPICS.createFromCsr}/*`),
              arn('topicfilter', `${PROVISIONING_TOPICS.register('*')}/*`),
            ],
          },
        ],
      },
    });
    this.policyName = this.policy.ref;
  }
}
