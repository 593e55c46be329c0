import { z } from 'zod';
import { MODEL_FORMS } from './change-point.ts';

/**
 * A KPI's M&V baseline as a manifest declares it (`kpis[].mv`): the baseline period, the
 * independent variables that normalize it (weather, occupancy, production), the model form and
 * the interval it is fitted on. Savings are what the baseline model predicts for the reporting
 * period's conditions minus what was measured (IPMVP's avoided energy use).
 */

const field = z
  .string()
  .regex(/^measures\.[A-Za-z][A-Za-z0-9]*$/, 'must be a sensor field like "measures.outdoorAirTemperature"');
const isoDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date "YYYY-MM-DD" (UTC)')
  .refine((text) => !Number.isNaN(Date.parse(`${text}T00:00:00Z`)), 'is not a calendar date');

export const variableSpecSchema = z.union([
  z.strictObject({
    field,
    /** The interval's time-weighted mean over every device (one site's weather, occupancy). */
    aggregate: z.literal('mean'),
  }),
  z.strictObject({
    field,
    /** Hours, summed over devices, the field was above `above`: running hours, production time. */
    aggregate: z.literal('hours-above'),
    above: z.number(),
  }),
]);
export type VariableSpec = z.output<typeof variableSpecSchema>;

export const baselinePeriodSchema = z.union([
  z.strictObject({
    /** The first day of the baseline, and the day after its last (UTC). */
    from: isoDay,
    to: isoDay,
  }),
  z.strictObject({
    /** The first full days of the use case's data: for a site that starts measuring with the pipeline. */
    firstDays: z.int().min(7).max(730),
  }),
]);

export const mvSpecSchema = z
  .strictObject({
    baselinePeriod: baselinePeriodSchema,
    /**
     * When reporting starts, after the changes the savings are measured for (a date). @default the
     * day after the baseline period
     */
    reportingFrom: isoDay.optional(),
    /** One point per hour, day or week of full data. @default day */
    interval: z.enum(['hour', 'day', 'week']).default('day'),
    /** @default linear */
    form: z.enum(MODEL_FORMS).default('linear'),
    /** The variable (a key of `variables`) the change point is on: outdoor temperature. */
    changePointOn: z.string().optional(),
    /** The independent variables, by a name of the author's choosing. */
    variables: z
      .record(z.string().regex(/^[a-z][A-Za-z0-9]*$/, 'must be a camelCase name'), variableSpecSchema)
      .refine((variables) => Object.keys(variables).length <= 6, 'at most 6 variables'),
    /** Limits the fit must meet. @default ASHRAE Guideline 14's for the interval */
    limits: z.strictObject({ cvRmsePct: z.number().positive(), nmbePct: z.number().positive() }).optional(),
  })
  .superRefine((spec, context) => {
    const names = Object.keys(spec.variables);
    const changePointForm = spec.form !== 'linear' && spec.form !== 'proportional';
    if (!changePointForm && spec.changePointOn !== undefined)
      context.addIssue({
        code: 'custom',
        path: ['changePointOn'],
        message: `a ${spec.form} model has no change point`,
      });
    if (changePointForm && (spec.changePointOn === undefined || !names.includes(spec.changePointOn)))
      context.addIssue({
        code: 'custom',
        path: ['changePointOn'],
        message: `a ${spec.form} model needs changePointOn, one of its variables (${names.join(', ') || 'none declared'})`,
      });
    if ('from' in spec.baselinePeriod && !(spec.baselinePeriod.from < spec.baselinePeriod.to))
      context.addIssue({
        code: 'custom',
        path: ['baselinePeriod', 'to'],
        message: `"${spec.baselinePeriod.to}" is not after "${spec.baselinePeriod.from}"`,
      });
  });
export type MvSpec = z.output<typeof mvSpecSchema>;

/** The sensor fields the variables read. */
export function variableFields(spec: Pick<MvSpec, 'variables'>): string[] {
  return [...new Set(Object.values(spec.variables).map((variable) => variable.field))];
}
