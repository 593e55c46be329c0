#!/usr/bin/env -S npx tsx
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import Table from 'cli-table3';
import { Command, InvalidArgumentError, Option } from 'commander';
import { contractJsonSchema, contractJsonSchemaFileName } from '../core/contracts/json-schema.ts';
import { contracts, getContract } from '../core/contracts/registry.ts';
import { ManifestError } from '../core/usecase/manifest.ts';
import { SimulatedFleet } from '../local/fleet.ts';
import { queryLocalStore } from '../local/query-client.ts';
import { LocalRuntime, localRuleName } from '../local/runtime.ts';
import { StatusLine } from '../local/status-line.ts';
import { loadUseCases, USE_CASES_DIR } from '../usecases/catalog.ts';
import { LocalCertificateAuthority } from '../local/certs.ts';
import { edgeCommand } from '../edge/cli.ts';
import { parseCsvTable } from '../model/csv-table.ts';
import { invoke, loadModel } from '../model/invocations.ts';
import { startModelServer } from '../model/serve.ts';
import { runTraining } from '../model/train.ts';

const REPO_ROOT = path.resolve(import.meta.dirname, '..');
const CONTRACTS_DIR = path.join(REPO_ROOT, 'contracts');

function integer(name: string, min: number, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    }
    return parsed;
  };
}

function positiveNumber(name: string, max: number) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!(parsed > 0) || parsed > max)
      throw new InvalidArgumentError(`${name} must be above 0 and at most ${max}, got "${value}"`);
    return parsed;
  };
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}

function printTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): void {
  const colour = process.stdout.isTTY;
  const table = new Table({
    head: [...columns],
    style: colour ? { head: ['cyan'] } : { head: [], border: [] },
  });
  for (const row of rows) {
    table.push(columns.map((column) => cellText(row[column])));
  }
  console.log(table.toString());
}

const dataDirOption = () =>
  new Option('--data-dir <dir>', 'folder of the local runtime (certificates, store)').default('.aiot');

const program = new Command('aiot')
  .description('aiot-pipeline: run the local pipeline, query its store, check contracts and use cases')
  .showHelpAfterError();

