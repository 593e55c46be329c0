#!/usr/bin/env -S npx tsx
import { Command } from 'commander';
import { ManifestError } from '../core/usecase/manifest.ts';
import { alertsCommand } from './cli/alerts.ts';
import { certsCommand } from './cli/certs.ts';
import { contractsCommand } from './cli/contracts.ts';
import { driftCommand } from './cli/drift.ts';
import { quarantineCommand } from './cli/quarantine.ts';
import { auditCommand } from './cli/audit.ts';
import { kpiCommand } from './cli/kpi.ts';
import { devicesCommand } from './cli/devices.ts';
import { localEdgeCommand } from './cli/edge.ts';
import { modelCommand } from './cli/model.ts';
import { exitQuietlyOnClosedPipe } from './cli/output.ts';
import { queryCommand } from './cli/query.ts';
import { startCommand } from './cli/start.ts';
import { usecaseCommand } from './cli/usecase.ts';

exitQuietlyOnClosedPipe();

const program = new Command('aiot')
  .description('aiot-pipeline: run the local pipeline, query its store, check contracts and use cases')
  .showHelpAfterError()
  .addCommand(startCommand())
  .addCommand(queryCommand())
  .addCommand(contractsCommand())
  .addCommand(usecaseCommand())
  .addCommand(certsCommand())
  .addCommand(localEdgeCommand())
  .addCommand(modelCommand())
  .addCommand(alertsCommand())
  .addCommand(devicesCommand())
  .addCommand(driftCommand())
  .addCommand(quarantineCommand())
  .addCommand(auditCommand())
  .addCommand(kpiCommand());

await program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(
    error instanceof ManifestError
      ? error.message
      : `aiot: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
});
