import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { pipelineStack, testApp, LIVE_ANALYTICS } from '../support/cdk.ts';

const stack = pipelineStack(testApp(), LIVE_ANALYTICS);
const template = Template.fromStack(stack);

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Principal?: unknown;
  Condition?: unknown;
}

function statementsOfRole(rolePattern: string): Statement[] {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: [{ Ref: Match.stringLikeRegexp(rolePattern) }] },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Statement[] } } }).Properties.PolicyDocument
        .Statement,
  );
}

const actionsOf = (statements: Statement[]) =>
  statements.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));

describe('OperatorConsole', () => {
  it('GIVEN the stack WHEN synthesized THEN every API route requires a Cognito token of the console client', () => {
    const routes = template.findResources('AWS::ApiGatewayV2::Route');
    expect(Object.keys(routes).length).toBeGreaterThan(0);
    for (const route of Object.values(routes) as { Properties: Record<string, unknown> }[]) {
      expect(route.Properties).toMatchObject({
        AuthorizationType: 'JWT',
        AuthorizerId: { Ref: expect.any(String) as unknown },
        RouteKey: expect.stringMatching(/^(GET|POST) \/api\/\{proxy\+\}$/) as unknown,
      });
    }
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      JwtConfiguration: {
        Audience: [{ Ref: Match.stringLikeRegexp('ConsoleUsersConsole') }],
        Issuer: Match.objectLike({
          'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('cognito-idp')])]),
        }),
      },
    });
  });

  it('GIVEN the site bucket THEN it is private, TLS-only, logged, and readable by the distribution alone (origin access control)', () => {
    const buckets = template.findResources('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: { LogFilePrefix: 'console-site/' } },
    });
    const [bucketId, bucket] = Object.entries(buckets)[0] ?? [];
    expect(bucket).toMatchObject({
      Properties: {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      },
    });
    const policy = Object.values(
      template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }),
    )[0] as { Properties: { PolicyDocument: { Statement: Statement[] } } };
    const allows = policy.Properties.PolicyDocument.Statement.filter((s) => s.Effect === 'Allow');
    expect(allows).toEqual([
      expect.objectContaining({
        Action: 's3:GetObject',
        Principal: { Service: 'cloudfront.amazonaws.com' },
        Condition: { StringEquals: { 'AWS:SourceArn': expect.anything() as unknown } },
      }),
    ]);
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  it('GIVEN the distribution THEN pages come from the bucket through OAC and /api/* goes uncached to the HTTP API, both over HTTPS with a strict CSP', () => {
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        Logging: Match.objectLike({ Prefix: 'console-cdn/' }),
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/api/*',
            ViewerProtocolPolicy: 'https-only',
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad',
            AllowedMethods: Match.arrayWith(['POST']),
          }),
        ],
        Origins: Match.arrayWith([
          Match.objectLike({ OriginAccessControlId: Match.anyValue(), S3OriginConfig: Match.anyValue() }),
          Match.objectLike({ CustomOriginConfig: Match.objectLike({ OriginProtocolPolicy: 'https-only' }) }),
        ]),
      }),
    });
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: Match.objectLike({
            ContentSecurityPolicy: Match.stringLikeRegexp("script-src 'self'.*frame-ancestors 'none'"),
          }),
        }),
      }),
    });
  });

  it('GIVEN the same stack in two regions of one account THEN its CloudFront names, unique per account, differ', () => {
    const names = ['eu-west-1', 'us-east-1'].map((region) => {
      const regional = Template.fromStack(
        pipelineStack(testApp(), { ...LIVE_ANALYTICS, env: { account: '123456789012', region } }),
      );
      const [headers] = Object.values(regional.findResources('AWS::CloudFront::ResponseHeadersPolicy'));
      const [access] = Object.values(regional.findResources('AWS::CloudFront::OriginAccessControl'));
      return [
        (headers as { Properties: { ResponseHeadersPolicyConfig: { Name: string } } }).Properties
          .ResponseHeadersPolicyConfig.Name,
        (access as { Properties: { OriginAccessControlConfig: { Name: string } } }).Properties
          .OriginAccessControlConfig.Name,
      ];
    });

    const [west = [], east = []] = names;
    expect(west[0]).not.toBe(east[0]);
    expect(west[1]).not.toBe(east[1]);
    // CloudFront's limits: 128 characters for a policy, 64 for an origin access control.
    expect(Math.max(...names.map(([policy = '']) => policy.length))).toBeLessThanOrEqual(128);
    expect(Math.max(...names.map(([, access = '']) => access.length))).toBeLessThanOrEqual(64);
  });

  it('GIVEN the user pool THEN sign-up is closed, a second factor is required and the five groups exist', () => {
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12 }) },
    });
    const groups = Object.values(template.findResources('AWS::Cognito::UserPoolGroup')).map(
      (g) => (g as { Properties: { GroupName: string } }).Properties.GroupName,
    );
    expect(groups.sort()).toEqual([
      'analysts',
      'auditors',
      'ml-engineers',
      'operators',
      'reliability-engineers',
    ]);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      PreventUserExistenceErrors: 'ENABLED',
    });
  });

  it('GIVEN the API function THEN it may read and change alert state and query both Timestream tables, but not delete, scan or write telemetry', () => {
    const actions = actionsOf(statementsOfRole('ConsoleApiRole'));
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:Query',
        'events:PutEvents',
        'timestream:Select',
      ]),
    );
    expect(actions).not.toContain('dynamodb:DeleteItem');
    expect(actions).not.toContain('dynamodb:Scan');
    expect(actions).not.toContain('timestream:WriteRecords');
    expect(actions.filter((a) => a.startsWith('sns:') || a.startsWith('s3:'))).toEqual([]);
    const select = statementsOfRole('ConsoleApiRole').find((s) => s.Action === 'timestream:Select');
    expect(JSON.stringify(select?.Resource)).toContain('/table/inferences');
  });

  it('GIVEN the kept KPI days THEN the API function is told their table and may query it, nothing more', () => {
    const kpiTable = Object.keys(
      template.findResources('AWS::DynamoDB::Table', {
        Properties: { TableName: Match.absent() },
      }),
    ).find((id) => id.startsWith('KpisTable'));
    expect(kpiTable).toBeDefined();
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ KPI_TABLE: { Ref: kpiTable } }) },
      Description: Match.stringLikeRegexp('operator console API'),
    });
    const onKpis = statementsOfRole('ConsoleApiRole').filter((s) =>
      JSON.stringify(s.Resource).includes(kpiTable ?? '-'),
    );
    expect(actionsOf(onKpis)).toEqual(['dynamodb:Query']);
  });

  it("GIVEN edge health reports THEN a rule keeps each device's last one in the alert table, with named figures only", () => {
    template.hasResourceProperties('AWS::IoT::TopicRule', {
      TopicRulePayload: Match.objectLike({
        Sql: "SELECT 'HEALTH#pump-maintenance' AS pk, topic(3) AS sk, timestamp() AS receivedAt, connected, queueDepth, oldestAgeSeconds, readings, spikes FROM 'dt/pump-maintenance/+/health'",
        Actions: [Match.objectLike({ DynamoDBv2: Match.objectLike({ PutItem: Match.anyValue() }) })],
      }),
    });
  });

  it.each([
    [{ domainPrefix: 'Plant_1' }, 'domainPrefix must be lower-case letters, digits and hyphens'],
    [{ domainPrefix: 'my-cognito-login' }, 'got "my-cognito-login"'],
    [{ sessionLength: Duration.minutes(10) }, 'sessionLength must be from 1 hour to 30 days, got 10 minutes'],
  ])('GIVEN console props %j THEN the stack refuses them, naming the value', (console_, message) => {
    expect(() =>
      pipelineStack(testApp(), {
        ...LIVE_ANALYTICS,
        console: console_,
      }),
    ).toThrow(message);
  });
});
