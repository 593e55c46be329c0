import { z } from 'zod';
import type { DataContract } from './contract.ts';

/** The published JSON Schema of a contract, for device developers and other languages. */
export function contractJsonSchema(contract: DataContract): Record<string, unknown> {
  return z.toJSONSchema(contract.schema, { target: 'draft-2020-12' });
}

export function contractJsonSchemaFileName(contract: DataContract): string {
  return `${contract.id}.v${contract.version}.schema.json`;
}
