import { type EndpointSpec, endpointSpecSchema } from '../../core/model/endpoint-spec.ts';

/** A model endpoint's custom-resource properties, as CloudFormation sends them. */
export const SPEC_PROPERTIES = {
  UseCase: 'pump-maintenance',
  EndpointName: 'aiot-inferencepump-1a2b3c4d-c5-large',
  ExecutionRoleArn: 'arn:aws:iam::123456789012:role/exec',
  Image: '123456789012.dkr.ecr.us-east-1.amazonaws.com/assets:' + 'a'.repeat(64),
  ModelDataUrl: 's3://artifacts/models/pump-maintenance/job-1/output/model.tar.gz',
  InstanceType: 'ml.c5.large',
  // CloudFormation hands numbers over as strings.
  InitialInstanceCount: '1',
  KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
  CapturePercent: '20',
  CaptureDestination: 's3://artifacts/data-capture/pump-maintenance/',
  CaptureKmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/k',
  RollbackAlarmNames: ['errors', 'latency'],
};

export const SPEC: EndpointSpec = endpointSpecSchema.parse(SPEC_PROPERTIES);

/** A window as the ingest function sends it to the endpoint. */
export interface SentWindow {
  readonly sensors: string[];
  readonly rows: number[][];
  readonly scoreFrom: number;
}

/**
 * An InvokeEndpoint fake for a batch call (`{"windows": [...]}`): each window answered by
 * `answer`, in order, as the model server answers.
 */
export function batchEndpoint(
  answer: (window: SentWindow) => unknown,
): (input: { Body: string }) => { Body: Uint8Array } {
  return (input) => {
    const { windows } = JSON.parse(input.Body) as { windows: SentWindow[] };
    return { Body: new TextEncoder().encode(JSON.stringify({ windows: windows.map(answer) })) };
  };
}
