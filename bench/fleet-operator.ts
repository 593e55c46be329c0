import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { aiot } from '../test/support/cli.ts';

/** The operator commands a fleet's admission took: all of them, and those naming one device. */
export interface OperatorSteps {
  commands: number;
  perDevice: number;
}

/**
 * The operator's work for a whole fleet, through the CLI as an operator runs it against the local
 * runtime in `runtimeDir`: a claim certificate (`aiot devices claim --local`), and the factory's
 * list of serial numbers admitted (`aiot devices allow --local --from`). Every command run is
 * counted, and those that name one device apart: that is the work that grows with the fleet.
 */
export async function admitFleetThroughCli(
  dir: string,
  runtimeDir: string,
  useCase: string,
  devices: number,
): Promise<{ claim: { cert: string; key: string }; serials: string[]; steps: OperatorSteps }> {
  const steps: OperatorSteps = { commands: 0, perDevice: 0 };
  const operator = async (args: string[]) => {
    const run = await aiot([...args, '--data-dir', runtimeDir]);
    if (run.code !== 0) throw new Error(`aiot ${args.join(' ')} failed: ${run.stderr}`);
    steps.commands += 1;
    if (args.includes('--serial') || args.includes('--thing')) steps.perDevice += 1;
  };
  const serials = Array.from({ length: devices }, (_, i) => `SN-${String(i + 1).padStart(6, '0')}`);
  const factoryList = path.join(dir, 'factory.csv');
  writeFileSync(
    factoryList,
    [
      'serial,thing,use-case,site',
      ...serials.map(
        (serial, i) => `${serial},pump-${String(i + 1).padStart(4, '0')},${useCase},plant-${(i % 4) + 1}`,
      ),
    ].join('\n'),
  );
  await operator(['devices', 'claim', '--local', 'factory', '--out', path.join(dir, 'claim')]);
  await operator(['devices', 'allow', '--local', '--from', factoryList]);
  const claim = {
    cert: readFileSync(path.join(dir, 'claim', 'claim.pem.crt'), 'utf8'),
    key: readFileSync(path.join(dir, 'claim', 'claim.private.pem.key'), 'utf8'),
  };
  return { claim, serials, steps };
}
