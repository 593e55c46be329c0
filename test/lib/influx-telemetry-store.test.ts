import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  InfluxTelemetryStore,
  type InfluxTelemetryStoreProps,
} from '../../lib/constructs/influx-telemetry-store.ts';
import { constructHarness, pipelineStack, testApp } from '../support/cdk.ts';

// The default store: what a new account gets from `npx cdk deploy`.
const stack = pipelineStack(testApp(), {
  modelArtifacts: { 'pump-maintenance': 'models/pump/model.tar.gz' },
});
const template = Template.fromStack(stack);

type Resource = { Properties: Record<string, unknown> };

function functionWith(description: RegExp): Resource {
  const found = Object.values(
    template.findResources('AWS::Lambda::Function') as Record<string, Resource>,
  ).find((fn) => description.test(String(fn.Properties.Description)));
  if (!found) throw new Error(`no function described ${String(description)}`);
  return found;
}

const logicalIdOf = (construct: { node: { defaultChild?: unknown } }) =>
  stack.getLogicalId(construct.node.defaultChild as Parameters<typeof stack.getLogicalId>[0]);

/** Every secret a role's policies may read, by logical id. */
function secretsReadBy(functionDescription: RegExp): string[] {
  const role = (functionWith(functionDescription).Properties.Role as { 'Fn::GetAtt': [string] })[
    'Fn::GetAtt'
  ][0];
  const policies = Object.values(
    template.findResources('AWS::IAM::Policy') as Record<string, Resource>,
  ).filter((policy) => JSON.stringify(policy.Properties.Roles).includes(role));
  return policies
    .flatMap(
      (p) =>
        (p.Properties.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement,
    )
    .filter((s) => JSON.stringify(s.Action).includes('secretsmanager:GetSecretValue'))
    .flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]) as { Ref?: string }[])
    .flatMap((resource) => (resource.Ref ? [resource.Ref] : []))
    .filter((id, index, all) => all.indexOf(id) === index)
    .sort();
}

