import { createIsComplete, type IsCompleteResult, modelEndpointDependenciesFromEnv } from './lifecycle.ts';

let handlerInstance: ReturnType<typeof createIsComplete> | undefined;

/** The provider framework's isComplete: carries a change on, and answers whether it is done. */
export const handler = async (event: unknown): Promise<IsCompleteResult> => {
  handlerInstance ??= createIsComplete(modelEndpointDependenciesFromEnv(process.env));
  return handlerInstance(event);
};
