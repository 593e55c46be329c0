import { parse } from 'csv-parse/sync';
import type { SensorTable } from '../core/model/anomaly-model.ts';

export interface CsvTableOptions {
  /** Use exactly these columns, in this order. @default every numeric column */
  readonly sensors?: readonly string[];
  /** Leave these columns out (labels, ids). @default none */
  readonly exclude?: readonly string[];
}

function detectDelimiter(headerLine: string): ',' | ';' {
  return (headerLine.match(/;/g)?.length ?? 0) > (headerLine.match(/,/g)?.length ?? 0) ? ';' : ',';
}

/**
 * Reads a CSV with a header row, `,` or `;` separated, into a sensor table. A column is numeric
 * when every non-empty cell parses as a number; other columns (timestamps, names) are ignored.
 */
export function parseCsvTable(text: string, source: string, options: CsvTableOptions = {}): SensorTable {
  const firstLine = text.slice(0, text.indexOf('\n') >>> 0);
  const records: string[][] = parse(text, {
    delimiter: detectDelimiter(firstLine),
    skip_empty_lines: true,
    trim: true,
  });
  const [header, ...body] = records;
  if (!header || body.length === 0)
    throw new Error(`${source}: needs a header row and at least one data row`);
  const excluded = new Set(options.exclude ?? []);
  const isNumeric = (index: number) =>
    body.every((row) => {
      const cell = row[index] ?? '';
      return cell !== '' && Number.isFinite(Number(cell));
    });
  let columns: number[];
  if (options.sensors) {
    columns = options.sensors.map((sensor) => {
      const index = header.indexOf(sensor);
      if (index < 0) throw new Error(`${source}: no column "${sensor}" (columns: ${header.join(', ')})`);
      if (!isNumeric(index)) throw new Error(`${source}: column "${sensor}" is not numeric in every row`);
      return index;
    });
  } else {
    columns = header
      .map((_, index) => index)
      .filter((index) => !excluded.has(header[index] ?? '') && isNumeric(index));
  }
  if (columns.length === 0)
    throw new Error(`${source}: no numeric sensor column (columns: ${header.join(', ')})`);
  return {
    sensors: columns.map((index) => header[index] ?? ''),
    rows: body.map((row) => columns.map((index) => Number(row[index]))),
  };
}