describe('InfluxTelemetryStore, the default store', () => {
  const influx = stack.influx;
  if (!influx) throw new Error('the default stack has no InfluxDB store');
  const ids = {
    write: logicalIdOf(influx.writeTokenSecret),
    read: logicalIdOf(influx.readTokenSecret),
    admin: logicalIdOf(influx.adminSecret),
    clients: stack.getLogicalId(
      influx.clientSecurityGroup.node.defaultChild as Parameters<typeof stack.getLogicalId>[0],
    ),
  };

  it('GIVEN no store setting THEN the stack creates Timestream for InfluxDB and nothing of LiveAnalytics, which new accounts cannot create', () => {
    template.resourceCountIs('AWS::Timestream::InfluxDBInstance', 1);
    template.resourceCountIs('AWS::Timestream::Database', 0);
    template.resourceCountIs('AWS::Timestream::Table', 0);
  });

  it("GIVEN the manifests' retention and the default fleet THEN the disk holds two and three years of 100 devices a use case at one reading a second, with room, and an alarm fires before it is full", () => {
    // 100 × 86,400 × 64 B a day for 730 (pumps) and 1,095 (HVAC) days, plus two weeks each, at 70 %.
    const perDeviceDayGib = (86_400 * 64) / 1024 ** 3;
    const expected = Math.ceil((100 * perDeviceDayGib * (730 + 1095 + 14 + 14)) / 0.7);
    template.hasResourceProperties('AWS::Timestream::InfluxDBInstance', { AllocatedStorage: expected });
    expect(expected).toBeGreaterThan(1000);

    const [instance] = Object.values(
      template.findResources('AWS::Timestream::InfluxDBInstance') as Record<string, Resource>,
    );
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/TimestreamInfluxDB',
      MetricName: 'DiskUtilization',
      Dimensions: [{ Name: 'DbInstanceName', Value: instance?.Properties.Name }],
      Threshold: 80,
      ComparisonOperator: 'GreaterThanThreshold',
      // Every alarm of the stack notifies the operations topic.
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('^Operations') })],
    });
  });

  it('GIVEN a fleet too large for one instance THEN synth refuses it, saying what to change; GIVEN a disk below the plan THEN it warns', () => {
    expect(() => pipelineStack(testApp(), { fleet: { devicesPerUseCase: 2000 } })).toThrow(
      /the readings need [\d,]+ GiB of InfluxDB disk, above the 15,360 GiB an instance takes/,
    );
    const small = pipelineStack(testApp(), { influx: { allocatedStorage: 100 } });
    const warnings = Annotations.fromStack(small).findWarning(
      '*',
      Match.stringLikeRegexp('allocatedStorage 100 GiB is below'),
    );
    expect(warnings).toHaveLength(1);
  });

  it('GIVEN the instance THEN it is private, in two subnets, admits only the functions on its port, and outlives the stack', () => {
    template.hasResource('AWS::Timestream::InfluxDBInstance', {
      Properties: Match.objectLike({
        PubliclyAccessible: false,
        DbInstanceType: 'db.influx.medium',
        // Named: its CloudWatch metrics are by name.
        Name: Match.stringLikeRegexp('^[A-Za-z][A-Za-z0-9-]{2,39}$'),
        // The password is resolved by CloudFormation from the secret, never written in the template.
        Password: Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('resolve:secretsmanager')])]),
        }),
      }),
      DeletionPolicy: 'Retain',
    });
    const [instance] = Object.values(
      template.findResources('AWS::Timestream::InfluxDBInstance') as Record<string, Resource>,
    );
    expect(instance?.Properties.VpcSubnetIds).toHaveLength(2);
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      IpProtocol: 'tcp',
      FromPort: 8086,
      ToPort: 8086,
      SourceSecurityGroupId: { 'Fn::GetAtt': [ids.clients, 'GroupId'] },
    });
    const instanceGroup = template.findResources('AWS::EC2::SecurityGroup', {
      Properties: { GroupDescription: Match.stringLikeRegexp('InfluxDB instance') },
    });
    expect(JSON.stringify(instanceGroup)).not.toContain('0.0.0.0/0');
  });

  it('GIVEN the VPC THEN it spans two AZs without NAT, logs its flows, and reaches AWS through endpoints that admit the functions only', () => {
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    template.resourceCountIs('AWS::EC2::Subnet', 2);
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
    // No SNS: no function in the VPC publishes (the notify function, outside it, does). SageMaker's
    // API: with a deployed model, the console lists its versions and fine-tuning starts jobs.
    for (const service of ['secretsmanager', 'events', 'sqs', 'sagemaker.runtime', 'sagemaker.api']) {
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        ServiceName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([`.${service}`])]) }),
        VpcEndpointType: 'Interface',
        PrivateDnsEnabled: true,
      });
    }
    template.resourceCountIs('AWS::EC2::VPCEndpoint', 7);
    const endpointIngress = Object.values(
      template.findResources('AWS::EC2::SecurityGroup', {
        Properties: { GroupDescription: Match.stringLikeRegexp('/Vpc/') },
      }) as Record<string, Resource>,
    ).flatMap((group) => (group.Properties.SecurityGroupIngress as unknown[] | undefined) ?? []);
    expect(JSON.stringify(endpointIngress)).not.toContain('CidrIp');
  });

  it('GIVEN the ingest function THEN it runs in the VPC in the clients group, writes to its bucket, and reads the write token only', () => {
    const ingest = functionWith(/^Validates and stores pump-maintenance/);
    expect(ingest.Properties.VpcConfig).toEqual({
      SecurityGroupIds: [{ 'Fn::GetAtt': [ids.clients, 'GroupId'] }],
      SubnetIds: expect.arrayContaining([expect.anything(), expect.anything()]) as unknown,
    });
    expect(ingest.Properties.Environment).toEqual({
      Variables: expect.objectContaining({
        TELEMETRY_STORE: 'influxdb',
        INFLUX_BUCKET: 'pump-maintenance',
        INFLUX_TOKEN_SECRET: { Ref: ids.write },
        MAX_RECORD_AGE_DAYS: '730',
      }) as unknown,
    });
    expect(JSON.stringify(ingest.Properties.Environment)).not.toContain('TIMESTREAM');
    expect(secretsReadBy(/^Validates and stores pump-maintenance/)).toEqual([ids.write]);
  });

  it('GIVEN the drift and console functions THEN they run in the VPC and read the read-only token, never the write token or the admin secret', () => {
    for (const description of [/^Drift checks/, /^The operator console API/]) {
      expect(functionWith(description).Properties.VpcConfig).toBeDefined();
      expect(secretsReadBy(description)).toEqual([ids.read]);
      expect(functionWith(description).Properties.Environment).toEqual({
        Variables: expect.objectContaining({
          TELEMETRY_STORE: 'influxdb',
          INFLUX_BUCKETS: expect.anything() as unknown,
          INFLUX_TOKEN_SECRET: { Ref: ids.read },
        }) as unknown,
      });
    }
  });

  it('GIVEN the setup resource THEN it makes a bucket per use case with the manifest retention and the admin secret is read by it alone', () => {
    template.hasResourceProperties('Custom::AiotInfluxSetup', {
      Buckets: [
        { name: 'hvac-energy', retentionSeconds: 1095 * 24 * 3600 },
        { name: 'pump-maintenance', retentionSeconds: 730 * 24 * 3600 },
      ],
      AdminSecretArn: { Ref: ids.admin },
      WriteTokenSecretArn: { Ref: ids.write },
      ReadTokenSecretArn: { Ref: ids.read },
    });
    expect(secretsReadBy(/InfluxDB buckets/)).toEqual([ids.admin, ids.read, ids.write].sort());
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      KmsKeyId: Match.anyValue(),
      GenerateSecretString: Match.objectLike({ GenerateStringKey: 'password', ExcludePunctuation: true }),
    });
  });

  it('GIVEN a new token rotation value WHEN synthesized THEN the setup resource changes, so the deployment issues fresh tokens', () => {
    const setupOf = (tokenRotation?: string) =>
      Template.fromStack(
        pipelineStack(testApp(), tokenRotation === undefined ? {} : { influx: { tokenRotation } }),
      ).findResources('Custom::AiotInfluxSetup');
    expect(JSON.stringify(setupOf())).toContain('"TokenRotation":"1"');
    expect(JSON.stringify(setupOf('2026-12-01'))).toContain('"TokenRotation":"2026-12-01"');
  });

  it('GIVEN the stack outputs THEN the InfluxDB URL and the read token secret are among them', () => {
    expect(
      Object.keys(template.toJSON().Outputs as object)
        .filter((id) => id.startsWith('InfluxDb'))
        .sort(),
    ).toEqual(['InfluxDbAdminSecretArn', 'InfluxDbReadTokenSecretArn', 'InfluxDbUrl']);
  });

  const harness = (props: Partial<InfluxTelemetryStoreProps>) => {
    const { stack: bare, key } = constructHarness();
    return new InfluxTelemetryStore(bare, 'Store', {
      useCases: [{ id: 'pump', retention: Duration.days(30) }],
      encryptionKey: key,
      ...props,
    });
  };

  it.each([
    [
      { instanceType: 'm5.large' },
      'instanceType must be a Timestream for InfluxDB type such as db.influx.medium, got "m5.large"',
    ],
    [
      { allocatedStorage: 10 },
      'allocatedStorage must be a whole number of GiB from 20 to 15360 (the most an update accepts), got 10',
    ],
    [
      { allocatedStorage: 16384 },
      'allocatedStorage must be a whole number of GiB from 20 to 15360 (the most an update accepts), got 16384',
    ],
    [{ useCases: [] }, 'InfluxTelemetryStore needs at least one use case, got none'],
    [
      { useCases: [{ id: 'Pump Line', retention: Duration.days(1) }] },
      'use case id "Pump Line" is not an InfluxDB bucket name',
    ],
    [
      { useCases: [{ id: 'pump', retention: Duration.minutes(5) }] },
      'retention of pump must be at least 1 hour, got 5 minutes',
    ],
  ])('refuses %o with the bad value in the message', (props, message) => {
    expect(() => harness(props)).toThrow(message);
  });

  it('GIVEN the retained instance WHEN the stack is deleted THEN what its network interfaces sit in stays too: the VPC, its subnets and the instance group', () => {
    const retained = (type: string) =>
      Object.entries(template.findResources(type))
        .filter(([, resource]) => (resource as { DeletionPolicy?: string }).DeletionPolicy === 'Retain')
        .map(([id]) => id);

    expect(retained('AWS::Timestream::InfluxDBInstance')).toHaveLength(1);
    expect(retained('AWS::EC2::VPC')).toHaveLength(1);
    expect(retained('AWS::EC2::Subnet')).toHaveLength(2);
    expect(retained('AWS::EC2::SecurityGroup')).toEqual([
      logicalIdOf(stack.influx?.instanceSecurityGroup ?? stack),
    ]);
  });

  it('GIVEN an instance the stack may destroy THEN nothing of its network is retained', () => {
    const store = harness({ removalPolicy: RemovalPolicy.DESTROY });
    const bare = Template.fromStack(Stack.of(store)).toJSON() as {
      Resources: Record<string, { Type: string; DeletionPolicy?: string }>;
    };

    const network = Object.values(bare.Resources).filter((r) => /^AWS::(EC2|Timestream)::/.test(r.Type));
    expect(network.length).toBeGreaterThan(5);
    expect(network.filter((r) => r.DeletionPolicy === 'Retain')).toEqual([]);
  });

  it('GIVEN the setup resource THEN it is deleted before the Secrets Manager endpoint its Delete reads the tokens through', () => {
    const [setup] = Object.values(template.findResources('Custom::AiotInfluxSetup')) as {
      DependsOn?: string[];
    }[];
    const secretsEndpoint = Object.entries(template.findResources('AWS::EC2::VPCEndpoint')).find(([, e]) =>
      JSON.stringify(e).includes('secretsmanager'),
    )?.[0];

    expect(secretsEndpoint).toBeDefined();
    expect(setup?.DependsOn).toContain(secretsEndpoint);
  });

  it('GIVEN a replacement the stack allows THEN the setup resource is told so; by default it is not', () => {
    const setupOf = (store: InfluxTelemetryStore) =>
      Object.values(
        Template.fromStack(Stack.of(store)).findResources('Custom::AiotInfluxSetup') as Record<
          string,
          { Properties: Record<string, unknown> }
        >,
      )[0]?.Properties;

    expect(setupOf(harness({}))).not.toHaveProperty('AllowInstanceReplacement');
    expect(setupOf(harness({ allowInstanceReplacement: true }))).toHaveProperty(
      'AllowInstanceReplacement',
      'true',
    );
  });

  it('GIVEN a use case it has no bucket for WHEN asked THEN it names the buckets it has', () => {
    expect(() => harness({}).useCase('fans')).toThrow('no InfluxDB bucket for use case "fans" (pump)');
  });
});

describe('PipelineStack with -c store=liveanalytics', () => {
  it('GIVEN the LiveAnalytics choice THEN no VPC or InfluxDB is created and the functions run outside any VPC', () => {
    const live = Template.fromStack(pipelineStack(testApp(), { telemetryStore: 'liveanalytics' }));
    live.resourceCountIs('AWS::Timestream::InfluxDBInstance', 0);
    live.resourceCountIs('AWS::EC2::VPC', 0);
    // A database per use case.
    live.resourceCountIs('AWS::Timestream::Database', 2);
    for (const fn of Object.values(live.findResources('AWS::Lambda::Function') as Record<string, Resource>)) {
      expect(fn.Properties.VpcConfig).toBeUndefined();
    }
  });
});