program
  .command('start')
  .description(
    'start the local pipeline: MQTT broker with mutual TLS, ingest, DuckDB store and a simulated fleet',
  )
  .option('--devices <n>', 'simulated pumps (0 for none)', integer('--devices', 0, 10_000), 10)
  .option('--rate <hz>', 'readings per second per pump', positiveNumber('--rate', 1000), 1)
  .option('--duration <seconds>', 'stop by itself after this long', positiveNumber('--duration', 31_536_000))
  .option(
    '--mqtt-port <port>',
    'MQTT over TLS port (0: any free port)',
    integer('--mqtt-port', 0, 65_535),
    8883,
  )
  .option(
    '--api-port <port>',
    'query API port on 127.0.0.1 (0: any free port)',
    integer('--api-port', 0, 65_535),
    8884,
  )
  .option('--batch-size <n>', 'messages per ingest batch', integer('--batch-size', 1, 10_000), 100)
  .option(
    '--model-port <port>',
    'local model server port (0: any free port)',
    integer('--model-port', 0, 65_535),
    8885,
  )
  .option('--no-model', 'ingest only: no anomaly scoring')
  .addOption(dataDirOption())
  .action(
    async (options: {
      devices: number;
      rate: number;
      duration?: number;
      mqttPort: number;
      apiPort: number;
      batchSize: number;
      modelPort: number;
      model: boolean;
      dataDir: string;
    }) => {
      const useCases = loadUseCases();
      const runtime = await LocalRuntime.start({
        useCases,
        dataDir: options.dataDir,
        mqttPort: options.mqttPort,
        apiPort: options.apiPort,
        batchSize: options.batchSize,
        modelPort: options.model ? options.modelPort : false,
        onError: (error) => {
          console.error('\ningest or scoring failed:', error);
        },
      });
      const primary = useCases[0];
      const startedAt = Date.now();
      const status = new StatusLine(() => ({
        counters: runtime.counters,
        queueDepth: runtime.queue.depth,
        deadLetters: runtime.queue.deadLetterCount,
        devices: runtime.connectedDevices,
        scoring: runtime.scoring && {
          ...runtime.scoring.scoring.counters,
          latency: runtime.scoring.scoring.latency(),
        },
      }));
      let fleet: Promise<SimulatedFleet | undefined> = Promise.resolve(undefined);
      let stopping: Promise<void> | undefined;
      const stop = (why: string) =>
        (stopping ??= (async () => {
          status.stop();
          console.log(`stopping (${why}): waiting for in-flight messages, then flushing the queue...`);
          await (await fleet.catch(() => undefined))?.stop();
          await runtime.stop();
          const seconds = (Date.now() - startedAt) / 1000;
          const c = runtime.counters;
          printTable(
            [
              'received',
              'stored',
              'duplicates',
              'quarantined',
              'refused',
              'dead-letter',
              'seconds',
              'stored/s',
              'scored',
              'anomalies',
            ],
            [
              {
                received: c.received,
                stored: c.stored,
                duplicates: c.duplicates,
                quarantined: c.quarantined,
                refused: c.refused,
                'dead-letter': runtime.queue.deadLetterCount,
                seconds: seconds.toFixed(1),
                'stored/s': (c.stored / seconds).toFixed(1),
                scored: runtime.scoring?.scoring.counters.scored ?? '-',
                anomalies: runtime.scoring?.scoring.counters.anomalies ?? '-',
              },
            ],
          );
        })());
      // Registered before anything is announced, so an early Ctrl-C also stops cleanly.
      process.once('SIGINT', () => void stop('Ctrl-C'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
      console.log(`aiot local pipeline: use cases ${useCases.map((u) => u.id).join(', ')}`);
      console.log(
        `  MQTT (mutual TLS) ${runtime.mqttUrl}   CA ${path.relative(process.cwd(), runtime.ca.caCertFile)}`,
      );
      console.log(
        `  device certificates ${path.relative(process.cwd(), path.join(runtime.dataDir, 'certs', 'devices'))}/<thing>.crt|.key  (new ones: aiot certs device <thing>)`,
      );
      if (primary)
        console.log(
          `  topics dt/${primary.id}/<thing>/telemetry or $aws/rules/${localRuleName(primary.id)}/dt/${primary.id}/<thing>/telemetry`,
        );
      console.log(
        `  store ${path.relative(process.cwd(), runtime.store.file)}   query: npm run aiot -- query "SELECT count(*) FROM telemetry"${options.dataDir === '.aiot' ? '' : ` --data-dir ${options.dataDir}`}`,
      );
      if (runtime.scoring) {
        const { model, trained, server, useCase } = runtime.scoring;
        console.log(
          `  model ${model.modelVersion} (${trained ? 'trained now on simulated normal operation' : 'loaded'}) for ${useCase}, served on http://127.0.0.1:${server.port}; scores ${model.tracked.map((t) => t.sensor).join(', ')}`,
        );
      }
      console.log(
        `  ${options.devices} simulated pumps at ${options.rate} Hz${options.duration ? `, for ${options.duration} s` : ''}; Ctrl-C stops cleanly`,
      );
      if (primary) {
        fleet = SimulatedFleet.start({
          url: runtime.mqttUrl,
          ca: runtime.ca,
          useCase: primary,
          devices: options.devices,
          rate: options.rate,
          dataDir: path.join(runtime.dataDir, 'edge'),
          onLog: (level, message) => {
            if (level === 'warn') console.error(`\n${message}`);
          },
        });
        await fleet;
      }
      status.start();
      if (options.duration) {
        await new Promise((resolve) => setTimeout(resolve, (options.duration ?? 0) * 1000));
        await stop(`--duration ${options.duration}`);
      } else {
        await new Promise<void>((resolve) =>
          process.once('beforeExit', () => {
            resolve();
          }),
        );
      }
      await stopping;
    },
  );

program
  .command('query')
  .description(
    'run SQL on the local store (tables: telemetry, inferences, quarantine, device_health, dead_letter), running or not',
  )
  .argument('<sql>', 'the SQL statement')
  .addOption(new Option('--format <format>', 'output format').choices(['table', 'json']).default('table'))
  .addOption(dataDirOption())
  .action(async (sql: string, options: { format: 'table' | 'json'; dataDir: string }) => {
    const result = await queryLocalStore(path.resolve(options.dataDir), sql);
    if (options.format === 'json') console.log(JSON.stringify(result.rows, null, 2));
    else {
      printTable(result.columns, result.rows);
      console.log(`${result.rows.length} row${result.rows.length === 1 ? '' : 's'}`);
    }
  });

const contractsCommand = program.command('contracts').description('data contracts');
contractsCommand
  .command('list')
  .description('list the data contracts and their measures')
  .action(() => {
    const rows = [...contracts.values()].flatMap((contract) =>
      Object.entries(contract.measures).map(([name, spec]) => ({
        contract: contract.ref,
        measure: `measures.${name}`,
        unit: spec.unit,
        range: `${spec.min}..${spec.max}`,
        column: spec.column,
      })),
    );
    printTable(['contract', 'measure', 'unit', 'range', 'column'], rows);
  });
contractsCommand
  .command('example')
  .description('print one valid payload of a contract')
  .argument('<contract>', 'contract reference, e.g. pump.telemetry@1')
  .action((ref: string) => {
    console.log(JSON.stringify(getContract(ref).example({ timestamp: new Date().toISOString() }), null, 2));
  });
contractsCommand
  .command('generate')
  .description(
    `write the JSON Schema of every contract into ${path.relative(process.cwd(), CONTRACTS_DIR) || 'contracts'}/`,
  )
  .option('--check', 'fail if a checked-in schema differs from the code instead of writing it')
  .action((options: { check?: boolean }) => {
    mkdirSync(CONTRACTS_DIR, { recursive: true });
    const stale: string[] = [];
    for (const contract of contracts.values()) {
      const file = path.join(CONTRACTS_DIR, contractJsonSchemaFileName(contract));
      const text = `${JSON.stringify(contractJsonSchema(contract), null, 2)}\n`;
      let current = '';
      try {
        current = readFileSync(file, 'utf8');
      } catch {
        // missing counts as stale
      }
      if (current === text) continue;
      if (options.check) stale.push(path.relative(REPO_ROOT, file));
      else {
        writeFileSync(file, text);
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
      }
    }
    if (stale.length > 0) {
      console.error(
        `stale JSON Schema: ${stale.join(', ')}; run "npm run contracts:generate" and commit the result`,
      );
      process.exitCode = 1;
    } else if (options.check) console.log('contract schemas are up to date');
  });

program
  .command('usecase')
  .description('use-case manifests')
  .command('check')
  .description('validate every use-case manifest')
  .option('--dir <dir>', 'folder of manifests', USE_CASES_DIR)
  .action((options: { dir: string }) => {
    try {
      const manifests = loadUseCases(options.dir);
      printTable(
        ['use case', 'contract', 'KPIs', 'sensors', 'inferences'],
        manifests.map((m) => ({
          'use case': m.id,
          contract: m.contract,
          KPIs: m.kpis.map((k) => `${k.id} ${k.target.text}`).join('\n'),
          sensors: m.sensors.length,
          inferences: m.inferences.length,
        })),
      );
      console.log(`${manifests.length} manifest${manifests.length === 1 ? '' : 's'} valid`);
    } catch (error) {
      if (!(error instanceof ManifestError)) throw error;
      console.error(error.message);
      process.exitCode = 1;
    }
  });

program
  .command('certs')
  .description('local certificates')
  .command('device')
  .description('issue (or show) the local device certificate of a thing, for any MQTT client')
  .argument('<thing>', 'thing name; it becomes the certificate common name and must be the client id')
  .addOption(dataDirOption())
  .action(async (thing: string, options: { dataDir: string }) => {
    const ca = await LocalCertificateAuthority.openOrCreate(
      path.join(path.resolve(options.dataDir), 'certs'),
    );
    await ca.devicePair(thing);
    const rel = (file: string) => path.relative(process.cwd(), file);
    console.log(`CA          ${rel(ca.caCertFile)}`);
    console.log(`certificate ${rel(ca.deviceCertFile(thing))}`);
    console.log(`key         ${rel(ca.deviceKeyFile(thing))}`);
    console.log(
      `\nfor example, with mosquitto_pub:\n  mosquitto_pub -h localhost -p 8883 --cafile ${rel(ca.caCertFile)} --cert ${rel(ca.deviceCertFile(thing))} --key ${rel(ca.deviceKeyFile(thing))} -i ${thing} -q 1 -t dt/pump-maintenance/${thing}/telemetry -m "$(npm run -s aiot -- contracts example pump.telemetry@1 | sed 's/pump-001/${thing}/')"`,
    );
  });

program.addCommand(
  edgeCommand('edge', async (options) => {
    // In the repository the agent talks to the local runtime: issue its certificate on first use.
    if (!options.cert && options.certsDir === '.aiot/certs') {
      const ca = await LocalCertificateAuthority.openOrCreate(path.resolve(options.certsDir));
      await ca.devicePair(options.thing);
    }
  }),
);

const modelCommand = program
  .command('model')
  .description('the anomaly model (the SageMaker container code, run here)');
modelCommand
  .command('train')
  .description('train from CSV files, as the container does (hyperparameters.json optional)')
  .requiredOption('--train <dir>', 'folder of CSV files (header row; , or ;)')
  .requiredOption('--model-dir <dir>', 'where to write model.json and training.json')
  .option('--hyperparameters <file>', 'SageMaker-style hyperparameters.json')
  .action((options: { train: string; modelDir: string; hyperparameters?: string }) => {
    const { report } = runTraining({
      trainDir: options.train,
      modelDir: options.modelDir,
      hyperparametersFile: options.hyperparameters ?? path.join(options.train, 'hyperparameters.json'),
    });
    console.log(JSON.stringify(report, null, 2));
  });
modelCommand
  .command('serve')
  .description('serve GET /ping and POST /invocations, as the container does')
  .requiredOption('--model-dir <dir>', 'folder holding model.json')
  .option('--port <port>', 'port (0: any free port)', integer('--port', 0, 65_535), 8080)
  .option('--host <host>', 'address to bind', '127.0.0.1')
  .action(async (options: { modelDir: string; port: number; host: string }) => {
    const model = loadModel(options.modelDir);
    const server = await startModelServer(model, { port: options.port, host: options.host });
    console.log(
      `serving model ${model.modelVersion} on http://${options.host}:${server.port} (Ctrl-C stops)`,
    );
    await new Promise<void>((resolve) =>
      process.once('SIGINT', () => {
        resolve();
      }),
    );
    await server.close();
  });
modelCommand
  .command('score')
  .description(
    'score the rows of a CSV file in order (one window), one line per row: score and anomalous 0/1',
  )
  .requiredOption('--model-dir <dir>', 'folder holding model.json')
  .requiredOption('--input <csv>', "CSV file with the model's sensor columns")
  .action((options: { modelDir: string; input: string }) => {
    const model = loadModel(options.modelDir);
    const table = parseCsvTable(readFileSync(options.input, 'utf8'), options.input, {
      sensors: model.tracked.map((t) => t.sensor),
    });
    const response = invoke(model, { sensors: table.sensors, rows: table.rows });
    console.log(response.results.map((r) => `${r.score.toFixed(6)},${r.anomalous ? 1 : 0}`).join('\n'));
  });

await program.parseAsync(process.argv).catch((error: unknown) => {
  console.error(
    error instanceof ManifestError
      ? error.message
      : `aiot: ${error instanceof Error ? error.message : String(error)}`,
  );
  process.exitCode = 1;
});
