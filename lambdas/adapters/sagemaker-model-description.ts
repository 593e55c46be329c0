import { InvokeEndpointCommand, type SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { issuesText } from '../../core/contracts/reasons.ts';
import { modelDescriptionSchema, type ModelDescription } from '../../core/drift/profile.ts';

/**
 * Asks a use case's endpoint what model it serves (`{"describe": "model"}`): the drift checks
 * measure data drift against that model's training profile, which lives inside its artifact.
 */
export async function describeEndpointModel(
  client: SageMakerRuntimeClient,
  endpointName: string,
): Promise<ModelDescription> {
  const response = await client.send(
    new InvokeEndpointCommand({
      EndpointName: endpointName,
      ContentType: 'application/json',
      Accept: 'application/json',
      Body: JSON.stringify({ describe: 'model' }),
    }),
  );
  const parsed = modelDescriptionSchema.safeParse(JSON.parse(new TextDecoder().decode(response.Body)));
  if (!parsed.success) {
    throw new Error(
      `endpoint ${endpointName} described its model wrongly: ${issuesText(parsed.error.issues)}`,
    );
  }
  return parsed.data;
}
