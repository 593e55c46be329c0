import type { ModelDescription } from '../../core/drift/profile.ts';

/**
 * What a pump endpoint answers to `{"describe": "model"}` for a model trained on flow rates
 * between 0 and 10 (ten equal shares): readings far above that drift.
 */
export const FLOW_RATE_MODEL: ModelDescription = {
  modelVersion: 'm7',
  tracked: [{ sensor: 'flowRate', mean: 5, scale: 2 }],
  profile: [
    {
      sensor: 'flowRate',
      edges: [1, 2, 3, 4, 5, 6, 7, 8, 9],
      shares: new Array<number>(10).fill(0.1),
      min: 0,
      max: 10,
    },
  ],
};

/** The endpoint's answer carrying `description`, as the SageMaker runtime client returns it. */
export const describedAs = (description: ModelDescription) => ({
  Body: new TextEncoder().encode(JSON.stringify(description)) as never,
});
