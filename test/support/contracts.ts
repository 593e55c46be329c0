import { loadContracts } from '../../contracts/catalog.ts';

/** The repository's contract files, as `npm start` and `cdk synth` load them. */
export const repoContracts = loadContracts();
export const pumpTelemetryV1 = repoContracts.get('pump.telemetry@1');
export const pumpTelemetryV2 = repoContracts.get('pump.telemetry@2');
