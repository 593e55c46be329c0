import { z } from 'zod';
import type { DataContract } from './contract.ts';

/** The published JSON Schema of a contract, for device developers and other languages. */
export function contractJsonSchema(contract: DataContract): Record<string, unknown> {
  return z.toJSONSchema(contract.schema, { target: 'draft-2020-12' });
}

export function contractJsonSchemaFileName(contract: DataContract): string {
  return `${contract.id}.v${contract.version}.schema.json`;
}

const publishedSchema = z.object({
  properties: z.object({
    measures: z.object({
      properties: z.record(
        z.string(),
        z.object({ minimum: z.number(), maximum: z.number(), unit: z.string(), description: z.string() }),
      ),
      required: z.array(z.string()).default([]),
    }),
  }),
});

/**
 * The measures a published JSON Schema promised, to compare with the contract's code before the
 * file is replaced. Store columns are not in the schema: each measure keeps the column the code
 * gives it (a column change is a code review's to catch), and a measure the code no longer has
 * keeps its name.
 */
export function publishedMeasures(
  schema: unknown,
  current: Pick<DataContract, 'measures'>,
): DataContract['measures'] {
  const parsed = publishedSchema.parse(schema);
  const { properties, required } = parsed.properties.measures;
  return Object.fromEntries(
    Object.entries(properties).map(([name, spec]) => [
      name,
      {
        unit: spec.unit,
        min: spec.minimum,
        max: spec.maximum,
        description: spec.description,
        column: current.measures[name]?.column ?? name,
        ...(required.includes(name) ? {} : { optional: true }),
      },
    ]),
  );
}
