/**
 * What `npm test` runs for real besides Node.js: InfluxDB 1.x (`influxd`, for the InfluxDB store
 * adapters and the Grafana dashboard) and a Chromium that starts (the console's browser tests).
 * Missing ones are installed from Debian's packages where this process may (root with apt-get);
 * elsewhere it says in one line what to install, and stops the run.
 *
 * Run by `npm test` before anything else; `npm run test:prerequisites` runs it alone.
 */
import { spawnSync } from 'node:child_process';
import { DEBIAN_CHROMIUM, findChromium, tryChromium } from './chromium.ts';

interface Requirement {
  readonly name: string;
  /** Undefined when it is there and works, else why not. */
  readonly check: () => Promise<string | undefined>;
  /** The Debian package that provides it. */
  readonly debianPackage: string;
  readonly otherwise: string;
}

function commandWorks(command: string, args: readonly string[]): boolean {
  const run = spawnSync(command, args, { stdio: 'ignore' });
  return run.error === undefined && run.status === 0;
}

const REQUIREMENTS: readonly Requirement[] = [
  {
    name: 'influxd (InfluxDB 1.x)',
    check: () => {
      const binary = process.env.INFLUXD_PATH ?? 'influxd';
      return Promise.resolve(commandWorks(binary, ['version']) ? undefined : `${binary} is not installed`);
    },
    debianPackage: 'influxdb',
    otherwise:
      'install InfluxDB 1.x (Debian/Ubuntu: apt-get install influxdb) or set INFLUXD_PATH to its influxd',
  },
  {
    name: 'a Chromium that starts',
    check: async () => {
      try {
        await findChromium();
        return undefined;
      } catch (error) {
        return error instanceof Error ? error.message : String(error);
      }
    },
    debianPackage: 'chromium',
    otherwise:
      'install Chromium (Debian/Ubuntu: apt-get install chromium) or set CHROMIUM_PATH to one that starts',
  },
];

/** Whether this process may install Debian packages itself. */
function canInstallDebianPackages(): boolean {
  return process.getuid?.() === 0 && commandWorks('apt-get', ['--version']);
}

function aptInstall(packages: readonly string[]): void {
  console.log(
    `test prerequisites: installing ${packages.join(', ')} from Debian's packages (once; a minute or two)`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', '--no-install-recommends', ...packages],
  ]) {
    const run = spawnSync('apt-get', args, { stdio: ['ignore', 'ignore', 'inherit'], env });
    if (run.status !== 0) throw new Error(`apt-get ${args.join(' ')} failed (exit ${String(run.status)})`);
  }
}

async function main(): Promise<void> {
  const missing: { requirement: Requirement; why: string }[] = [];
  for (const requirement of REQUIREMENTS) {
    const why = await requirement.check();
    if (why !== undefined) missing.push({ requirement, why });
  }
  if (missing.length === 0) return;
  if (!canInstallDebianPackages()) {
    for (const { requirement, why } of missing) {
      console.error(
        `npm test needs ${requirement.name}: ${requirement.otherwise} (${why.split('\n')[0] ?? why})`,
      );
    }
    process.exit(1);
  }
  aptInstall(missing.map(({ requirement }) => requirement.debianPackage));
  for (const { requirement } of missing) {
    const why = await requirement.check();
    if (why !== undefined) {
      console.error(`npm test needs ${requirement.name}; it was installed and still fails: ${why}`);
      process.exit(1);
    }
  }
  // Say which browser won, so a failure later is not a mystery.
  if (missing.some(({ requirement }) => requirement.debianPackage === 'chromium')) {
    const why = await tryChromium(DEBIAN_CHROMIUM);
    console.log(`test prerequisites: ${DEBIAN_CHROMIUM} ${why === undefined ? 'starts' : `fails: ${why}`}`);
  }
}

await main();
