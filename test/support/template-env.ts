/**
 * A function's environment as CloudFormation would give it: the template's `Environment.Variables`
 * with every intrinsic resolved to a well-formed value of what it names (a queue's URL, a topic's
 * ARN, a table's name), as a deployment in us-east-1 of account 123456789012 would see it.
 * An intrinsic or attribute it does not know fails, naming it, so a new one is added here
 * rather than guessed.
 */
export const REGION = 'us-east-1';
export const ACCOUNT = '123456789012';

interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
}

export interface TemplateJson {
  readonly Resources: Record<string, TemplateResource>;
}

const PSEUDO: Record<string, string> = {
  'AWS::Region': REGION,
  'AWS::AccountId': ACCOUNT,
  'AWS::Partition': 'aws',
  'AWS::URLSuffix': 'amazonaws.com',
  'AWS::StackName': 'AiotPipeline',
  'AWS::StackId': `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/AiotPipeline/0b5a2f60-0000-4000-8000-000000000000`,
  'AWS::NoValue': '',
};

/** What `Ref` answers, by resource type (the CloudFormation reference's "Return values"). */
const REF: Record<string, (id: string) => string> = {
  'AWS::SQS::Queue': (id) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`,
  'AWS::SNS::Topic': (id) => `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`,
  'AWS::DynamoDB::Table': (id) => id,
  'AWS::S3::Bucket': (id) => id.toLowerCase(),
  'AWS::Events::EventBus': (id) => id,
  'AWS::CloudWatch::Alarm': (id) => id,
  'AWS::IoT::Policy': (id) => id,
  'AWS::Timestream::Database': (id) => id,
  'AWS::SecretsManager::Secret': (id) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${id}-AbCdEf`,
  'AWS::Lambda::Function': (id) => id,
  'AWS::IAM::Role': (id) => id,
  // A custom resource's physical id is what its handler answers; the setup function answers the instance's.
  'Custom::AiotInfluxSetup': (id) => id,
};

