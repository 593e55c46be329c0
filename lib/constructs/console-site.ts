import {
  AssetHashType,
  DefaultStackSynthesizer,
  DockerImage,
  Duration,
  Fn,
  Names,
  RemovalPolicy,
  Stack,
  Validations,
} from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { buildConsoleInto, CONSOLE_SOURCE } from '../../tools/console-bundle.ts';
import type { Construct } from 'constructs';

/** Where the console's API is served, on the distribution's own origin. */
export const API_PATH = '/api';

/**
 * A name for a CloudFront resource, whose names are unique per account across every region: the
 * construct's unique name and the region, so the same stack deploys to a second region.
 */
function regionalName(scope: Construct, suffix: string, maxLength: number): string {
  // Region names are 14 characters at most (ap-southeast-5), and a dash between.
  const unique = Names.uniqueResourceName(scope, { maxLength: maxLength - 15 - suffix.length });
  return Fn.join('-', [`${unique}${suffix}`, Stack.of(scope).region]);
}

/** The console's own script only, talking to its origin and Cognito; HTTPS remembered a year. */
function consoleHeadersPolicy(scope: Construct): cloudfront.ResponseHeadersPolicy {
  return new cloudfront.ResponseHeadersPolicy(scope, 'Headers', {
    responseHeadersPolicyName: regionalName(scope, 'Headers', 128),
    comment: 'aiot console: the page runs its own script only and talks to its origin and Cognito',
    securityHeadersBehavior: {
      contentSecurityPolicy: {
        contentSecurityPolicy: [
          "default-src 'none'",
          "script-src 'self'",
          "style-src 'self' 'unsafe-inline'",
          "img-src 'self' data:",
          `connect-src 'self' https://*.amazoncognito.com`,
          "base-uri 'none'",
          "form-action 'self'",
          "frame-ancestors 'none'",
        ].join('; '),
        override: true,
      },
      contentTypeOptions: { override: true },
      frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
      referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      strictTransportSecurity: {
        accessControlMaxAge: Duration.days(365),
        includeSubdomains: true,
        override: true,
      },
    },
  });
}

/**
 * The console's CloudFront distribution: pages from the site bucket through origin access control,
 * `/api/*` uncached to the HTTP API, both over HTTPS with a strict content security policy.
 */
export function consoleDistribution(
  scope: Construct,
  siteBucket: s3.IBucket,
  api: apigwv2.HttpApi,
  logBucket: s3.IBucket,
): cloudfront.Distribution {
  const headers = consoleHeadersPolicy(scope);
  const apiDomain = Fn.select(2, Fn.split('/', api.apiEndpoint));
  const distribution = new cloudfront.Distribution(scope, 'Distribution', {
    comment: 'aiot-pipeline operator console',
    defaultRootObject: 'index.html',
    httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
    enableLogging: true,
    logBucket,
    logFilePrefix: 'console-cdn/',
    defaultBehavior: {
      origin: origins.S3BucketOrigin.withOriginAccessControl(siteBucket, {
        originAccessControl: new cloudfront.S3OriginAccessControl(scope, 'SiteAccessControl', {
          originAccessControlName: regionalName(scope, 'Site', 64),
        }),
      }),
      viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      responseHeadersPolicy: headers,
      compress: true,
    },
    additionalBehaviors: {
      [`${API_PATH}/*`]: {
        origin: new origins.HttpOrigin(apiDomain, {
          protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
        }),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_ALL,
        cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
        // Passes the Authorization header and the query on; API Gateway needs its own Host.
        originRequestPolicy: cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        responseHeadersPolicy: headers,
      },
    },
  });
  Validations.of(distribution).acknowledge(
    {
      id: 'AwsSolutions-CFR1',
      reason:
        'Plants are where the customer is: geo restriction is a deployment choice (distribution.node.defaultChild), not a default.',
    },
    {
      id: 'AwsSolutions-CFR2',
      reason:
        'Every API route needs a Cognito token checked by API Gateway and is throttled; add AWS WAF (webAclId) where the console faces the internet at large.',
    },
    {
      id: 'AwsSolutions-CFR4',
      reason:
        'With the default *.cloudfront.net certificate CloudFront accepts TLSv1 from viewers; a custom domain with its certificate (and minimumProtocolVersion TLSv1.2_2021) needs a DNS name this project cannot know.',
    },
  );
  return distribution;
}

