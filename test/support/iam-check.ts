import { runSimulation } from '@cloud-copilot/iam-simulate';
import { ACCOUNT, REGION } from './template-env.ts';

/**
 * Whether a function's role in the template allows the AWS calls its handler made, evaluated as
 * IAM would (`@cloud-copilot/iam-simulate`): each call recorded by the tests' client mocks becomes
 * the request IAM authorizes (action and resource ARN), and the role's policies decide it.
 * Not modelled: the KMS calls services make on the caller's behalf for encrypted queues and
 * buckets, and resource policies (none of the functions' targets needs one to allow its own role).
 */
export interface IamRequest {
  readonly action: string;
  readonly resource: string;
  /** Condition keys the request carries, such as `s3:prefix`. */
  readonly context?: Readonly<Record<string, string>>;
}

type Input = Record<string, unknown>;
const text = (input: Input, key: string): string => {
  const value = input[key];
  if (value !== undefined && typeof value !== 'string')
    throw new Error(`${key} is not text: ${JSON.stringify(value)}`);
  return value ?? '';
};
const arn = (service: string, resource: string) => `arn:aws:${service}:${REGION}:${ACCOUNT}:${resource}`;
const table = (input: Input) =>
  arn(
    'dynamodb',
    `table/${text(input, 'TableName')}${input.IndexName ? `/index/${text(input, 'IndexName')}` : ''}`,
  );
/** SageMaker spells resource names in lower case in its ARNs. */
const sagemaker = (kind: string, name: string) => arn('sagemaker', `${kind}/${name.toLowerCase()}`);
const queue = (url: string) => {
  const [, account, name] = /amazonaws\.com\/(\d+)\/(.+)$/.exec(url) ?? [];
  return `arn:aws:sqs:${REGION}:${account ?? ''}:${name ?? ''}`;
};
const s3Object = (input: Input) => `arn:aws:s3:::${text(input, 'Bucket')}/${text(input, 'Key')}`;
const bus = (name: string) =>
  name.startsWith('arn:') ? name : arn('events', `event-bus/${name || 'default'}`);

/**
 * A Timestream query is authorized as timestream:Select on each table it reads (written
 * `"database"."table"`), after the SDK's endpoint discovery.
 */
function timestreamSelect(sql: string): IamRequest[] {
  const tables = [...sql.matchAll(/"([^"]+)"\."([^"]+)"/g)].map(([, database = '', name = '']) => ({
    action: 'timestream:Select',
    resource: arn('timestream', `database/${database}/table/${name}`),
  }));
  if (tables.length === 0) throw new Error(`no "database"."table" in the query ${sql}`);
  return [{ action: 'timestream:DescribeEndpoints', resource: '*' }, ...tables];
}

