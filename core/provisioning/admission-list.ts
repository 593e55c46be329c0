import { issuesText } from '../contracts/reasons.ts';
import { allowListEntrySchema, type AllowListEntry } from './claim.ts';

/** A serial number to admit: what `aiot devices allow` takes for one device. */
export type Admission = Pick<AllowListEntry, 'serialNumber' | 'thingName' | 'useCase' | 'site'>;

/** The columns of a factory's list, in any order; others are refused, so a typo is not ignored. */
export const ADMISSION_COLUMNS = ['serial', 'thing', 'use-case', 'site'] as const;
/** 100,000 devices at about 60 bytes a line. */
export const MAX_ADMISSION_LIST_BYTES = 8 * 1024 * 1024;
export const MAX_ADMISSIONS = 100_000;
/** Problems named before the rest are summed up: enough to fix a file, not a wall of text. */
const MAX_PROBLEMS_NAMED = 20;

/**
 * The serial numbers of a factory's list (CSV with a header of `serial,thing,use-case,site`), so
 * that admitting a fleet is one operator step, not one per device. Every line is checked before
 * any is admitted: a list with a bad line, a serial or thing twice, or too many lines is refused
 * whole, naming the lines.
 */
export function parseAdmissionList(text: string, source: string): Admission[] {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_ADMISSION_LIST_BYTES)
    throw new Error(`${source}: ${bytes} bytes, above the limit of ${MAX_ADMISSION_LIST_BYTES}`);
  const lines = text.split(/\r?\n/).map((line, index) => ({ line: line.trim(), number: index + 1 }));
  const content = lines.filter(({ line }) => line !== '' && !line.startsWith('#'));
  const [header, ...rows] = content;
  if (!header) throw new Error(`${source}: empty; it needs a header line "${ADMISSION_COLUMNS.join(',')}"`);
  const names = header.line.split(',').map((name) => name.trim().toLowerCase());
  const unknown = names.filter((name) => !(ADMISSION_COLUMNS as readonly string[]).includes(name));
  const missing = ADMISSION_COLUMNS.filter((name) => !names.includes(name));
  if (unknown.length > 0 || missing.length > 0 || new Set(names).size !== names.length)
    throw new Error(
      `${source} line ${header.number}: the header must name ${ADMISSION_COLUMNS.join(', ')} once each` +
        (unknown.length > 0 ? `; unknown: ${unknown.join(', ')}` : '') +
        (missing.length > 0 ? `; missing: ${missing.join(', ')}` : ''),
    );
  if (rows.length > MAX_ADMISSIONS)
    throw new Error(`${source}: ${rows.length} serial numbers, above the limit of ${MAX_ADMISSIONS} a list`);
  const problems: string[] = [];
  const admissions: Admission[] = [];
  const firstLineOf = { serial: new Map<string, number>(), thing: new Map<string, number>() };
  for (const { line, number } of rows) {
    const cells = line.split(',').map((cell) => cell.trim());
    if (cells.length !== names.length) {
      problems.push(`line ${number}: ${cells.length} fields, the header has ${names.length}`);
      continue;
    }
    const cell = (name: (typeof ADMISSION_COLUMNS)[number]) => cells[names.indexOf(name)] ?? '';
    const parsed = allowListEntrySchema
      .pick({ serialNumber: true, thingName: true, useCase: true, site: true })
      .safeParse({
        serialNumber: cell('serial'),
        thingName: cell('thing'),
        useCase: cell('use-case'),
        site: cell('site'),
      });
    if (!parsed.success) {
      problems.push(`line ${number}: ${issuesText(parsed.error.issues)}`);
      continue;
    }
    for (const [kind, value] of [
      ['serial', parsed.data.serialNumber],
      ['thing', parsed.data.thingName],
    ] as const) {
      const first = firstLineOf[kind].get(value);
      if (first !== undefined)
        problems.push(`line ${number}: ${kind} "${value}" is on line ${first} already`);
      else firstLineOf[kind].set(value, number);
    }
    admissions.push(parsed.data);
  }
  if (problems.length > 0) {
    const more = problems.length - MAX_PROBLEMS_NAMED;
    throw new Error(
      `${source}: nothing admitted, ${problems.length} line(s) to fix:\n  ${problems.slice(0, MAX_PROBLEMS_NAMED).join('\n  ')}` +
        (more > 0 ? `\n  … and ${more} more` : ''),
    );
  }
  return admissions;
}