/** BucketDeployment's own function and role are CDK's: what cdk-nag finds there and why it is accepted. */
function acknowledgeSiteDeployment(scope: Construct, siteBucket: s3.Bucket): void {
  const stack = Stack.of(scope);
  const siteArn = `<${stack.getLogicalId(siteBucket.node.defaultChild as s3.CfnBucket)}.Arn>`;
  // The bootstrap's asset bucket, as cdk-nag names it (a custom bucket name is the deployer's to acknowledge).
  const qualifier = stack.synthesizer.bootstrapQualifier ?? DefaultStackSynthesizer.DEFAULT_QUALIFIER;
  const assetBucket = DefaultStackSynthesizer.DEFAULT_FILE_ASSETS_BUCKET_NAME.replace(
    '${Qualifier}',
    qualifier,
  ).replace(/\$\{([^}]+)\}/g, '<$1>');
  const copying =
    "CDK's BucketDeployment copies the built console from the staged asset into the site bucket: it reads the asset, lists, writes and deletes the site's objects";
  for (const child of stack.node.findAll()) {
    if (!child.node.path.includes('Custom::CDKBucketDeployment')) continue;
    if (!(child instanceof iam.Role || child instanceof lambda.Function)) continue;
    Validations.of(child).acknowledge(
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason:
          "CDK's BucketDeployment function writes its logs with the AWS managed basic execution policy.",
      },
      {
        id: 'AwsSolutions-L1',
        reason: "CDK's BucketDeployment function runs the runtime CDK ships it with.",
      },
      ...['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*'].map((action) => ({
        id: `AwsSolutions-IAM5[Action::${action}]`,
        reason: copying,
      })),
      { id: `AwsSolutions-IAM5[Resource::${siteArn}/*]`, reason: copying },
      ...(assetBucket
        ? [
            {
              id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::${assetBucket}/*]`,
              reason: copying,
            },
          ]
        : []),
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'CloudFront invalidations have no resource-level permissions: the deployment invalidates the console files it replaced.',
      },
    );
  }
}

/** The bucket of the console's files; CloudFront reads it, nobody else. */
export function consoleSiteBucket(scope: Construct, accessLogsBucket: s3.IBucket): s3.Bucket {
  return new s3.Bucket(scope, 'Site', {
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    serverAccessLogsBucket: accessLogsBucket,
    serverAccessLogsPrefix: 'console-site/',
    removalPolicy: RemovalPolicy.RETAIN,
    // A deployment replaces the page's files: the versions it replaced stay a month, to roll back.
    versioned: true,
    lifecycleRules: [
      {
        noncurrentVersionExpiration: Duration.days(30),
        abortIncompleteMultipartUploadAfter: Duration.days(7),
      },
    ],
  });
}

/** Builds the console and puts it in its bucket with the page's config, then refreshes CloudFront's copies. */
export function deployConsoleSite(
  scope: Construct,
  siteBucket: s3.Bucket,
  distribution: cloudfront.Distribution,
  config: Readonly<Record<string, string>>,
): void {
  new s3deploy.BucketDeployment(scope, 'Deploy', {
    destinationBucket: siteBucket,
    sources: [
      s3deploy.Source.asset(CONSOLE_SOURCE, {
        assetHashType: AssetHashType.OUTPUT,
        bundling: {
          // Built on this machine with esbuild; the image is only named because CDK requires one.
          image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:22-alpine'),
          local: {
            tryBundle(outputDir: string) {
              buildConsoleInto(outputDir);
              return true;
            },
          },
        },
      }),
      s3deploy.Source.jsonData('config.json', config),
    ],
    distribution,
    distributionPaths: ['/index.html', '/config.json', '/main.js', '/main.css'],
    memoryLimit: 256,
  });
  acknowledgeSiteDeployment(scope, siteBucket);
}
