import * as path from 'node:path';

/**
 * The fixed split of SKAB by file that the SKAB benches report on. Settings may be chosen on the
 * tuning part only; figures are reported on the held-out part, with the whole set only beside them.
 *
 * Tuning: the even-numbered experiments of `valve1/` (0, 2, …, 14) and `other/` (2, 4, …, 14) in
 * the shared subset, 15 files. Held out: every other file, the 15 odd-numbered ones of those
 * folders and any file of a folder not named here (`valve2/`, or recordings of your own), which no
 * setting was chosen on. `anomaly-free.csv` is training data for the model, in neither part.
 */
const TUNING_FOLDERS: Readonly<Record<string, readonly number[]>> = {
  valve1: [0, 2, 4, 6, 8, 10, 12, 14],
  other: [2, 4, 6, 8, 10, 12, 14],
};

export const SKAB_PARTS = ['tuning', 'held-out'] as const;
export type SkabPart = (typeof SKAB_PARTS)[number];

/** The part of the split a SKAB experiment file belongs to, by its folder and number. */
export function skabPartOf(file: string): SkabPart {
  const folder = path.basename(path.dirname(file)).toLowerCase();
  const number = /^(\d+)\.csv$/i.exec(path.basename(file))?.[1];
  const tuning = TUNING_FOLDERS[folder];
  return tuning !== undefined && number !== undefined && tuning.includes(Number(number))
    ? 'tuning'
    : 'held-out';
}
