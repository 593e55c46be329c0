import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import {
  confirmRotation,
  type ConfirmationDependencies,
  type ConfirmationOutcome,
} from '../../core/provisioning/rotation.ts';
import { DynamoDbAllowList } from '../adapters/dynamodb-allow-list.ts';
import { IotDeviceCertificates } from '../adapters/iot-device-certificates.ts';
import { requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

export function confirmationDependenciesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): ConfirmationDependencies {
  return {
    allowList: new DynamoDbAllowList(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      requireEnv('ALLOW_LIST_TABLE', env),
    ),
    certificates: new IotDeviceCertificates(new IoTClient({})),
    log: (message, details) => {
      logger.info(message, details);
    },
  };
}

export function createHandler(deps: ConfirmationDependencies) {
  return async (event: unknown, context?: Context): Promise<ConfirmationOutcome> => {
    if (context) logger.addContext(context);
    return confirmRotation(event, deps);
  };
}

let handlerInstance: ReturnType<typeof createHandler> | undefined;

/**
 * The rule on `dt/+/+/certificate`: a device connected with its renewed certificate, so the one
 * it replaced is retired. A thrown error goes to the rule's error action and the device says it
 * again at its next connection.
 */
export const handler = (event: unknown, context: Context): Promise<ConfirmationOutcome> => {
  handlerInstance ??= createHandler(confirmationDependenciesFromEnv());
  return handlerInstance(event, context);
};
