import { userInfo } from 'node:os';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ROLES, type Actor } from '../../core/operators/actor.ts';

export function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

/** An ISO 8601 time flag, as epoch milliseconds. */
export function isoTime(name: string) {
  return (value: string): number => {
    const parsed = Date.parse(value);
    if (Number.isNaN(parsed))
      throw new InvalidArgumentError(
        `${name} must be an ISO 8601 time such as 2026-11-30T08:00Z, got "${value}"`,
      );
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

const ASSIGNABLE_ROLES = ROLES.filter((role) => role !== 'system');

function defaultUser(): string {
  const name = (process.env.AIOT_USER ?? userInfo().username).replace(/[^\p{L}\p{N}._@+-]/gu, '-');
  return name || 'developer';
}

/** `--user` and `--role`: who a decision is recorded as. A single developer gets every right by default. */
export function actorOptions(command: Command): Command {
  return command
    .addOption(new Option('--user <name>', 'who you are, recorded with the decision').default(defaultUser()))
    .addOption(
      new Option('--role <role>', 'the role you act in')
        .choices(ASSIGNABLE_ROLES)
        .default('reliability-engineer'),
    );
}

export function actorOf(options: { user: string; role: string }): Actor {
  return { name: options.user, role: options.role as Actor['role'] };
}
