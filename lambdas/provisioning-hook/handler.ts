import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IoTClient } from '@aws-sdk/client-iot';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context } from 'aws-lambda';
import { z } from 'zod';
import { systemClock } from '../../core/ingest/ports.ts';
import {
  preProvision,
  type PreProvisioningDependencies,
  type PreProvisioningResponse,
} from '../../core/provisioning/pre-provisioning.ts';
import { DynamoDbAllowList } from '../adapters/dynamodb-allow-list.ts';
import { IotDeviceCertificates } from '../adapters/iot-device-certificates.ts';
import { IotThingGroups } from '../adapters/iot-thing-groups.ts';
import { requireEnv } from '../shared/env.ts';
import { logger } from '../shared/powertools.ts';

/** Wires the ports from the environment the FleetProvisioning construct sets. */
export function preProvisioningDependenciesFromEnv(
  env: NodeJS.ProcessEnv = process.env,
): PreProvisioningDependencies {
  const policies = z.record(z.string(), z.string()).parse(JSON.parse(requireEnv('DEVICE_POLICIES', env)));
  const iot = new IoTClient({});
  return {
    allowList: new DynamoDbAllowList(
      DynamoDBDocumentClient.from(new DynamoDBClient({})),
      requireEnv('ALLOW_LIST_TABLE', env),
    ),
    thingGroups: new IotThingGroups(iot),
    certificates: new IotDeviceCertificates(iot),
    clock: systemClock,
    stackName: requireEnv('STACK_NAME', env),
    policies: new Map(Object.entries(policies)),
    log: (message, details) => {
      logger.info(message, details);
    },
  };
}

/** Builds the hook around its dependencies, so tests inject mocked clients. */
export function createHandler(deps: PreProvisioningDependencies) {
  return async (event: unknown, context?: Context): Promise<PreProvisioningResponse> => {
    if (context) logger.addContext(context);
    return preProvision(event, deps);
  };
}

let handlerInstance: ReturnType<typeof createHandler> | undefined;

/** IoT Core's pre-provisioning hook: must answer within 5 s, and a thrown error refuses the device. */
export const handler = (event: unknown, context: Context): Promise<PreProvisioningResponse> => {
  handlerInstance ??= createHandler(preProvisioningDependenciesFromEnv());
  return handlerInstance(event, context);
};
