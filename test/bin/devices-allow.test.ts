import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { aiot } from '../support/cli.ts';

/** `aiot devices allow --local --from`: a factory's list admitted in one operator step. */
const dir = mkdtempSync(path.join(tmpdir(), 'aiot-allow-'));
const dataDir = path.join(dir, 'data');
const allowList = () =>
  existsSync(path.join(dataDir, 'provisioning', 'allow-list.json'))
    ? (JSON.parse(readFileSync(path.join(dataDir, 'provisioning', 'allow-list.json'), 'utf8')) as {
        serialNumber: string;
      }[])
    : [];
const list = (name: string, lines: string[]) => {
  const file = path.join(dir, name);
  writeFileSync(file, ['serial,thing,use-case,site', ...lines].join('\n'));
  return file;
};
const allow = (...args: string[]) => aiot(['devices', 'allow', '--local', '--data-dir', dataDir, ...args]);
const factory = Array.from(
  { length: 50 },
  (_, i) => `SN-${String(i).padStart(4, '0')},pump-${String(i).padStart(4, '0')},pump-maintenance,plant-a`,
);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('aiot devices allow --from', () => {
  it("GIVEN a factory's list with one bad line THEN nothing is admitted and the line is named", async () => {
    const run = await allow('--from', list('bad.csv', [...factory, 'SN-X,pump-x,pump-maintenance,Plant A']));

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('nothing admitted, 1 line(s) to fix');
    expect(run.stderr).toContain('line 52: ');
    expect(allowList()).toEqual([]);
  });

  it("GIVEN the factory's list THEN one command admits every serial, and the same list again is refused unless --again", async () => {
    const file = list('factory.csv', factory);

    const run = await allow('--from', file);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('50 serial numbers admitted');
    expect(allowList().map((entry) => entry.serialNumber)).toHaveLength(50);

    const again = await allow('--from', file);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain(
      '"SN-0000", "SN-0001", "SN-0002", "SN-0003", "SN-0004", 45 more are on the allow-list already',
    );
    expect((await allow('--from', file, '--again')).code).toBe(0);
    expect(allowList()).toHaveLength(50);
  });

  it('GIVEN --from and a single serial together, or neither THEN it says which to give', async () => {
    const both = await allow('--from', list('one.csv', factory.slice(0, 1)), '--serial', 'SN-9');
    expect(both.stderr).toContain('--from admits the serials of its file');
    const neither = await allow('--serial', 'SN-9');
    expect(neither.stderr).toContain('give --serial, --thing, --use-case and --site for one device');
    expect(neither.code).not.toBe(0);
  });
});
