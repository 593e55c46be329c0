import { createOnEvent, modelEndpointDependenciesFromEnv, type OnEventResult } from './lifecycle.ts';

let handlerInstance: ReturnType<typeof createOnEvent> | undefined;

/** The provider framework's onEvent: starts creating, changing or deleting the endpoint. */
export const handler = async (event: unknown): Promise<OnEventResult> => {
  handlerInstance ??= createOnEvent(modelEndpointDependenciesFromEnv(process.env));
  return handlerInstance(event);
};
