import { InvalidArgumentError, Option } from 'commander';

export function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

export function positiveNumber(name: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!(parsed > 0) || parsed > max)
      throw new InvalidArgumentError(`${name} must be above 0 and at most ${max}, got "${value}"`);
    return parsed;
  };
}

export const DEFAULT_DATA_DIR = '.aiot';

export const dataDirOption = () =>
  new Option('--data-dir <dir>', 'folder of the local runtime (certificates, store, queue)').default(
    DEFAULT_DATA_DIR,
  );

/** ` --data-dir <dir>` when it is not the default, for commands the CLI suggests. */
export function dataDirFlag(dataDir: string): string {
  return dataDir === DEFAULT_DATA_DIR ? '' : ` --data-dir ${dataDir}`;
}
