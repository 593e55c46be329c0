import { z } from 'zod';

/** How a model's settings were chosen (./selection.ts): kept in the model, its card. */
const candidateSchema = z.strictObject({
  params: z.record(z.string(), z.number()),
  tracked: z.array(z.string()),
  normalFlaggedShare: z.number(),
  /** Stretches of flagged normal readings a device a week. */
  normalEpisodesPerDeviceWeek: z.number(),
  caught: z.record(z.string(), z.number()),
});

export const selectionSchema = z.strictObject({
  /** The data it was chosen on, in words. */
  source: z.string(),
  maxNormalFlaggedShare: z.number(),
  minCaughtShare: z.number(),
  /** The settings chosen (those not pinned). */
  chosen: z.record(z.string(), z.union([z.number(), z.boolean()])),
  /**
   * Whether device baselines stay quiet on the checks' normal running, calibrated on each
   * device's first readings as the runtime does, against the fleet's own normal.
   */
  deviceBaselines: z
    .strictObject({
      used: z.boolean(),
      normalFlaggedShare: z.number(),
      fleetNormalFlaggedShare: z.number(),
    })
    .optional(),
  /** Settings the use case set itself, which the selection left alone. */
  pinned: z.array(z.string()),
  /** Every candidate tried, the chosen one first. */
  candidates: z.array(candidateSchema).min(1),
  /** What the use case's author should know: faults not caught, normal running too loud. */
  warnings: z.array(z.string()),
});

export type ModelSelection = z.output<typeof selectionSchema>;
