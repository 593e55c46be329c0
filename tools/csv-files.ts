import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** Every `.csv` file under `dir`, its subfolders included, sorted. */
export function csvFilesUnder(dir: string): string[] {
  return readdirSync(dir)
    .flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return csvFilesUnder(full);
      return name.toLowerCase().endsWith('.csv') ? [full] : [];
    })
    .sort();
}
