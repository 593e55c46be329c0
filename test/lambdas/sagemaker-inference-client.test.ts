import {
  InvokeEndpointCommand,
  ModelError,
  SageMakerRuntimeClient,
  ServiceUnavailable,
} from '@aws-sdk/client-sagemaker-runtime';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { failureOf } from '../support/failures.ts';
import { SageMakerInferenceClient } from '../../lambdas/adapters/sagemaker-inference-client.ts';

const runtime = mockClient(SageMakerRuntimeClient);
const adapter = new SageMakerInferenceClient(
  new SageMakerRuntimeClient({ region: 'eu-west-1', maxAttempts: 1 }),
  'pump-endpoint',
);
const WINDOW = { sensors: ['a', 'b'], rows: [[1, 2]], scoreFrom: 0 };
const RESULT = {
  modelVersion: 'm1',
  threshold: 3,
  results: [{ index: 0, score: 1, anomalous: false, contributors: [{ sensor: 'a', share: 1 }] }],
};

beforeEach(() => runtime.reset());
afterAll(() => {
  runtime.restore();
});

describe('SageMakerInferenceClient', () => {
  it('sends the window as JSON to the endpoint and keeps only what the result schema knows', async () => {
    // GIVEN an endpoint whose answer carries a field the port does not define
    runtime
      .on(InvokeEndpointCommand)
      .resolves({ Body: new TextEncoder().encode(JSON.stringify({ ...RESULT, debug: 'x' })) as never });
    // WHEN a window is scored
    const result = await adapter.invoke(WINDOW, 500);
    // THEN the answer went through the schema, and the request carried the window
    expect(result).not.toHaveProperty('debug');
    expect(result.results[0]?.contributors).toEqual([{ sensor: 'a', share: 1 }]);
    const input = runtime.commandCalls(InvokeEndpointCommand)[0]?.args[0].input;
    expect(input).toMatchObject({
      EndpointName: 'pump-endpoint',
      ContentType: 'application/json',
      Accept: 'application/json',
    });
    expect(JSON.parse(input?.Body as string)).toEqual(WINDOW);
  });

  it('marks throttling and unavailability as retryable', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejects(new ServiceUnavailable({ $metadata: {}, message: 'busy', Message: 'busy' }));
    expect((await failureOf(adapter.invoke(WINDOW, 500))).retryable).toBe(true);
  });

  it('marks a 4xx model error as not retryable and a 5xx one as retryable', async () => {
    runtime.on(InvokeEndpointCommand).rejects(
      new ModelError({
        $metadata: {},
        message: 'bad sensors',
        Message: 'bad sensors',
        OriginalStatusCode: 400,
      }),
    );
    const refused = await failureOf(adapter.invoke(WINDOW, 500));
    expect(refused.retryable).toBe(false);
    expect(refused.message).toContain('InvokeEndpoint pump-endpoint failed: ModelError');
    runtime
      .on(InvokeEndpointCommand)
      .rejects(
        new ModelError({ $metadata: {}, message: 'crash', Message: 'crash', OriginalStatusCode: 500 }),
      );
    expect((await failureOf(adapter.invoke(WINDOW, 500))).retryable).toBe(true);
  });

  it('refuses an answer that is not an inference result, as a failure of the endpoint', async () => {
    runtime.on(InvokeEndpointCommand).resolves({ Body: new TextEncoder().encode('{"hello":1}') as never });
    const failure = await failureOf(adapter.invoke(WINDOW, 500));
    expect(failure.message).toBe(
      'endpoint pump-endpoint answered an unexpected body: modelVersion: Invalid input: expected string, received undefined',
    );
    expect(failure).toMatchObject({ retryable: false, endpointUnhealthy: true });
  });

  it('turns an answer that is not JSON into a retryable failure instead of throwing SyntaxError', async () => {
    runtime
      .on(InvokeEndpointCommand)
      .resolves({ Body: new TextEncoder().encode('{"modelVersion":"m1","thr') as never });
    const failure = await failureOf(adapter.invoke(WINDOW, 500));
    expect(failure.message).toContain('endpoint pump-endpoint answered a body that is not JSON');
    expect(failure).toMatchObject({ retryable: true, endpointUnhealthy: true });
  });

  it("marks a 4xx model error as the request's fault, not the endpoint's", async () => {
    runtime
      .on(InvokeEndpointCommand)
      .rejects(new ModelError({ $metadata: {}, message: 'bad', Message: 'bad', OriginalStatusCode: 422 }));
    expect((await failureOf(adapter.invoke(WINDOW, 500))).endpointUnhealthy).toBe(false);
  });
});