/** The IAM requests behind one SDK command, by the command's class name. */
const REQUESTS: Record<string, (input: Input) => IamRequest[]> = {
  GetSecretValueCommand: (i) => [{ action: 'secretsmanager:GetSecretValue', resource: text(i, 'SecretId') }],
  PutSecretValueCommand: (i) => [{ action: 'secretsmanager:PutSecretValue', resource: text(i, 'SecretId') }],
  GetCommand: (i) => [{ action: 'dynamodb:GetItem', resource: table(i) }],
  PutCommand: (i) => [{ action: 'dynamodb:PutItem', resource: table(i) }],
  UpdateCommand: (i) => [{ action: 'dynamodb:UpdateItem', resource: table(i) }],
  DeleteCommand: (i) => [{ action: 'dynamodb:DeleteItem', resource: table(i) }],
  // Timestream's query command has the same class name as DynamoDB's: its input tells them apart.
  QueryCommand: (i) =>
    'QueryString' in i
      ? timestreamSelect(text(i, 'QueryString'))
      : [{ action: 'dynamodb:Query', resource: table(i) }],
  BatchWriteCommand: (i) =>
    Object.keys(i.RequestItems as Input).map((name) => ({
      action: 'dynamodb:BatchWriteItem',
      resource: arn('dynamodb', `table/${name}`),
    })),
  TransactWriteCommand: (i) =>
    (i.TransactItems as Record<string, Input>[]).flatMap((item) => {
      const [[kind, body] = ['', {}]] = Object.entries(item);
      const action = {
        Put: 'PutItem',
        Update: 'UpdateItem',
        Delete: 'DeleteItem',
        ConditionCheck: 'ConditionCheckItem',
      }[kind];
      return [{ action: `dynamodb:${action ?? kind}`, resource: table(body) }];
    }),
  // The SDK first asks Timestream where to write (endpoint discovery), which IAM authorizes on "*".
  WriteRecordsCommand: (i) => [
    { action: 'timestream:DescribeEndpoints', resource: '*' },
    {
      action: 'timestream:WriteRecords',
      resource: arn('timestream', `database/${text(i, 'DatabaseName')}/table/${text(i, 'TableName')}`),
    },
  ],
  GetObjectCommand: (i) => [{ action: 's3:GetObject', resource: s3Object(i) }],
  DeleteObjectCommand: (i) => [{ action: 's3:DeleteObject', resource: s3Object(i) }],
  // ListObjectsV2 is authorized as s3:ListBucket on the bucket.
  ListObjectsV2Command: (i) => [
    {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${text(i, 'Bucket')}`,
      context: { 's3:prefix': text(i, 'Prefix') },
    },
  ],
  PutObjectCommand: (i) => [{ action: 's3:PutObject', resource: s3Object(i) }],
  PutEventsCommand: (i) =>
    (i.Entries as Input[]).map((entry) => ({
      action: 'events:PutEvents',
      resource: bus(text(entry, 'EventBusName')),
    })),
  PublishCommand: (i) => [{ action: 'sns:Publish', resource: text(i, 'TopicArn') }],
  SendMessageCommand: (i) => [{ action: 'sqs:SendMessage', resource: queue(text(i, 'QueueUrl')) }],
  SendMessageBatchCommand: (i) => [{ action: 'sqs:SendMessage', resource: queue(text(i, 'QueueUrl')) }],
  InvokeEndpointCommand: (i) => [
    { action: 'sagemaker:InvokeEndpoint', resource: sagemaker('endpoint', text(i, 'EndpointName')) },
  ],
  CreateModelCommand: (i) => [
    { action: 'sagemaker:CreateModel', resource: sagemaker('model', text(i, 'ModelName')) },
    { action: 'iam:PassRole', resource: text(i, 'ExecutionRoleArn') },
  ],
  CreateEndpointConfigCommand: (i) => [
    {
      action: 'sagemaker:CreateEndpointConfig',
      resource: sagemaker('endpoint-config', text(i, 'EndpointConfigName')),
    },
  ],
  DescribeEndpointConfigCommand: (i) => [
    {
      action: 'sagemaker:DescribeEndpointConfig',
      resource: sagemaker('endpoint-config', text(i, 'EndpointConfigName')),
    },
  ],
  CreateEndpointCommand: (i) => [
    { action: 'sagemaker:CreateEndpoint', resource: sagemaker('endpoint', text(i, 'EndpointName')) },
  ],
  DescribeEndpointCommand: (i) => [
    { action: 'sagemaker:DescribeEndpoint', resource: sagemaker('endpoint', text(i, 'EndpointName')) },
  ],
  UpdateEndpointCommand: (i) => [
    { action: 'sagemaker:UpdateEndpoint', resource: sagemaker('endpoint', text(i, 'EndpointName')) },
  ],
  DeleteEndpointCommand: (i) => [
    { action: 'sagemaker:DeleteEndpoint', resource: sagemaker('endpoint', text(i, 'EndpointName')) },
  ],
  CreateThingGroupCommand: (i) => [
    { action: 'iot:CreateThingGroup', resource: arn('iot', `thinggroup/${text(i, 'thingGroupName')}`) },
  ],
  DescribeCertificateCommand: (i) => [
    { action: 'iot:DescribeCertificate', resource: arn('iot', `cert/${text(i, 'certificateId')}`) },
  ],
  UpdateCertificateCommand: (i) => [
    { action: 'iot:UpdateCertificate', resource: arn('iot', `cert/${text(i, 'certificateId')}`) },
  ],
  // IAM authorizes DetachThingPrincipal on the principal (the certificate), not on the thing.
  DetachThingPrincipalCommand: (i) => [
    { action: 'iot:DetachThingPrincipal', resource: text(i, 'principal') },
  ],
  DescribeModelPackageCommand: (i) => [
    { action: 'sagemaker:DescribeModelPackage', resource: text(i, 'ModelPackageName') },
  ],
  UpdateModelPackageCommand: (i) => [
    { action: 'sagemaker:UpdateModelPackage', resource: text(i, 'ModelPackageArn') },
  ],
  // SageMaker's listings take no resource: IAM authorizes them on "*".
  ListTrainingJobsCommand: () => [{ action: 'sagemaker:ListTrainingJobs', resource: '*' }],
  ListModelPackagesCommand: () => [{ action: 'sagemaker:ListModelPackages', resource: '*' }],
  DescribeModelCommand: (i) => [
    { action: 'sagemaker:DescribeModel', resource: sagemaker('model', text(i, 'ModelName')) },
  ],
  CreateTrainingJobCommand: (i) => [
    {
      action: 'sagemaker:CreateTrainingJob',
      resource: sagemaker('training-job', text(i, 'TrainingJobName')),
    },
    { action: 'iam:PassRole', resource: text(i, 'RoleArn') },
  ],
  DescribeTrainingJobCommand: (i) => [
    {
      action: 'sagemaker:DescribeTrainingJob',
      resource: sagemaker('training-job', text(i, 'TrainingJobName')),
    },
  ],
  // A new version is authorized as model-package/<group>/<version>, its approval status as a condition key.
  CreateModelPackageCommand: (i) => [
    {
      action: 'sagemaker:CreateModelPackage',
      resource: sagemaker('model-package', `${text(i, 'ModelPackageGroupName')}/1`),
      context: { 'sagemaker:ModelApprovalStatus': text(i, 'ModelApprovalStatus') },
    },
  ],
};

/** What every client mock answers to: its recorded calls. */
interface RecordingMock {
  calls(): readonly { readonly args: readonly unknown[] }[];
}

/** The IAM requests of every call the mocks recorded; a command not listed here fails, naming it. */
export function iamRequestsOf(mocks: readonly RecordingMock[]): IamRequest[] {
  return mocks.flatMap((mock) =>
    mock.calls().flatMap((call) => {
      const command = call.args[0] as { constructor: { name: string }; input: Input };
      const requests = REQUESTS[command.constructor.name];
      if (!requests)
        throw new Error(`iam-check.ts does not know the IAM request of ${command.constructor.name}`);
      return requests(command.input);
    }),
  );
}

/** Each request the policies do not allow, with IAM's answer; empty when all are allowed. */
export async function deniedRequests(
  policies: readonly unknown[],
  requests: readonly IamRequest[],
): Promise<string[]> {
  const denied: string[] = [];
  const unique = [
    ...new Map(
      requests.map((r) => [`${r.action} ${r.resource} ${JSON.stringify(r.context ?? {})}`, r]),
    ).values(),
  ];
  for (const request of unique) {
    const response = await runSimulation(
      {
        request: {
          principal: `arn:aws:iam::${ACCOUNT}:role/function-role`,
          action: request.action,
          resource: { resource: request.resource, accountId: ACCOUNT },
          contextVariables: { ...request.context },
        },
        identityPolicies: policies.map((policy, index) => ({
          name: `policy-${index}`,
          policy: policy as never,
        })),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
      },
      {},
    );
    if (response.resultType === 'error') {
      denied.push(`${request.action} ${request.resource}: ${JSON.stringify(response.errors)}`);
    } else if (response.overallResult !== 'Allowed') {
      denied.push(`${request.action} ${request.resource}: ${response.overallResult}`);
    }
  }
  return denied;
}

/**
 * Actions a role holds for what runs around its handler, which a client mock never records: each
 * with the reason it is there.
 */
export const PLATFORM_ACTIONS: Readonly<Record<string, string>> = {
  'logs:CreateLogStream': "Lambda writes the function's log group",
  'logs:PutLogEvents': "Lambda writes the function's log group",
  'ec2:CreateNetworkInterface': 'Lambda attaches a function in a VPC to its subnets',
  'ec2:DescribeNetworkInterfaces': 'Lambda attaches a function in a VPC to its subnets',
  'ec2:DescribeSubnets': 'Lambda attaches a function in a VPC to its subnets',
  'ec2:DeleteNetworkInterface': 'Lambda detaches a function in a VPC from its subnets',
  'ec2:AssignPrivateIpAddresses': 'Lambda attaches a function in a VPC to its subnets',
  'ec2:UnassignPrivateIpAddresses': 'Lambda detaches a function in a VPC from its subnets',
  'sqs:ReceiveMessage': "the event source mapping polls the function's queue with its role",
  'sqs:DeleteMessage': 'the event source mapping deletes what the function handled, with its role',
  'sqs:ChangeMessageVisibility': 'the event source mapping returns failed batch items, with its role',
  'sqs:GetQueueAttributes': "the event source mapping reads its queue's settings with the role",
  'sqs:GetQueueUrl': 'the event source mapping finds its queue with the role',
  'kms:Decrypt': "services decrypt the encrypted tables, queues, topics and buckets on the caller's behalf",
  'kms:Encrypt': "services encrypt the encrypted tables, queues and topics on the caller's behalf",
  'kms:GenerateDataKey': "services make data keys for encrypted writes on the caller's behalf",
  'kms:DescribeKey': "services check the key of an encrypted resource on the caller's behalf",
  'kms:CreateGrant':
    "SageMaker grants itself the key for an endpoint's volumes and capture on the caller's behalf",
};

/**
 * Each action `policies` allow that none of `requests` used and no platform action explains: what a
 * role holds beyond what its handler calls. A wildcard action is never used as written, so it shows.
 */
export function unusedGrants(policies: readonly unknown[], requests: readonly IamRequest[]): string[] {
  const used = new Set(requests.map((request) => request.action));
  const granted = (policies as { Statement?: { Effect?: string; Action?: string | string[] }[] }[])
    .flatMap((policy) => policy.Statement ?? [])
    .filter((statement) => statement.Effect === 'Allow')
    .flatMap((statement) => [statement.Action ?? []].flat());
  return [...new Set(granted)].filter((action) => !used.has(action) && !(action in PLATFORM_ACTIONS)).sort();
}
