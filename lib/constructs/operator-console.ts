import type { ContractRegistry } from '../../core/contracts/registry.ts';
import * as path from 'node:path';
import { CfnOutput, Duration, Fn, Names, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpUserPoolAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { serviceFunction } from '../service-function.ts';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { ROLE_GROUPS } from '../../core/operators/actor.ts';
import type { UseCaseManifest } from '../../core/usecase/manifest.ts';
import { compiledUseCases } from '../use-case-config.ts';
import type { TelemetryReads } from '../telemetry-store.ts';
import { sagemakerArn } from '../grants.ts';
import type { Alerting } from './alerting.ts';
import type { InferenceEndpoint } from './inference-endpoint.ts';
import { API_PATH, consoleDistribution, consoleSiteBucket, deployConsoleSite } from './console-site.ts';

const HANDLER_ENTRY = path.join(import.meta.dirname, '..', '..', 'lambdas', 'console', 'handler.ts');

/** What each Cognito group may do, for the group's description (the API enforces it). */
const GROUP_DESCRIPTIONS: Readonly<Record<string, string>> = {
  operators: 'Answer alerts: acknowledge, false positive with a reason, confirm a fault',
  'reliability-engineers': 'Answer alerts, re-baseline devices, manage silences and maintenance windows',
  'ml-engineers': 'Answer alerts, re-baseline devices, manage silences and maintenance windows',
  analysts: 'Read alerts, devices and KPIs',
  auditors: 'Read alerts, devices, KPIs and who decided what',
};

export interface OperatorConsoleProps {
  /** The use cases the console shows; their manifests are compiled into the API function. */
  readonly useCases: readonly UseCaseManifest[];
  /** The contracts the use cases accept, compiled in with the manifests. */
  readonly contracts: ContractRegistry;
  /** Alerts, baselines and health snapshots (its table), and where decisions publish events (its bus). */
  readonly alerting: Alerting;
  /** Each use case's Timestream database, by use case id: readings and scores for the plots. */
  /** Where every use case's readings and scores are read from. */
  readonly telemetry: TelemetryReads;
  /**
   * The KPI days the KpiSchedule keeps, whose values the use-case page shows.
   * @default - the use-case page shows each KPI's baseline and target, no values
   */
  readonly kpiTable?: dynamodb.ITable;
  /**
   * Each use case's inference endpoint, by use case id: the use-case page lists the versions in the
   * model package group of those with a deployed model.
   * @default - no model versions on the use-case page
   */
  readonly endpoints?: ReadonlyMap<string, InferenceEndpoint>;
  /** Where the site bucket's server access logs and CloudFront's standard logs go (ACLs enabled). */
  readonly accessLogsBucket: s3.IBucket;
  /**
   * Prefix of the Cognito managed-login domain (`<prefix>.auth.<region>.amazoncognito.com`),
   * unique in the region. @default - 'aiot-' with this construct's unique id and the account
   */
  readonly domainPrefix?: string;
  /** Whether people sign in with a second factor (an authenticator app). @default cognito.Mfa.REQUIRED */
  readonly mfa?: cognito.Mfa;
  /** How long a sign-in lasts before the console asks again: about a shift. @default Duration.hours(8) */
  readonly sessionLength?: Duration;
  /** Requests per second the API takes, and its burst. @default { rateLimit: 50, burstLimit: 100 } */
  readonly throttle?: apigwv2.ThrottleSettings;
  /** What happens to the user pool when the stack is deleted. @default RemovalPolicy.RETAIN */
  readonly userPoolRemovalPolicy?: RemovalPolicy;
}

/**
 * The operator console in the cloud: the same page as `npm start` serves, from a private S3 bucket
 * through CloudFront (origin access control), with `/api/*` routed by CloudFront to an HTTP API, so
 * the page and its API share an origin. People sign in with a Cognito user pool (managed login,
 * authorization code with PKCE); the API's authorizer checks every token and the function takes
 * the actor from the token's group only.
 */
export class OperatorConsole extends Construct {
  readonly userPool: cognito.UserPool;
  readonly userPoolClient: cognito.UserPoolClient;
  readonly domain: cognito.UserPoolDomain;
  readonly siteBucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly api: apigwv2.HttpApi;
  readonly apiFunction: nodejs.NodejsFunction;
  /** The console's address. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: OperatorConsoleProps) {
    super(scope, id);
    validate(props);

    this.userPool = this.createUserPool(props);
    this.domain = this.userPool.addDomain('Login', {
      cognitoDomain: { domainPrefix: props.domainPrefix ?? this.defaultDomainPrefix() },
    });
    this.apiFunction = this.createFunction(props);
    this.api = this.createApi(props);
    this.siteBucket = consoleSiteBucket(this, props.accessLogsBucket);
    this.distribution = consoleDistribution(this, this.siteBucket, this.api, props.accessLogsBucket);
    this.url = `https://${this.distribution.distributionDomainName}/`;

    this.userPoolClient = this.userPool.addClient('Console', {
      generateSecret: false,
      authFlows: {},
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
        callbackUrls: [this.url],
        logoutUrls: [this.url],
      },
      supportedIdentityProviders: [cognito.UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: props.sessionLength ?? Duration.hours(8),
      enableTokenRevocation: true,
    });
    this.api.addRoutes({
      path: `${API_PATH}/{proxy+}`,
      methods: [apigwv2.HttpMethod.GET, apigwv2.HttpMethod.POST],
      integration: new HttpLambdaIntegration('Operators', this.apiFunction),
      authorizer: new HttpUserPoolAuthorizer('Cognito', this.userPool, {
        userPoolClients: [this.userPoolClient],
      }),
    });
    // API Gateway may invoke the function for this API's routes (the integration's SourceArn), and
    // for this account: stated too, as AWS Control Tower's CT.LAMBDA.PR.2 reads it.
    for (const permission of this.api.node.findAll()) {
      if (permission instanceof lambda.CfnPermission) permission.sourceAccount = Stack.of(this).account;
    }

    deployConsoleSite(this, this.siteBucket, this.distribution, {
      mode: 'cognito',
      domain: this.domain.baseUrl(),
      clientId: this.userPoolClient.userPoolClientId,
    });

    new CfnOutput(this, 'Url', { description: 'The operator console', value: this.url });
    new CfnOutput(this, 'UserPoolId', {
      description: `Add people here, to one of the groups ${ROLE_GROUPS.map(([g]) => g).join(', ')}`,
      value: this.userPool.userPoolId,
    });
  }

  private defaultDomainPrefix(): string {
    // Cognito domains are global per region: the account keeps two deployments apart.
    const unique = Names.uniqueId(this)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, '')
      .slice(-20);
    return Fn.join('-', ['aiot', unique, Stack.of(this).account]);
  }

  private createUserPool(props: OperatorConsoleProps): cognito.UserPool {
    const pool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      mfa: props.mfa ?? cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
      },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: props.userPoolRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    ROLE_GROUPS.forEach(([group], precedence) => {
      new cognito.UserPoolGroup(this, `Group-${group}`, {
        userPool: pool,
        groupName: group,
        description: GROUP_DESCRIPTIONS[group],
        precedence,
      });
    });
    return pool;
  }

  private createFunction(props: OperatorConsoleProps): nodejs.NodejsFunction {
    const deployed = [...(props.endpoints ?? [])].filter(([, e]) => e.endpoint);
    const { fn, role } = serviceFunction(this, {
      prefix: 'Api',
      entry: HANDLER_ENTRY,
      description: 'The operator console API: reads for people, and their decisions',
      roleDescription:
        "Reads alerts, devices and readings for the operator console and records people's decisions",
      memorySize: 512,
      timeout: Duration.seconds(15),
      environment: {
        ALERT_TABLE: props.alerting.table.tableName,
        EVENT_BUS_NAME: props.alerting.bus.eventBusName,
        ...props.telemetry.readerEnvironment,
        ...(props.kpiTable ? { KPI_TABLE: props.kpiTable.tableName } : {}),
        ...(deployed.length > 0
          ? {
              MODEL_PACKAGE_GROUPS: Stack.of(this).toJsonString(
                Object.fromEntries(deployed.map(([useCase, e]) => [useCase, e.modelPackageGroupName])),
              ),
            }
          : {}),
        POWERTOOLS_SERVICE_NAME: 'operator-console',
      },
      define: compiledUseCases(props.useCases, props.contracts),
      ...(props.telemetry.network ? { network: props.telemetry.network } : {}),
    });
    props.alerting.grantDecisions(role);
    props.telemetry.grantRead(role);
    // The use-case page queries one use case's days: no scans, no writes.
    props.kpiTable?.grant(role, 'dynamodb:Query');
    props.kpiTable?.encryptionKey?.grantDecrypt(role);
    if (deployed.length > 0) grantRegistryReads(role, deployed, props.telemetry);
    return fn;
  }

  private createApi(props: OperatorConsoleProps): apigwv2.HttpApi {
    const api = new apigwv2.HttpApi(this, 'Api', {
      description: 'aiot-pipeline operator console API (behind CloudFront, /api/*)',
      createDefaultStage: false,
    });
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention: logs.RetentionDays.ONE_YEAR });
    new apigwv2.HttpStage(this, 'Stage', {
      httpApi: api,
      stageName: '$default',
      autoDeploy: true,
      throttle: props.throttle ?? { rateLimit: 50, burstLimit: 100 },
      accessLogSettings: { destination: new apigwv2.LogGroupLogDestination(accessLogs) },
    });
    return api;
  }
}

function validate(props: OperatorConsoleProps): void {
  if (props.useCases.length === 0) throw new Error('OperatorConsole needs at least one use case, got none');
  const prefix = props.domainPrefix;
  if (prefix !== undefined && !Token.isUnresolved(prefix)) {
    if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix)) {
      throw new Error(
        `domainPrefix must be lower-case letters, digits and hyphens (at most 63, not naming aws, amazon or cognito), got "${prefix}"`,
      );
    }
  }
  const session = props.sessionLength;
  if (
    session &&
    !Token.isUnresolved(session.toMinutes()) &&
    (session.toMinutes() < 60 || session.toDays() > 30)
  ) {
    throw new Error(`sessionLength must be from 1 hour to 30 days, got ${session.toHumanString()}`);
  }
}

/** The use-case page lists each deployed use case's model versions: reads of their groups only. */
function grantRegistryReads(
  role: iam.Role,
  deployed: readonly (readonly [string, InferenceEndpoint])[],
  telemetry: TelemetryReads,
): void {
  // In the store's VPC, SageMaker's API is reached through its endpoint (no NAT).
  telemetry.reachService?.('SageMakerApi', ec2.InterfaceVpcEndpointAwsService.SAGEMAKER_API);
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sagemaker:ListModelPackages'], resources: ['*'] }),
  );
  const packages = deployed.map(([, e]) =>
    sagemakerArn(role, 'model-package', `${e.modelPackageGroupName}/*`),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: ['sagemaker:DescribeModelPackage'], resources: packages }),
  );
  Validations.of(role).acknowledge(
    {
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ListModelPackages takes no resource; the function lists the groups of its use cases only.',
    },
    ...deployed.map(([useCase, e]) => ({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:<AWS::AccountId>:model-package/${e.modelPackageGroupName.toLowerCase()}/*]`,
      reason: `Versions of ${useCase}'s model package group are numbered by the registry.`,
    })),
  );
}
