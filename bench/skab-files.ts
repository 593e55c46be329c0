import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { SKAB_COLUMNS } from '../edge/sources.ts';
import { parseCsvTable } from '../model/csv-table.ts';
import { csvFilesUnder } from '../tools/csv-files.ts';

/** The model's sensors: the contract's measure names, onto which SKAB's columns map. */
export const SKAB_MEASURES = Object.keys(SKAB_COLUMNS);
const COLUMNS = SKAB_MEASURES.map((measure) => SKAB_COLUMNS[measure] ?? measure);

/** The CSVs under the folders: `anomaly-free.csv` recordings (training data) and the experiments. */
export function skabFiles(dirs: readonly string[]): { normalFiles: string[]; experimentFiles: string[] } {
  const all = dirs.map((dir) => path.resolve(dir)).flatMap(csvFilesUnder);
  const normalFiles = all.filter((file) => path.basename(file).toLowerCase() === 'anomaly-free.csv');
  const experimentFiles = all.filter((file) => !normalFiles.includes(file));
  if (experimentFiles.length === 0) throw new Error(`no experiment CSV under ${dirs.join(', ')}`);
  return { normalFiles, experimentFiles };
}

/** A SKAB file's readings as `SKAB_MEASURES`, and its `anomaly` labels when it has that column. */
export function readSkabTable(file: string): { rows: number[][]; labels: boolean[] | undefined } {
  const text = readFileSync(file, 'utf8');
  const rows = parseCsvTable(text, file, { sensors: COLUMNS }).rows.map((row) => [...row]);
  const labels = text.slice(0, text.indexOf('\n')).includes('anomaly')
    ? parseCsvTable(text, file, { sensors: ['anomaly'] }).rows.map((row) => row[0] === 1)
    : undefined;
  return { rows, labels };
}
