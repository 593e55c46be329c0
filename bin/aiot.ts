#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { ManifestError } from '../core/usecase/manifest.ts';
import { exitQuietlyOnClosedPipe } from './cli/output.ts';

exitQuietlyOnClosedPipe();

/**
 * Each command group, loaded only when it runs: the cloud commands pull in the AWS SDK and the
 * local ones DuckDB, which every other command would otherwise pay for at start.
 */
const GROUPS: Readonly<Record<string, () => Promise<Command>>> = {
  start: async () => (await import('./cli/start.ts')).startCommand(),
  query: async () => (await import('./cli/query.ts')).queryCommand(),
  contracts: async () => (await import('./cli/contracts.ts')).contractsCommand(),
  usecase: async () => (await import('./cli/usecase.ts')).usecaseCommand(),
  certs: async () => (await import('./cli/certs.ts')).certsCommand(),
  edge: async () => (await import('./cli/edge.ts')).localEdgeCommand(),
  model: async () => (await import('./cli/model.ts')).modelCommand(),
  alerts: async () => (await import('./cli/alerts.ts')).alertsCommand(),
  devices: async () => (await import('./cli/devices.ts')).devicesCommand(),
  drift: async () => (await import('./cli/drift.ts')).driftCommand(),
  quarantine: async () => (await import('./cli/quarantine.ts')).quarantineCommand(),
  audit: async () => (await import('./cli/audit.ts')).auditCommand(),
  kpi: async () => (await import('./cli/kpi.ts')).kpiCommand(),
};

const program = new Command('aiot')
  .description('aiot-pipeline: run the local pipeline, query its store, check contracts and use cases')
  .showHelpAfterError();

try {
  const asked = process.argv[2];
  // One group when one is named; all of them for the overview, or to say what does not exist.
  const names = asked !== undefined && asked in GROUPS ? [asked] : Object.keys(GROUPS);
  for (const name of names) {
    const load = GROUPS[name];
    if (load) program.addCommand(await load());
  }
  await program.parseAsync(process.argv);
} catch (error: unknown) {
  console.error(
    error instanceof ManifestError
      ? error.message
      : `aiot: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
}