/** What `Fn::GetAtt` answers, by "type attribute". */
const GET_ATT: Record<string, (id: string) => string> = {
  'AWS::IAM::Role Arn': (id) => `arn:aws:iam::${ACCOUNT}:role/${id}`,
  'AWS::Lambda::Function Arn': (id) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${id}`,
  'AWS::Timestream::InfluxDBInstance Endpoint': (id) =>
    `${id.toLowerCase()}-abc123.${REGION}.timestream-influxdb.amazonaws.com`,
  'AWS::SQS::Queue Arn': (id) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${id}`,
  'AWS::SQS::Queue QueueUrl': (id) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${id}`,
  'AWS::DynamoDB::Table Arn': (id) => `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${id}`,
  'AWS::S3::Bucket Arn': (id) => `arn:aws:s3:::${id.toLowerCase()}`,
  'AWS::Events::EventBus Arn': (id) => `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/${id}`,
  'AWS::Events::EventBus Name': (id) => id,
  'AWS::SNS::Topic TopicArn': (id) => `arn:aws:sns:${REGION}:${ACCOUNT}:${id}`,
  'AWS::Logs::LogGroup Arn': (id) => `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:${id}:*`,
  'AWS::KMS::Key Arn': (id) => `arn:aws:kms:${REGION}:${ACCOUNT}:key/${id}`,
  'AWS::CloudWatch::Alarm Arn': (id) => `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${id}`,
  'AWS::Timestream::Database Arn': (id) => `arn:aws:timestream:${REGION}:${ACCOUNT}:database/${id}`,
  'AWS::Timestream::Table Arn': (id) => `arn:aws:timestream:${REGION}:${ACCOUNT}:database/db/table/${id}`,
  'AWS::Cognito::UserPool Arn': (id) => `arn:aws:cognito-idp:${REGION}:${ACCOUNT}:userpool/${REGION}_${id}`,
  'AWS::IoT::ThingGroup Arn': (id) => `arn:aws:iot:${REGION}:${ACCOUNT}:thinggroup/${id}`,
};

/** Attributes a custom resource's handler answers with one of its properties (lambdas/model-endpoint). */
const GET_ATT_FROM_PROPERTY: Record<string, string> = {
  'Custom::AiotModelEndpoint EndpointName': 'EndpointName',
};

/** Resolves one value of a template to what CloudFormation would put there. */
export function resolveValue(template: TemplateJson, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  const [[fn, args]] = Object.entries(value) as [[string, unknown]];
  if (fn === 'Ref') return resolveRef(template, String(args));
  if (fn === 'Fn::GetAtt') {
    const [id, attribute] = args as [string, string];
    const type = resourceType(template, id);
    const property = GET_ATT_FROM_PROPERTY[`${type} ${attribute}`];
    if (property) return resolveValue(template, template.Resources[id]?.Properties?.[property]);
    const answer = GET_ATT[`${type} ${attribute}`];
    if (!answer) throw new Error(`Fn::GetAtt ${type}.${attribute} is not known to template-env.ts`);
    return answer(id);
  }
  if (fn === 'Fn::Join') {
    const [separator, parts] = args as [string, unknown[]];
    return parts.map((part) => resolveValue(template, part)).join(separator);
  }
  if (fn === 'Fn::Sub') {
    const [body, variables = {}] = (Array.isArray(args) ? args : [args]) as [
      string,
      Record<string, unknown>?,
    ];
    return body.replace(/\$\{([^}!]+)\}/g, (_match, name: string) => {
      if (name in variables) return resolveValue(template, variables[name]);
      const [id = '', attribute] = name.split('.');
      return attribute ? resolveValue(template, { 'Fn::GetAtt': [id, attribute] }) : resolveRef(template, id);
    });
  }
  if (fn === 'Fn::Select') {
    const [index, list] = args as [number | string, unknown];
    return resolveList(template, list)[Number(index)] ?? '';
  }
  throw new Error(`${fn} is not known to template-env.ts`);
}

function resolveList(template: TemplateJson, list: unknown): string[] {
  if (Array.isArray(list)) return list.map((item) => resolveValue(template, item));
  const split = (list as Record<string, unknown>)['Fn::Split'] as [string, unknown] | undefined;
  if (!split) throw new Error(`cannot resolve the list ${JSON.stringify(list)}`);
  return resolveValue(template, split[1]).split(split[0]);
}

function resolveRef(template: TemplateJson, id: string): string {
  const pseudo = PSEUDO[id];
  if (pseudo !== undefined) return pseudo;
  const type = resourceType(template, id);
  const answer = REF[type];
  if (!answer) throw new Error(`Ref of a ${type} is not known to template-env.ts`);
  return answer(id);
}

function resourceType(template: TemplateJson, id: string): string {
  const resource = template.Resources[id];
  if (!resource) throw new Error(`the template has no resource ${id}`);
  return resource.Type;
}

const INTRINSICS = new Set(['Ref', 'Fn::GetAtt', 'Fn::Join', 'Fn::Select', 'Fn::Sub']);

/** A whole value of the template (a policy document, say) with every intrinsic in it resolved. */
export function resolveDeep(template: TemplateJson, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveDeep(template, item));
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && INTRINSICS.has(entries[0]?.[0] ?? '')) return resolveValue(template, value);
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveDeep(template, item)]));
}

/** The environment CloudFormation gives the function `logicalId` of the template. */
export function functionEnvironment(template: TemplateJson, logicalId: string): Record<string, string> {
  const resource = template.Resources[logicalId];
  if (resource?.Type !== 'AWS::Lambda::Function')
    throw new Error(`${logicalId} is not a Lambda function of the template`);
  const variables =
    (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {};
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, resolveValue(template, value)]),
  );
}

/**
 * What esbuild's `define` compiles in for `process.env.NAME`, as the handler reads it: each value
 * is the JavaScript expression of a string.
 */
export function definedEnvironment(define: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(define).flatMap(([expression, code]) => {
      const name = /^process\.env\.([A-Z_][A-Z0-9_]*)$/.exec(expression)?.[1];
      return name ? [[name, JSON.parse(code) as string]] : [];
    }),
  );
}
